#!/usr/bin/env bash
# Make sure Redis answers at REDIS_URL (default redis://127.0.0.1:6379/0).
# Tries, in order: it is already up; start an installed redis-server; apt-get install it (as root).
set -euo pipefail
url="${REDIS_URL:-redis://127.0.0.1:6379/0}"
hostport="${url#*://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$host" ] && port=6379
ping() { python3 - "$host" "$port" <<'PY'
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1)
    s.sendall(b"PING\r\n"); ok = s.recv(16).startswith(b"+PONG"); s.close()
except OSError:
    ok = False
sys.exit(0 if ok else 1)
PY
}
ping && exit 0
case "$host" in 127.0.0.1|localhost) ;; *)
  echo "Redis is not reachable at $url. Start it there, or set REDIS_URL to a reachable Redis." >&2; exit 1;;
esac
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing redis-server from Debian ..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null
  else
    echo "Redis is not running and redis-server is not installed. Run: sudo apt-get install redis-server" >&2
    echo "(or set REDIS_URL to a reachable Redis)" >&2; exit 1
  fi
fi
mkdir -p /tmp/slsync-redis
redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
  --dir /tmp/slsync-redis --logfile /tmp/slsync-redis/redis.log
for _ in $(seq 1 50); do ping && exit 0; sleep 0.1; done
echo "redis-server did not come up on port $port; see /tmp/slsync-redis/redis.log" >&2; exit 1
