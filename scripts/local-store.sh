#!/usr/bin/env bash
# A local S3-compatible store for the tests, the demo and the benchmark, on loopback, its data in a temporary
# directory. S3_STORE picks which one (default swift):
#
#   swift   OpenStack Swift with its s3api middleware (Debian: swift-proxy swift-account swift-container
#           swift-object python3-swift)
#   ceph    Ceph RGW, one monitor and one in-memory OSD, no cephx (Debian: radosgw ceph-mon ceph-osd ceph-common)
#   moto    moto's S3 server (`python3 -m moto.server`; from PyPI, `pip install 'moto[server]'`)
#
#   scripts/local-store.sh run -- CMD...   start the store, run CMD with S3_* set, stop the store
#   scripts/local-store.sh start           start it and print `export` lines for the environment
#   scripts/local-store.sh stop            stop the one `start` left running
#
# The environment it sets: S3_STORE, S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY,
# S3_SECOND_ACCESS_KEY_ID and S3_SECOND_SECRET_ACCESS_KEY (a second key of the same account, whose secret holds
# + / =), S3_FORCE_PATH_STYLE.
#
# When S3_ENDPOINT is already set, `run` uses that store as it is and starts nothing,
# so the same suite runs against any S3-compatible endpoint (set S3_STORE too if it is one of the three).
#
# Installing Debian's packages needs root (apt-get); everything else lives in a temporary directory.
set -euo pipefail

STORE="${S3_STORE:-swift}"
STATE_FILE="${S3_SINK_STORE_STATE:-${TMPDIR:-/tmp}/s3-sink-local-store.env}"
# Debian's own interpreter for Swift: a python3 earlier on PATH (pyenv, venv) lacks the swift module.
PY=/usr/bin/python3

log() { printf 'local-store: %s\n' "$*" >&2; }

# install_debian WHAT PACKAGE... — installs the packages unless every one of them is installed.
install_debian() {
  local what=$1
  shift
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" != 0 ]; then
    log "$what is not installed and installing it needs root:"
    log "  apt-get install ${missing[*]}"
    exit 1
  fi
  log "installing $what from Debian (${missing[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for_http URL TRIES — until the URL answers any HTTP status (0.2 s between tries).
wait_for_http() {
  local url=$1 tries=$2
  for _ in $(seq 1 "$tries"); do
    if "$PY" - "$url" <<'PY' 2>/dev/null; then return 0; fi
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=1).read()
except urllib.error.HTTPError:
    pass
PY
    sleep 0.2
  done
  return 1
}

