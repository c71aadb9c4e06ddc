#!/usr/bin/env bash
# The test suite drives real peers: curl (the TLS suites call the listeners with and without a
# client certificate), promtool (Prometheus rule tests and metric lint), nginx
# (the auth_request gateway e2e suite runs docker/nginx/nginx.conf), chromium (the operator
# console suite drives it headless through playwright-core; no browser is ever downloaded),
# protoc with the well-known types (the reflection descriptor set must match the .proto files),
# and Python's grpcio and protobuf run by /usr/bin/python3 (a reflection client nobody here
# wrote: Debian's Python packages load only with Debian's interpreter).
# Installs what is missing from Debian's packages when it can (root + apt), otherwise says what
# to install. Idempotent and quiet when everything is present.
set -euo pipefail
missing=()
need() { # need PACKAGE CHECK...
  local package=$1
  shift
  "$@" >/dev/null 2>&1 || missing+=("$package")
}
need prometheus command -v promtool
need nginx command -v nginx
need curl command -v curl
need chromium command -v chromium
need protobuf-compiler command -v protoc
need libprotobuf-dev test -f /usr/include/google/protobuf/timestamp.proto
need python3-grpcio /usr/bin/python3 -c 'import grpc'
need python3-protobuf /usr/bin/python3 -c 'import google.protobuf.descriptor_pool'
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing test tools: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts packaged daemons on install (nginx on :80, prometheus on :9090); the tests
  # start their own. Stop exactly the daemons this script just installed, via their services or
  # the pid file the package's own instance wrote.
  for svc in "${missing[@]}"; do
    case "$svc" in prometheus | nginx) ;; *) continue ;; esac
    service "$svc" stop >/dev/null 2>&1 || true
    for pidfile in "/run/$svc.pid" "/var/run/$svc.pid"; do
      [ -s "$pidfile" ] && kill "$(cat "$pidfile")" >/dev/null 2>&1 || true
    done
  done
  exit 0
fi
echo "missing test tools; install the Debian packages: ${missing[*]}" >&2
exit 1
