#!/usr/bin/env bash
# Redis behind Sentinel on this machine: a master, a replica and three sentinels, nothing persisted.
#
#   deploy/ha/redis.sh start   start all five, wait until the sentinels agree on the master and the
#                              replica is in sync, then print the service's settings (REDIS_SENTINELS=...)
#   deploy/ha/redis.sh stop    kill all five and remove REDIS_HA_DIR
#   deploy/ha/redis.sh status  the master the sentinels name and each process's role; non-zero unless all answer
#
# Debian's redis-server runs the sentinels (`redis-server FILE --sentinel`): no other package is needed.
# Settings: REDIS_HA_DIR (.run/ha/redis), REDIS_HA_MASTER_PORT (6391), REDIS_HA_REPLICA_PORT (6392),
# REDIS_HA_SENTINEL_PORTS ("26391 26392 26393"), REDIS_HA_MASTER_NAME (tickets). Sentinels call the
# master down after 1 s without an answer; two of the three must agree before one of them fails over.
set -euo pipefail

BASE_DIR=${REDIS_HA_DIR:-.run/ha/redis}
MASTER_PORT=${REDIS_HA_MASTER_PORT:-6391}
REPLICA_PORT=${REDIS_HA_REPLICA_PORT:-6392}
read -r -a SENTINEL_PORTS <<< "${REDIS_HA_SENTINEL_PORTS:-26391 26392 26393}"
MASTER_NAME=${REDIS_HA_MASTER_NAME:-tickets}
HOST=127.0.0.1
WAIT_SECONDS=30

cli() {
    redis-cli -h "$HOST" -p "$1" "${@:2}" 2>/dev/null
}

# The pid of a process this script started, if it still runs (a stale pidfile's pid may belong to another program).
running_pid() {
    local pidfile="$BASE_DIR/$1.pid" pid
    [[ -f $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] && grep -qa "redis-server" "/proc/$pid/cmdline" 2>/dev/null || return 1
    echo "$pid"
}

names() {
    echo "redis-$MASTER_PORT" "redis-$REPLICA_PORT"
    for port in "${SENTINEL_PORTS[@]}"; do echo "sentinel-$port"; done
}

start_redis() {
    local port=$1
    shift
    redis-server --port "$port" --bind "$HOST" --daemonize yes --save "" --appendonly no \
        --repl-diskless-sync yes --repl-diskless-sync-delay 0 --repl-diskless-load on-empty-db --dir "$BASE_DIR" \
        --pidfile "$BASE_DIR/redis-$port.pid" --logfile "$BASE_DIR/redis-$port.log" "$@"
}

start_sentinel() {
    local port=$1 config="$BASE_DIR/sentinel-$1.conf"
    # A sentinel rewrites its file as it learns the others and follows failovers: each has its own.
    cat > "$config" <<EOF
port $port
bind $HOST
daemonize yes
dir $BASE_DIR
pidfile $BASE_DIR/sentinel-$port.pid
logfile $BASE_DIR/sentinel-$port.log
sentinel monitor $MASTER_NAME $HOST $MASTER_PORT 2
sentinel down-after-milliseconds $MASTER_NAME 1000
sentinel failover-timeout $MASTER_NAME 5000
sentinel parallel-syncs $MASTER_NAME 1
EOF
    redis-server "$config" --sentinel
}

field() {  # field NAME: the value of NAME in the name/value lines on stdin
    awk -v name="$1" 'found { print; exit } $0 == name { found = 1 }'
}

sentinel_ready() {
    local port=$1 state
    [[ $(cli "$port" sentinel get-master-addr-by-name "$MASTER_NAME" | paste -sd:) == "$HOST:$MASTER_PORT" ]] || return 1
    state=$(cli "$port" sentinel master "$MASTER_NAME")
    [[ $(field flags <<< "$state") == master ]] \
        && [[ $(field num-slaves <<< "$state") -ge 1 ]] \
        && [[ $(field num-other-sentinels <<< "$state") -eq $((${#SENTINEL_PORTS[@]} - 1)) ]]
}

ready() {
    local info port
    info=$(cli "$REPLICA_PORT" info replication | tr -d '\r')
    grep -qx "master_link_status:up" <<< "$info" && grep -qx "master_sync_in_progress:0" <<< "$info" || return 1
    for port in "${SENTINEL_PORTS[@]}"; do sentinel_ready "$port" || return 1; done
}

settings() {
    local port endpoints=()
    for port in "${SENTINEL_PORTS[@]}"; do endpoints+=("$HOST:$port"); done
    echo "REDIS_SENTINELS=$(IFS=,; echo "${endpoints[*]}")"
    echo "REDIS_SENTINEL_MASTER=$MASTER_NAME"
}

start() {
    local name port deadline=$((SECONDS + WAIT_SECONDS))
    for name in $(names); do
        if running_pid "$name" > /dev/null; then
            echo "$name runs already (in $BASE_DIR): stop first" >&2
            exit 1
        fi
    done
    mkdir -p "$BASE_DIR"
    BASE_DIR=$(cd "$BASE_DIR" && pwd)
    start_redis "$MASTER_PORT"
    start_redis "$REPLICA_PORT" --replicaof "$HOST" "$MASTER_PORT"
    for port in "${SENTINEL_PORTS[@]}"; do start_sentinel "$port"; done
    until ready; do
        if ((SECONDS > deadline)); then
            echo "the sentinels did not agree on $HOST:$MASTER_PORT with a replica in sync in ${WAIT_SECONDS}s" >&2
            status >&2 || true
            exit 1
        fi
        sleep 0.2
    done
    settings
}

stop() {
    local name pid pids=() deadline=$((SECONDS + 10))
    for name in $(names); do
        if pid=$(running_pid "$name"); then pids+=("$pid"); fi
    done
    if ((${#pids[@]})); then kill -9 "${pids[@]}"; fi
    for pid in "${pids[@]}"; do
        while [[ -d /proc/$pid ]] && ((SECONDS < deadline)); do sleep 0.05; done
    done
    case $BASE_DIR in
        "" | / | .) echo "refusing to remove REDIS_HA_DIR=$BASE_DIR" >&2; exit 1 ;;
    esac
    rm -rf "$BASE_DIR"
}

status() {
    local port role master ok=0
    for port in "${SENTINEL_PORTS[@]}"; do
        master=$(cli "$port" sentinel get-master-addr-by-name "$MASTER_NAME" | paste -sd:) || true
        echo "sentinel $HOST:$port: master ${master:-unknown}"
        [[ -n $master ]] || ok=1
    done
    for port in "$MASTER_PORT" "$REPLICA_PORT"; do
        role=$(cli "$port" info replication | tr -d '\r' | sed -n 's/^role://p') || true
        echo "redis $HOST:$port: ${role:-down}"
        [[ -n $role ]] || ok=1
    done
    return "$ok"
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