# fail_start NAME DIR PID... — the store did not come up: show its logs, stop what was started, fail.
fail_start() {
  local name=$1 dir=$2
  shift 2
  log "$name did not start; its logs:"
  tail -n 20 "$dir"/log/*.log >&2 || true
  kill "$@" 2>/dev/null || true
  rm -rf "$dir"
  exit 1
}

# write_state STORE DIR PIDS ENDPOINT ACCESS SECRET SECOND_ACCESS SECOND_SECRET
write_state() {
  cat >"$STATE_FILE" <<EOF
export S3_STORE=$1
export S3_ENDPOINT=$4
export S3_REGION=us-east-1
export S3_ACCESS_KEY_ID='$5'
export S3_SECRET_ACCESS_KEY='$6'
export S3_SECOND_ACCESS_KEY_ID='$7'
export S3_SECOND_SECRET_ACCESS_KEY='$8'
export S3_FORCE_PATH_STYLE=1
export S3_SINK_STORE_DIR=$2
export S3_SINK_STORE_PIDS="$3"
EOF
}

# The second key's secret holds the characters signing must get right (+ / =): the tests sign with it, and
# switch to it mid-upload as a rotating credentials provider does.
SECOND_SECRET='s3+sink/rotated=key'

# ---- OpenStack Swift + s3api ----------------------------------------------------------------------------------

swift_configs() {
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
user_test_rotated = $SECOND_SECRET .admin
EOF
}

start_swift() {
  install_debian "OpenStack Swift" swift-proxy swift-account swift-container swift-object python3-swift
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/s3-sink-swift.XXXXXX")
  local proxy_port account_port container_port object_port
  proxy_port=$(free_port); account_port=$(free_port); container_port=$(free_port); object_port=$(free_port)
  swift_configs "$dir" "$proxy_port" "$account_port" "$container_port" "$object_port"

  local pids=()
  for name in account container object proxy; do
    "$PY" "/usr/bin/swift-$name-server" "$dir/$name-server.conf" >"$dir/log/$name.log" 2>&1 &
    pids+=($!)
  done

  local endpoint="http://127.0.0.1:$proxy_port"
  # The proxy's healthcheck answers before the servers behind it listen; a request that reaches the proxy first
  # gets 503 ("Please reduce your request rate"). Each server answers any HTTP request once it listens.
  for port in "$account_port" "$container_port" "$object_port"; do
    wait_for_http "http://127.0.0.1:$port/" 150 || fail_start Swift "$dir" "${pids[@]}"
  done
  wait_for_http "$endpoint/healthcheck" 150 || fail_start Swift "$dir" "${pids[@]}"
  write_state swift "$dir" "${pids[*]}" "$endpoint" test:tester testing test:rotated "$SECOND_SECRET"
  log "Swift s3api listening at $endpoint (data in $dir)"
}

# ---- Ceph RGW -------------------------------------------------------------------------------------------------

ceph_config() {
  local dir=$1 mon_port=$2 rgw_port=$3 fsid=$4
  cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
mon initial members = a
public addr = 127.0.0.1
# No cephx: one machine, loopback only. Without crc among the client modes RGW never gets past authenticating to
# the monitor (get_initial_auth_request returned -13, every 3 s), though the ceph command and the OSD do.
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc secure
keyring = /dev/null
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
# One OSD: every pool keeps one copy. RGW makes its pools as it needs them (7 after the suite), each with the
# default 32 PGs unless told: 224, close to one OSD's limit of 250 (mon max pg per osd). 8 a pool leaves room.
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon warn on pool no redundancy = false

[mon]
mon data = $dir/mon

[osd]
# In memory: nothing to format, and the data goes with the process.
osd objectstore = memstore
osd data = $dir/osd\$id
memstore device bytes = 4294967296

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
# Deleted objects' data is freed by RGW's garbage collector, by default two hours later (and checked hourly):
# the suite writes and deletes gigabytes, which the in-memory OSD would hold all the while.
rgw gc obj min wait = 0
rgw gc processor period = 20
# RGW takes encryption headers only over TLS, as users reach it; this store speaks plain HTTP on loopback, so the
# requirement is lifted to test SSE-C as users meet it. (Over plain HTTP RGW refuses it: 400 InvalidRequest.)
rgw crypt require ssl = false
EOF
}

start_ceph() {
  install_debian "Ceph RGW" radosgw ceph-mon ceph-osd ceph-common
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/s3-sink-ceph.XXXXXX")
  mkdir -p "$dir/run" "$dir/log" "$dir/mon" "$dir/osd0"
  local mon_port rgw_port fsid
  mon_port=$(free_port); rgw_port=$(free_port); fsid=$("$PY" -c 'import uuid; print(uuid.uuid4())')
  ceph_config "$dir" "$mon_port" "$rgw_port" "$fsid"
  local conf=(-c "$dir/ceph.conf")

  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
  ceph-mon "${conf[@]}" --mkfs -i a --monmap "$dir/monmap" >"$dir/log/mkfs.log" 2>&1
  local pids=()
  # -f: in the foreground (of this background job), so that its pid is the daemon's.
  ceph-mon "${conf[@]}" -f -i a >>"$dir/log/daemons.log" 2>&1 &
  pids+=($!)
  local osd
  osd=$(ceph "${conf[@]}" --connect-timeout 30 osd create 2>>"$dir/log/daemons.log") \
    || fail_start "Ceph's monitor" "$dir" "${pids[@]}"
  ceph-osd "${conf[@]}" -i "$osd" --mkfs >>"$dir/log/mkfs.log" 2>&1
  ceph-osd "${conf[@]}" -f -i "$osd" >>"$dir/log/daemons.log" 2>&1 &
  pids+=($!)
  radosgw "${conf[@]}" -f -n client.rgw >>"$dir/log/daemons.log" 2>&1 &
  pids+=($!)

  local endpoint="http://127.0.0.1:$rgw_port"
  # RGW answers once the OSD is up and its pools are made: 5 to 10 s here.
  wait_for_http "$endpoint/" 300 || fail_start "Ceph RGW" "$dir" "${pids[@]}"
  radosgw-admin "${conf[@]}" user create --uid tester --display-name tester \
    --access-key tester --secret-key testing >/dev/null 2>>"$dir/log/daemons.log"
  radosgw-admin "${conf[@]}" key create --uid tester --key-type s3 \
    --access-key rotated --secret-key "$SECOND_SECRET" >/dev/null 2>>"$dir/log/daemons.log"
  write_state ceph "$dir" "${pids[*]}" "$endpoint" tester testing rotated "$SECOND_SECRET"
  log "Ceph RGW listening at $endpoint (data in memory, logs in $dir)"
}

# ---- moto -----------------------------------------------------------------------------------------------------

start_moto() {
  # moto is not packaged by Debian: the python3 on PATH must have it.
  if ! python3 -c 'import moto.server' 2>/dev/null; then
    log "moto is not installed in $(command -v python3 || echo python3): pip install 'moto[server]'"
    exit 1
  fi
  local dir port
  dir=$(mktemp -d "${TMPDIR:-/tmp}/s3-sink-moto.XXXXXX")
  mkdir -p "$dir/log"
  port=$(free_port)
  python3 -m moto.server -H 127.0.0.1 -p "$port" >"$dir/log/moto.log" 2>&1 &
  local pid=$!
  local endpoint="http://127.0.0.1:$port"
  wait_for_http "$endpoint/" 150 || fail_start moto "$dir" "$pid"
  # moto checks no signature: any key is taken.
  write_state moto "$dir" "$pid" "$endpoint" moto moto moto-rotated "$SECOND_SECRET"
  log "moto listening at $endpoint"
}

# ---- start, stop, run -----------------------------------------------------------------------------------------

start_store() {
  case "$STORE" in
    swift) start_swift ;;
    ceph) start_ceph ;;
    moto) start_moto ;;
    *)
      log "S3_STORE must be swift, ceph or moto, got '$STORE'"
      exit 2
      ;;
  esac
}

stop_store() {
  [ -f "$STATE_FILE" ] || return 0
  # shellcheck disable=SC1090
  . "$STATE_FILE"
  # shellcheck disable=SC2086
  kill ${S3_SINK_STORE_PIDS:-} 2>/dev/null || true
  # Ceph's daemons take a moment to stop: up to 5 s before they are killed.
  for _ in $(seq 1 25); do
    local alive=
    for pid in ${S3_SINK_STORE_PIDS:-}; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && break
    sleep 0.2
  done
  # shellcheck disable=SC2086
  kill -9 ${S3_SINK_STORE_PIDS:-} 2>/dev/null || true
  case "${S3_SINK_STORE_DIR:-}" in
    */s3-sink-swift.* | */s3-sink-ceph.* | */s3-sink-moto.*) rm -rf "$S3_SINK_STORE_DIR" ;;
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
    log "usage: [S3_STORE=swift|ceph|moto] $0 start | stop | run -- COMMAND..."
    exit 2
    ;;
esac
