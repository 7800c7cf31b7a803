#!/usr/bin/env bash
# Serve gridmap with gunicorn on $HOST:$PORT (make run). Started as root, the master loads
# the app (reading var/'s 0600 secrets), then every worker drops to the unprivileged system
# user $GRIDMAP_SERVER_USER (default gridmap-web, created when missing): code that runs on a
# request never runs as root, so a future hole in a view cannot act as root either.
# Beside the server, `gridmap escalate` runs every $GRIDMAP_ESCALATE_SECONDS (300; 0 = never),
# so a fresh install raises overdue issues a level without cron (小事不出村: late means up).
#
# PROXY=nginx puts nginx in front (scripts/proxy.py writes var/nginx/nginx.conf): it listens on
# $HOST:$PORT, reads each request whole with short timeouts, so slow or half-open clients never
# hold a gunicorn thread; gunicorn then listens on a free 127.0.0.1 port only nginx uses.
# GRIDMAP_TLS=1 (implies PROXY=nginx) serves HTTPS with GRIDMAP_TLS_CERT/GRIDMAP_TLS_KEY, or a
# self-signed certificate made once in var/tls/ (README: trusting it on a tablet).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
PROXY=${PROXY:-}
[ "${GRIDMAP_TLS:-0}" = 1 ] && PROXY=nginx
bind="$HOST:$PORT"
if [ -n "$PROXY" ]; then
  if [ "$PROXY" != nginx ]; then echo "PROXY=$PROXY: the one proxy known is nginx" >&2; exit 1; fi
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
  if [ ! -x "$NGINX" ]; then
    echo "PROXY=nginx needs nginx: run make run PROXY=nginx as root once (scripts/system-deps.sh installs nginx-light)" >&2
    exit 1
  fi
  upstream=$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  bind="127.0.0.1:$upstream"
  export GRIDMAP_PROXY_HOPS=${GRIDMAP_PROXY_HOPS:-1}
fi
# Threads per worker: a request spends most of its time waiting for PostgreSQL (a tablet's
# visit ~8 ms of Python in ~60-100 ms), so a worker needs more threads than cores or requests
# queue inside it while the database has room (the 50-tablet bench row); the app sizes its
# database pool to the same number (GRIDMAP_THREADS).
export GRIDMAP_THREADS=${GRIDMAP_THREADS:-8}
args=(--bind "$bind" --workers "${GRIDMAP_WORKERS:-2}" --threads "$GRIDMAP_THREADS"
      --access-logfile - --graceful-timeout 5 --no-control-socket
      --config python:gridmap.web.serving)  # each worker fills its database pool first

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
proxy=""
if [ -n "$PROXY" ]; then
  tls=()
  if [ "${GRIDMAP_TLS:-0}" = 1 ]; then
    cert=${GRIDMAP_TLS_CERT:-var/tls/gridmap.crt} key=${GRIDMAP_TLS_KEY:-var/tls/gridmap.key}
    if [ ! -s "$cert" ] && [ -z "${GRIDMAP_TLS_CERT:-}" ]; then
      mkdir -p var/tls && chmod 700 var/tls
      names="DNS:localhost,IP:127.0.0.1"
      [ "$HOST" != 0.0.0.0 ] && [ "$HOST" != 127.0.0.1 ] && names="$names,IP:$HOST"
      for ip in $(hostname -I 2>/dev/null); do case "$ip" in *:*) ;; *) names="$names,IP:$ip" ;; esac; done
      openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=gridmap $(hostname)" \
        -addext "subjectAltName=$names" -keyout "$key" -out "$cert" 2>/dev/null
      chmod 600 "$key"
      echo "made a self-signed certificate for $names: $cert (README: trust it on a tablet)"
    fi
    tls=(--tls-cert "$cert" --tls-key "$key")
    export GRIDMAP_HTTPS=1
  fi
  conf=$("$BIN/python" scripts/proxy.py --host "$HOST" --port "$PORT" --upstream "$upstream" \
         --dir var/nginx ${user:+--user "$user"} "${tls[@]}")
  [ -n "${user:-}" ] && chown -R "$user" var/nginx/body var/nginx/proxy var/nginx/fastcgi var/nginx/uwsgi var/nginx/scgi
  "$NGINX" -t -q -e stderr -p var/nginx -c "$conf"
  "$NGINX" -e stderr -p var/nginx -c "$conf" &
  proxy=$!
  echo "nginx on $HOST:$PORT in front of gunicorn on $bind"
fi
every=${GRIDMAP_ESCALATE_SECONDS:-300}
if [ "$every" -le 0 ] && [ -z "$proxy" ]; then
  exec "$BIN/gunicorn" "${args[@]}" 'gridmap:create_app()'
fi
"$BIN/gunicorn" "${args[@]}" 'gridmap:create_app()' &
server=$!
loop=""
if [ "$every" -gt 0 ]; then
  ( while sleep "$every"; do "$BIN/gridmap" escalate || echo "gridmap escalate failed" >&2; done ) &
  loop=$!
fi
stop() { kill -TERM "$server" 2>/dev/null || true; }
trap stop TERM INT
status=0
while kill -0 "$server" 2>/dev/null; do  # a trapped signal ends a wait early: wait again
  if wait "$server"; then status=0; else status=$?; fi
done
[ -n "$loop" ] && kill "$loop" 2>/dev/null || true
if [ -n "$proxy" ]; then
  kill -QUIT "$proxy" 2>/dev/null || true  # graceful: finish what it is sending
  wait "$proxy" 2>/dev/null || true
fi
exit "$status"
