#!/usr/bin/env bash
# Starts (or stops) private MariaDB and Redis instances for the tests, as root, without
# systemd, on loopback ports, with data under $LKK_SERVICES_DIR (default ./run/services).
# Never touches the system instances that apt may have started.
#   scripts/services.sh start   -> prints `export LKK_TEST_MYSQL_URL=... LKK_TEST_REDIS_URL=...`
#   scripts/services.sh stop
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${LKK_SERVICES_DIR:-$ROOT/run/services}
MYSQL_PORT=${LKK_MYSQL_PORT:-33061}
REDIS_PORT=${LKK_REDIS_PORT:-63791}
SOCK=$DIR/mysql.sock

wait_for() {  # wait_for SECONDS CMD...
  local t=$1; shift
  for _ in $(seq 1 $((t * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

start_mariadb() {
  if mariadb-admin --socket="$SOCK" -uroot ping >/dev/null 2>&1; then return 0; fi
  mkdir -p "$DIR"
  if [ ! -d "$DIR/mysql-data/mysql" ]; then
    mariadb-install-db --user=root --datadir="$DIR/mysql-data" --auth-root-authentication-method=socket \
      --skip-test-db >"$DIR/mariadb-install.log" 2>&1
  fi
  nohup mariadbd --no-defaults --user=root --datadir="$DIR/mysql-data" --socket="$SOCK" \
    --port="$MYSQL_PORT" --bind-address=127.0.0.1 --skip-name-resolve \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --pid-file="$DIR/mariadb.pid" --log-error="$DIR/mariadb.err" >/dev/null 2>&1 &
  wait_for 30 mariadb-admin --socket="$SOCK" -uroot ping || { cat "$DIR/mariadb.err" >&2; return 1; }
  mariadb --socket="$SOCK" -uroot <<SQL
CREATE DATABASE IF NOT EXISTS lkk_test CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'lkk'@'127.0.0.1' IDENTIFIED BY 'lkkpass';
GRANT ALL PRIVILEGES ON \`lkk%\`.* TO 'lkk'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL
}

start_redis() {
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then return 0; fi
  mkdir -p "$DIR"
  nohup redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no --dir "$DIR" >"$DIR/redis.log" 2>&1 &
  echo $! >"$DIR/redis.pid"
  wait_for 10 redis-cli -p "$REDIS_PORT" ping || { cat "$DIR/redis.log" >&2; return 1; }
}

case "${1:-}" in
  start)
    start_mariadb >&2
    start_redis >&2
    echo "export LKK_TEST_MYSQL_URL=mysql://lkk:lkkpass@127.0.0.1:$MYSQL_PORT/lkk_test"
    echo "export LKK_TEST_MYSQL_ROOT_SOCKET=$SOCK"
    echo "export LKK_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
    ;;
  stop)
    mariadb-admin --socket="$SOCK" -uroot shutdown >/dev/null 2>&1 || true
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
