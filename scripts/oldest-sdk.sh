#!/usr/bin/env bash
# Runs the store tests that exercise the AWS SDK against the oldest releases package.json accepts: the floor of the
# @aws-sdk/client-s3 peer dependency and of the @aws-sdk/crc64-nvme dependency. The regular suite runs against the
# newest (the devDependency); this one proves the floors.
#
#   scripts/oldest-sdk.sh [TEST...]     default: the tests below, about a minute and a half on two cores
#
# The sources and tests are copied into a temporary directory, the two packages pinned there to their floors and
# installed, and the tests run against the local store (scripts/local-store.sh: started and stopped around them,
# or the store S3_ENDPOINT names when it is set). Exits non-zero when a test fails or a floor was not installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

# Every request type (Create, UploadPart, PutObject, Complete, Abort, ListParts, ListMultipartUploads, HeadObject),
# the wire path (the client's signer and request handler), each checksum algorithm and type (moto serves those
# Swift cannot), retries and clean-up.
tests=(
  test/sizes-round-trip-byte-identical.ts
  test/parts-are-signed-and-sent-by-the-clients-own-signer.ts
  test/parts-carry-checksums-as-plain-requests.ts
  test/complete-carries-the-checksums-the-store-acknowledged.ts
  test/whole-object-checksums-are-checked-against-the-store.ts
  test/unit-checksums-match-reference-values.ts
  test/resume-after-crash-uploads-only-missing-parts.ts
  test/stale-uploads-are-listed-and-aborted.ts
  test/transient-faults-are-retried.ts
  test/permanent-errors-fail-fast-and-abort.ts
  test/source-error-aborts-upload.ts
  test/destroy-mid-upload-aborts-upload.ts
  test/errors-and-events-hold-no-secrets.ts
)
[ $# -gt 0 ] && tests=("$@")

# `^3.729.0` → 3.729.0
floor() { node -p "require('$root/package.json').$1['$2'].replace(/^[^0-9]*/, '')"; }
client=$(floor peerDependencies @aws-sdk/client-s3)
crc=$(floor dependencies @aws-sdk/crc64-nvme)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -C "$root" -cf - lib test scripts tsconfig.json package.json package-lock.json | tar -C "$work" -xf -
cd "$work"
# lib-storage's peer dependency asks for the newest client; only the benchmark uses it.
npm pkg delete devDependencies.@aws-sdk/lib-storage
npm pkg set "devDependencies.@aws-sdk/client-s3=$client" "dependencies.@aws-sdk/crc64-nvme=$crc"
echo "oldest-sdk: installing @aws-sdk/client-s3@$client and @aws-sdk/crc64-nvme@$crc"
npm install --no-audit --no-fund --loglevel=error

for pkg in "@aws-sdk/client-s3 $client" "@aws-sdk/crc64-nvme $crc"; do
  set -- $pkg
  installed=$(node -p "require('$1/package.json').version")
  if [ "$installed" != "$2" ]; then
    echo "oldest-sdk: $1 is $installed, not $2" >&2
    exit 1
  fi
done

log=$work/tap.log
status=0
scripts/local-store.sh run -- npx tap --disable-coverage --reporter=tap "${tests[@]}" >"$log" 2>&1 || status=$?
grep -E '^(not )?ok [0-9]+ - ' "$log" || true
if [ "$status" -ne 0 ]; then
  grep -E -A25 '^\s*not ok ' "$log" | head -n 200
  tail -n 20 "$log"
fi
echo "oldest-sdk: $(grep -E '^# \{ total: ' "$log" | tail -n 1 | sed 's/^# //') with @aws-sdk/client-s3@$client"
exit "$status"
