#!/usr/bin/env bash
# The test suite drives real peers: promtool (Prometheus rule tests and metric lint) and nginx
# (the auth_request gateway e2e suite runs docker/nginx/nginx.conf) and chromium (the operator
# console suite drives it headless through playwright-core; no browser is ever downloaded).
# Installs what is missing from Debian's packages when it can (root + apt), otherwise says what
# to install. Idempotent and quiet when everything is present.
set -euo pipefail
declare -A package_for=([promtool]=prometheus [nginx]=nginx [chromium]=chromium)
missing=()
for tool in "${!package_for[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${package_for[$tool]}")
done
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
    service "$svc" stop >/dev/null 2>&1 || true
    for pidfile in "/run/$svc.pid" "/var/run/$svc.pid"; do
      [ -s "$pidfile" ] && kill "$(cat "$pidfile")" >/dev/null 2>&1 || true
    done
  done
  exit 0
fi
echo "missing test tools; install the Debian packages: ${missing[*]}" >&2
exit 1
