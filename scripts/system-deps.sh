#!/usr/bin/env bash
# Install the Debian packages gridmap needs, when missing. As root: installs them.
# Otherwise: prints the exact command to run and fails.
# Usage: scripts/system-deps.sh run|test|bench  (bench: ogr2ogr, a baseline of make bench)
set -euo pipefail
need=(postgresql-15-postgis-3 postgresql-client-15 python3-venv)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
[ "${PROXY:-}" = nginx ] && need+=(nginx-light)  # make run PROXY=nginx
case "${1:-run}" in
  # gdal-bin: GDAL reads our OGC API in the tests; nginx-light: the slow-client serving test
  test) need+=(chromium fonts-noto-cjk gdal-bin nginx-light) ;;
  bench) need+=(gdal-bin) ;;
esac
missing=()
for pkg in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "gridmap needs these Debian packages: ${missing[*]}" >&2
  echo "run as root:  $cmd" >&2
  exit 1
fi
echo "installing ${missing[*]} ..."
bash -c "$cmd" >/tmp/gridmap-apt.log 2>&1 || { tail -30 /tmp/gridmap-apt.log >&2; exit 1; }
