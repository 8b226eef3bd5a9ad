#!/usr/bin/env bash
# Starts (or stops) private MariaDB and Redis instances for the tests, as root, without
# systemd, on loopback ports, with data under $LKK_SERVICES_DIR (default ./run/services).
# Never touches the system instances that apt may have started.
#   scripts/services.sh start   -> prints `export LKK_TEST_MYSQL_URL=... LKK_TEST_REDIS_URL=...`
#   scripts/services.sh stop
#   scripts/services.sh ha      -> a Galera cluster and Redis Sentinel (issue 14), prints
#                                  `export LKK_TEST_GALERA_URL=... LKK_TEST_SENTINEL_URL=...`
#   scripts/services.sh ha-stop
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

# ---- High availability (issue 14): a 3-node Galera cluster and Redis with Sentinel ----
# All on 127.0.0.1 with fixed ports of their own (LKK_HA_PORT_BASE moves them all), data under
# $DIR/ha. The cluster is a test fixture: `ha` wipes it and starts it fresh when no node runs.
HA=$DIR/ha
HA_BASE=${LKK_HA_PORT_BASE:-0}
galera_port() { echo $((33090 + $1 + HA_BASE)); }  # client ports 33091-33093
gcomm_port() { echo $((45670 + $1 + HA_BASE)); }   # group communication 45671-45673
ist_port() { echo $((45680 + $1 + HA_BASE)); }     # incremental state transfer 45681-45683
sst_port() { echo $((45690 + $1 + HA_BASE)); }     # full state transfer (rsync) 45691-45693
REDIS_HA_MASTER=$((63821 + HA_BASE))
REDIS_HA_REPLICA=$((63822 + HA_BASE))
sentinel_port() { echo $((26390 + $1 + HA_BASE)); }  # 26391-26393
# Sentinel: a master is down after 1 s without an answer; a failover gives up after 3 s.
SENTINEL_DOWN_MS=1000
SENTINEL_FAILOVER_MS=3000

galera_cnf() {  # galera_cnf N: the node's option file (the SST scripts read it too)
  local n=$1 peers="" i
  for i in 1 2 3; do peers+="${peers:+,}127.0.0.1:$(gcomm_port "$i")"; done
  cat >"$HA/node$n.cnf" <<CNF
[mysqld]
user=root
datadir=$HA/node$n
socket=$HA/node$n.sock
port=$(galera_port "$n")
bind-address=127.0.0.1
pid-file=$HA/node$n.pid
log-error=$HA/node$n.err
skip-name-resolve
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
innodb_buffer_pool_size=128M
innodb_log_file_size=32M
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
wsrep_on=ON
wsrep_provider=/usr/lib/galera/libgalera_smm.so
wsrep_cluster_name=lkk_test
wsrep_cluster_address=gcomm://$peers
wsrep_node_name=node$n
wsrep_node_address=127.0.0.1:$(gcomm_port "$n")
wsrep_sst_method=rsync
wsrep_sst_receive_address=127.0.0.1:$(sst_port "$n")
wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:$(gcomm_port "$n");ist.recv_addr=127.0.0.1:$(ist_port "$n");gcache.size=64M;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S;evs.install_timeout=PT4S"
CNF
}

galera_up() {  # galera_up N: the node answers and is synced with the cluster
  [ "$(mariadb --socket="$HA/node$1.sock" -uroot -N -e "SHOW STATUS LIKE 'wsrep_ready'" 2>/dev/null |
    awk '{print $2}')" = ON ]
}

galera_start() {  # galera_start N [--wsrep-new-cluster]
  local n=$1; shift
  galera_up "$n" && return 0
  galera_cnf "$n"
  if [ ! -d "$HA/node$n/mysql" ] && [ "${1:-}" = --wsrep-new-cluster ]; then
    mariadb-install-db --defaults-file="$HA/node$n.cnf" --auth-root-authentication-method=socket \
      --skip-test-db >"$HA/install$n.log" 2>&1
  fi
  mkdir -p "$HA/node$n"
  # A joiner receives the full state from rsync's daemon, which runs as nobody under root.
  [ "$(id -u)" = 0 ] && chown -R nobody:nogroup "$HA/node$n"
  nohup mariadbd --defaults-file="$HA/node$n.cnf" "$@" >/dev/null 2>&1 &
  local pid=$! i
  for i in $(seq 1 1200); do
    galera_up "$n" && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  tail -30 "$HA/node$n.err" >&2
  return 1
}

galera_stop() {  # galera_stop N: a clean shutdown (the node leaves the cluster)
  mariadb-admin --socket="$HA/node$1.sock" -uroot shutdown >/dev/null 2>&1 || true
}

