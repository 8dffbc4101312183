#!/usr/bin/env bash
# The runtime suite: the files of test/runtimes/ run by each runtime given, against a local store started once
# around them all (scripts/local-store.sh; or the store S3_ENDPOINT names). tap runs only on Node, so each file is a
# plain program that prints `ok`/`not ok` lines and its counts (test/runtimes/fixtures/harness.mjs).
#
#   scripts/runtime-suite.sh bun deno          Bun 1.x and Deno 2.x, installed by scripts/runtime.sh
#   scripts/runtime-suite.sh node node@22      the node on PATH, and Node.js 22.x
#
# Needs the build (`npm run build`): the files import the package by its name, which resolves to dist/, and run
# dist/cli/s3-sink.js. Ends with one line, `N passed, N failed`, over every runtime and file; a file that exits
# non-zero without a failed check (it crashed, or hung past 5 minutes) counts as one failure. Exits non-zero when
# anything failed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# Runtimes up to a `--`; what follows it (a test runner's options, as .ci/run passes to every suite) is not ours.
runtimes=()
for arg in "$@"; do
  [ "$arg" = -- ] && break
  runtimes+=("$arg")
done
[ ${#runtimes[@]} -gt 0 ] || runtimes=(bun deno)
set -- "${runtimes[@]}"

if [ -z "${S3_ENDPOINT:-}" ]; then
  exec scripts/local-store.sh run -- "$0" "$@"
fi

passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for name in "$@"; do
  if ! binary=$(scripts/runtime.sh "$name"); then
    echo "!! $name: could not be installed"
    failed=$((failed + 1))
    continue
  fi
  run=("$binary")
  [ "$name" = deno ] && run+=(run -A)
  version=$("$binary" --version | head -n 1)
  runtime_passed=0
  runtime_failed=0
  started=$SECONDS
  for file in test/runtimes/*.mjs; do
    echo "# $name ($version): $file"
    timeout 300 "${run[@]}" "$file" >"$log" 2>&1
    status=$?
    cat "$log"
    ok=$(grep -cE '^ok [0-9]+ ' "$log")
    not_ok=$(grep -cE '^not ok [0-9]+ ' "$log")
    if [ "$status" -ne 0 ] && [ "$not_ok" -eq 0 ]; then
      echo "not ok - $file exited $status$([ "$status" -eq 124 ] && echo ' (timed out)')"
      not_ok=1
    fi
    runtime_passed=$((runtime_passed + ok))
    runtime_failed=$((runtime_failed + not_ok))
  done
  echo "== $name ($version): $runtime_passed passed, $runtime_failed failed, $((SECONDS - started)) s"
  passed=$((passed + runtime_passed))
  failed=$((failed + runtime_failed))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
