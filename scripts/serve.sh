#!/usr/bin/env bash
# Serve gridmap with gunicorn on $HOST:$PORT (make run). Started as root, the master loads
# the app (reading var/'s 0600 secrets), then every worker drops to the unprivileged system
# user $GRIDMAP_SERVER_USER (default gridmap-web, created when missing): code that runs on a
# request never runs as root, so a future hole in a view cannot act as root either.
# Beside the server, `gridmap escalate` runs every $GRIDMAP_ESCALATE_SECONDS (300; 0 = never),
# so a fresh install raises overdue issues a level without cron (小事不出村: late means up).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
args=(--bind "$HOST:$PORT" --workers "${GRIDMAP_WORKERS:-2}" --threads 4 --access-logfile -
      --graceful-timeout 5 --no-control-socket)

if [ "$(id -u)" -eq 0 ]; then
  user=${GRIDMAP_SERVER_USER:-gridmap-web}
  if [ "$user" = root ]; then
    echo "GRIDMAP_SERVER_USER=root: refusing to serve requests as root; name an unprivileged user" >&2
    exit 1
  fi
  if ! id -u "$user" >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$user"
  fi
  # The workers need to run the venv's interpreter and read the code, templates and static
  # files; a checkout under a 0700 home (or a venv made from pyenv's python there) is closed
  # to them. Say so now rather than fail on the first request.
  if ! runuser -u "$user" -- "$BIN/python" -c \
      'import flask, folium, gridmap.web; open("static/app.css").close(); open("gridmap/web/templates/base.html").close()' \
      >/dev/null 2>&1; then
    echo "user $user cannot run $PWD/$BIN/python or read this checkout." >&2
    echo "  Put the checkout where others may read it (e.g. /srv/gridmap), and make the venv" >&2
    echo "  from a system python: make clean && make run PYTHON=/usr/bin/python3" >&2
    exit 1
  fi
  group=$(id -gn "$user")
  args+=(--user "$user" --group "$group" --preload)
fi
every=${GRIDMAP_ESCALATE_SECONDS:-300}
if [ "$every" -le 0 ]; then
  exec "$BIN/gunicorn" "${args[@]}" 'gridmap:create_app()'
fi
"$BIN/gunicorn" "${args[@]}" 'gridmap:create_app()' &
server=$!
( while sleep "$every"; do "$BIN/gridmap" escalate || echo "gridmap escalate failed" >&2; done ) &
loop=$!
stop() { kill -TERM "$server" 2>/dev/null || true; }
trap stop TERM INT
status=0
while kill -0 "$server" 2>/dev/null; do  # a trapped signal ends a wait early: wait again
  if wait "$server"; then status=0; else status=$?; fi
done
kill "$loop" 2>/dev/null || true
exit "$status"