redis_ha_start() {  # redis_ha_start PORT [replicaof-port]
  local port=$1
  redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
  local extra=()
  [ -n "${2:-}" ] && extra=(--replicaof 127.0.0.1 "$2")
  nohup redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --dir "$HA" --pidfile "$HA/redis$port.pid" "${extra[@]}" >"$HA/redis$port.log" 2>&1 &
  wait_for 10 redis-cli -p "$port" ping || { cat "$HA/redis$port.log" >&2; return 1; }
}

sentinel_start() {  # sentinel_start N (its config is rewritten by the sentinel itself)
  local port; port=$(sentinel_port "$1")
  redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
  cat >"$HA/sentinel$1.conf" <<CNF
port $port
bind 127.0.0.1
daemonize no
pidfile $HA/sentinel$1.pid
dir $HA
sentinel monitor mymaster 127.0.0.1 $REDIS_HA_MASTER 2
sentinel down-after-milliseconds mymaster $SENTINEL_DOWN_MS
sentinel failover-timeout mymaster $SENTINEL_FAILOVER_MS
sentinel parallel-syncs mymaster 1
CNF
  nohup redis-sentinel "$HA/sentinel$1.conf" >"$HA/sentinel$1.log" 2>&1 &
  wait_for 10 redis-cli -p "$port" ping || { cat "$HA/sentinel$1.log" >&2; return 1; }
}

ha_running() {
  local n
  for n in 1 2 3; do galera_up "$n" && return 0; done
  return 1
}

start_ha() {
  if ! ha_running; then
    # A fresh cluster. Node 1 bootstraps it and makes the user; after its clean shutdown its
    # data directory is copied to nodes 2 and 3, so they join at nearly the same position
    # with an incremental transfer (a full rsync SST copies the whole data directory).
    rm -rf "$HA"
    mkdir -p "$HA"
    galera_start 1 --wsrep-new-cluster
    mariadb --socket="$HA/node1.sock" -uroot <<SQL
CREATE DATABASE IF NOT EXISTS lkk_test CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'lkk'@'127.0.0.1' IDENTIFIED BY 'lkkpass';
GRANT ALL PRIVILEGES ON \`lkk%\`.* TO 'lkk'@'127.0.0.1';
SQL
    galera_stop 1
    wait_for 30 bash -c "! kill -0 \$(cat '$HA/node1.pid' 2>/dev/null) 2>/dev/null"
    for n in 2 3; do
      cp -a "$HA/node1" "$HA/node$n"
      sed -i 's/^safe_to_bootstrap: 1/safe_to_bootstrap: 0/' "$HA/node$n/grastate.dat"
    done
    galera_start 1 --wsrep-new-cluster
    # Both join at once: the state transfer scripts spend most of their time waiting.
    galera_start 2 & local two=$!
    galera_start 3 || return 1
    wait "$two" || return 1
  fi
  redis_ha_start "$REDIS_HA_MASTER"
  redis_ha_start "$REDIS_HA_REPLICA" "$REDIS_HA_MASTER"
  local n
  for n in 1 2 3; do sentinel_start "$n"; done
}

stop_ha() {
  local n port
  for n in 1 2 3; do redis-cli -p "$(sentinel_port "$n")" shutdown nosave >/dev/null 2>&1 || true; done
  for port in "$REDIS_HA_MASTER" "$REDIS_HA_REPLICA"; do
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  done
  for n in 3 2 1; do galera_stop "$n"; done
}

case "${1:-}" in
  ha)
    start_ha >&2
    hosts="" sentinels=""
    for n in 1 2 3; do
      hosts+="${hosts:+,}127.0.0.1:$(galera_port "$n")"
      sentinels+="${sentinels:+,}127.0.0.1:$(sentinel_port "$n")"
    done
    echo "export LKK_TEST_GALERA_URL=mysql://lkk:lkkpass@$hosts/lkk_test"
    echo "export LKK_TEST_GALERA_SOCKETS=$HA/node1.sock,$HA/node2.sock,$HA/node3.sock"
    echo "export LKK_TEST_SENTINEL_URL=redis-sentinel://$sentinels/mymaster/0"
    echo "export LKK_TEST_HA_SCRIPT=$ROOT/scripts/services.sh LKK_TEST_HA_DIR=$DIR"
    ;;
  ha-stop) stop_ha ;;
  ha-rss)  # the resident memory of the cluster's processes, in MiB
    cat "$HA"/*.pid 2>/dev/null | xargs -r ps -o rss= -p | awk '{s += $1} END {print int(s / 1024)}'
    ;;
  # One server of the cluster, for the fault tests: galera-node-stop|galera-node-start N,
  # redis-ha-start PORT (it rejoins as a replica: the sentinels reconfigure it).
  galera-node-stop) galera_stop "$2" ;;
  galera-node-start) galera_start "$2" ;;
  redis-ha-start) redis_ha_start "$2" ;;
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
  *) echo "usage: $0 start|stop|ha|ha-stop" >&2; exit 2 ;;
esac
