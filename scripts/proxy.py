"""Write the nginx configuration that `make run PROXY=nginx` serves with (standard library only).

    python scripts/proxy.py --host 127.0.0.1 --port 5000 --upstream 5001 --dir var/nginx [--user gridmap-web]
        [--tls-cert var/tls/cert.pem --tls-key var/tls/key.pem]

Why nginx in front of gunicorn: gunicorn gives a thread to each connection while it reads the
request, so a dozen clients that send their headers slowly (or never finish a body) hold
every thread and /healthz stops answering. nginx reads each request whole, with short header
and body timeouts, before it passes it on; gunicorn then only sees complete requests.
"""

from __future__ import annotations

import argparse
from pathlib import Path

CONFIG = """# Written by scripts/proxy.py for `make run PROXY=nginx`; regenerated on every start.
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log stderr warn;
{user}
events {{ worker_connections 1024; }}

http {{
    access_log off;  # gunicorn logs every request it answers
    server_tokens off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    # A slow or half-open client is dropped after these, and never holds an app thread.
    client_header_timeout 10s;
    client_body_timeout 15s;
    send_timeout 30s;
    keepalive_timeout 15s;
    reset_timedout_connection on;
    # The app's MAX_CONTENT_LENGTH (32 MiB), refused here, before the body travels on, in the
    # app's words (an app refusing mid-upload would reach the client as 502 Bad Gateway).
    client_max_body_size 32m;

    upstream gridmap {{
        server 127.0.0.1:{upstream};
        keepalive 8;
    }}

    server {{
        listen {host}:{port}{ssl};
{tls}
        error_page 413 @too_large;
        location @too_large {{
            default_type "text/plain; charset=utf-8";
            return 413 "提交的内容太大（上限 32 MB）。请缩小文件或分批上传后重试。\n";
        }}
        location / {{
            proxy_pass http://gridmap;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            # One hop: the app (GRIDMAP_PROXY_HOPS=1) trusts exactly this header.
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_request_buffering on;
            proxy_read_timeout 300s;
        }}
    }}
}}
"""
TLS = """        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:gridmap_tls:1m;"""


def write(directory: Path, host: str, port: int, upstream: int, user: str | None = None,
          cert: str | None = None, key: str | None = None) -> Path:
    """Write `directory`/nginx.conf (and its temp directories); return its path."""
    directory = directory.resolve()
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    config = CONFIG.format(
        dir=directory, host=host, port=port, upstream=upstream,
        user=f"user {user};" if user else "", ssl=" ssl" if cert else "",
        tls=TLS.format(cert=Path(cert).resolve(), key=Path(key).resolve()) if cert else "")
    path = directory / "nginx.conf"
    path.write_text(config, encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", type=int, required=True, help="gunicorn's 127.0.0.1 port")
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--user", help="the unprivileged user nginx's workers run as (as root)")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    args = parser.parse_args()
    print(write(args.dir, args.host, args.port, args.upstream, args.user, args.tls_cert,
                args.tls_key))


if __name__ == "__main__":
    main()
