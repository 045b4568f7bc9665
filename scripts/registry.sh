#!/usr/bin/env bash
# A real OCI registry on loopback, for offline workshops and the tests (Debian's docker-registry),
# seeded with boxlab's three-layer busybox image by skopeo (an independent client).
#
#   scripts/registry.sh start [PORT] [DIR]   start it (default 127.0.0.1:5000, /var/cache/boxlab/registry) and seed it
#   scripts/registry.sh stop  [PORT]         stop the one this script started on PORT
#
# Then: npm run lesson 11 -- --registry 127.0.0.1:PORT
#   or: boxlab fetch 127.0.0.1:PORT/boxlab/busybox:layers --plain-http
set -euo pipefail
cd "$(dirname "$0")/.."
verb=${1:-}
port=${2:-5000}
dir=${3:-/var/cache/boxlab/registry}
run=/run/boxlab
pidfile="$run/registry-$port.pid"
image=boxlab.local/busybox:layers
store=${BOXLAB_CACHE_DIR:-/var/cache/boxlab}/images

die() { echo "registry: $*" >&2; exit 1; }
[[ $port =~ ^[0-9]+$ ]] || die "PORT is a number (got '$port')"

case "$verb" in
start)
  command -v docker-registry >/dev/null || die "docker-registry is not installed: bash scripts/provision.sh"
  command -v skopeo >/dev/null || die "skopeo is not installed: bash scripts/provision.sh"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then die "already running on 127.0.0.1:$port (pid $(cat "$pidfile"))"; fi
  mkdir -p "$dir" "$run"
  cat >"$dir/config.yml" <<EOF
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $dir/data }, delete: { enabled: true } }
http: { addr: 127.0.0.1:$port }
EOF
  setsid docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  for _ in $(seq 50); do
    curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
    kill -0 "$(cat "$pidfile")" 2>/dev/null || { cat "$dir/registry.log" >&2; rm -f "$pidfile"; die "docker-registry exited"; }
    sleep 0.1
  done
  # The image is built from the host's busybox, offline, then copied by skopeo.
  node bin/boxlab.js fetch --busybox --quiet >/dev/null
  skopeo copy --quiet --dest-tls-verify=false "oci:$store:$image" "docker://127.0.0.1:$port/boxlab/busybox:layers"
  echo "127.0.0.1:$port"
  ;;
stop)
  [ -f "$pidfile" ] || die "none started on port $port"
  pid=$(cat "$pidfile")
  # Only the process this script started, by its PID, and only if it is still docker-registry.
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = docker-registry ]; then kill "$pid"; fi
  rm -f "$pidfile"
  ;;
*)
  die "usage: scripts/registry.sh start [PORT] [DIR] | stop [PORT]"
  ;;
esac
