#!/usr/bin/env bash
# Runs a command with another Node.js line first on PATH, installed by scripts/runtime.sh from the npm registry.
#
#   scripts/with-node.sh 24 npm test                  the whole suite on the newest Node.js 24.x
#   scripts/with-node.sh 22 npm run test:stores       the store tests on 22.x
#   scripts/with-node.sh 24 scripts/local-store.sh run -- npx tap test/sizes-round-trip-byte-identical.ts
#
# Whatever the command starts runs on that Node: npm, tap and the command have `#!/usr/bin/env node`, and tap runs
# each test file with its own process.execPath.
set -euo pipefail
major=${1:?usage: scripts/with-node.sh MAJOR COMMAND...}
shift
node=$("$(dirname "$0")/runtime.sh" "node@$major")
PATH=$(dirname "$node"):$PATH
export PATH
echo "with-node: $(node --version) ($node)" >&2
exec "$@"
