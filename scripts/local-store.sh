#!/usr/bin/env bash
# A local S3-compatible store for the tests, the demo and the benchmark:
# OpenStack Swift with its s3api middleware, from Debian's packages, on loopback.
#
#   scripts/local-store.sh run -- CMD...   start the store, run CMD with S3_* set, stop the store
#   scripts/local-store.sh start           start it and print `export` lines for the environment
#   scripts/local-store.sh stop            stop the one `start` left running
#
# When S3_ENDPOINT is already set, `run` uses that store as it is and starts nothing,
# so the same suite runs against any S3-compatible endpoint.
#
# Installing needs root (apt-get); everything else lives in a temporary directory.
set -euo pipefail

STATE_FILE="${S3_SINK_STORE_STATE:-${TMPDIR:-/tmp}/s3-sink-local-store.env}"
PACKAGES=(swift-proxy swift-account swift-container swift-object python3-swift)
# Debian's own interpreter: a python3 earlier on PATH (pyenv, venv) lacks the swift module.
PY=/usr/bin/python3

log() { printf 'local-store: %s\n' "$*" >&2; }

install_swift() {
  if [ -x /usr/bin/swift-proxy-server ] && [ -x /usr/bin/swift-object-server ] \
    && [ -x /usr/bin/swift-ring-builder ]; then
    return
  fi
  if [ "$(id -u)" != 0 ]; then
    log "OpenStack Swift is not installed and installing it needs root:"
    log "  apt-get install ${PACKAGES[*]}"
    exit 1
  fi
  log "installing OpenStack Swift from Debian (about a minute)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >&2
}

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

write_configs() {
  local dir=$1 proxy_port=$2 account_port=$3 container_port=$4 object_port=$5
  mkdir -p "$dir/devices/d1" "$dir/run" "$dir/log"
  # One replica, one device: a store for one machine, not a cluster.
  for ring in account:"$account_port" container:"$container_port" object:"$object_port"; do
    local name=${ring%%:*} port=${ring##*:}
    swift-ring-builder "$dir/$name.builder" create 10 1 1 >/dev/null
    swift-ring-builder "$dir/$name.builder" add "r1z1-127.0.0.1:$port/d1" 1 >/dev/null
    swift-ring-builder "$dir/$name.builder" rebalance >/dev/null 2>&1 || true
  done

  local common="[DEFAULT]
bind_ip = 127.0.0.1
devices = $dir/devices
swift_dir = $dir
mount_check = false
workers = 0
log_facility = LOG_LOCAL0
log_level = WARNING
"
  for name in account container object; do
    local port_var="${name}_port"
    cat >"$dir/$name-server.conf" <<EOF
$common
bind_port = ${!port_var}

[pipeline:main]
pipeline = $name-server

[app:$name-server]
use = egg:swift#$name

[${name}-replicator]
[${name}-updater]
[${name}-auditor]
EOF
  done

  cat >"$dir/proxy-server.conf" <<EOF
$common
bind_port = $proxy_port

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:cache]
# tempauth needs the cache filter in the pipeline; no memcached has to run.
use = egg:swift#memcache
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:copy]
use = egg:swift#copy
[filter:dlo]
use = egg:swift#dlo

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
# S3 allows 10,000 parts; s3api and slo default to 1,000.
max_upload_part_num = 10000

[filter:slo]
use = egg:swift#slo
max_manifest_segments = 10000

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
# A second user of the same account, whose secret holds the characters signing must get right (+ / =):
# the tests sign with it, and switch to it mid-upload as a rotating credentials provider does.
user_test_rotated = s3+sink/rotated=key .admin
EOF
}

start_store() {
  install_swift
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/s3-sink-swift.XXXXXX")
  local proxy_port account_port container_port object_port
  proxy_port=$(free_port); account_port=$(free_port); container_port=$(free_port); object_port=$(free_port)
  write_configs "$dir" "$proxy_port" "$account_port" "$container_port" "$object_port"

  local pids=()
  for name in account container object proxy; do
    "$PY" "/usr/bin/swift-$name-server" "$dir/$name-server.conf" >"$dir/log/$name.log" 2>&1 &
    pids+=($!)
  done

  local endpoint="http://127.0.0.1:$proxy_port" ok=
  for _ in $(seq 1 150); do
    if "$PY" - "$endpoint" <<'PY' 2>/dev/null; then ok=1; break; fi
import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/healthcheck", timeout=1).read()
PY
    sleep 0.2
  done
  if [ -z "$ok" ]; then
    log "Swift did not start; its logs:"
    tail -n 20 "$dir"/log/*.log >&2 || true
    kill "${pids[@]}" 2>/dev/null || true
    exit 1
  fi

  cat >"$STATE_FILE" <<EOF
export S3_ENDPOINT=$endpoint
export S3_REGION=us-east-1
export S3_ACCESS_KEY_ID=test:tester
export S3_SECRET_ACCESS_KEY=testing
export S3_SECOND_ACCESS_KEY_ID=test:rotated
export S3_SECOND_SECRET_ACCESS_KEY='s3+sink/rotated=key'
export S3_FORCE_PATH_STYLE=1
export S3_SINK_STORE_DIR=$dir
export S3_SINK_STORE_PIDS="${pids[*]}"
EOF
  log "Swift s3api listening at $endpoint (data in $dir)"
}

stop_store() {
  [ -f "$STATE_FILE" ] || return 0
  # shellcheck disable=SC1090
  . "$STATE_FILE"
  # shellcheck disable=SC2086
  kill ${S3_SINK_STORE_PIDS:-} 2>/dev/null || true
  sleep 0.3
  # shellcheck disable=SC2086
  kill -9 ${S3_SINK_STORE_PIDS:-} 2>/dev/null || true
  case "${S3_SINK_STORE_DIR:-}" in
    */s3-sink-swift.*) rm -rf "$S3_SINK_STORE_DIR" ;;
  esac
  rm -f "$STATE_FILE"
}

case "${1:-}" in
  start)
    start_store
    cat "$STATE_FILE"
    ;;
  stop)
    stop_store
    ;;
  run)
    shift
    [ "${1:-}" = "--" ] && shift
    [ $# -gt 0 ] || { log "usage: $0 run -- COMMAND..."; exit 2; }
    if [ -n "${S3_ENDPOINT:-}" ]; then
      exec "$@"
    fi
    STATE_FILE=$(mktemp "${TMPDIR:-/tmp}/s3-sink-store-env.XXXXXX")
    trap stop_store EXIT
    trap 'exit 130' INT TERM
    start_store
    # shellcheck disable=SC1090
    . "$STATE_FILE"
    set +e
    "$@"
    status=$?
    set -e
    exit "$status"
    ;;
  *)
    log "usage: $0 start | stop | run -- COMMAND..."
    exit 2
    ;;
esac
