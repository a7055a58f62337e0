#!/usr/bin/env bash
# PostgreSQL with a synchronous standby and automatic failover on this machine (pg_auto_failover):
# a monitor and two data nodes, each a `pg_autoctl run` that supervises its own PostgreSQL 15.
#
#   deploy/ha/postgres.sh start   create (or start again) the monitor and both nodes, wait until the
#                                 formation has a primary and a secondary in sync, create the database,
#                                 then print the service's setting (DATABASE_URL=...)
#   deploy/ha/postgres.sh stop    stop the nodes and the monitor; the data stays in PG_HA_DIR (remove it
#                                 to start afresh)
#   deploy/ha/postgres.sh status  the formation's nodes and their states; non-zero unless one is primary
#                                 and one secondary
#
# Needs Debian's postgresql-15-auto-failover and pg-auto-failover-cli (the Makefile's $(PG_AUTOCTL)), and root
# or the postgres user: every process runs as postgres. Connections from 127.0.0.1 are trusted, without TLS.
# Settings: PG_HA_DIR (.run/ha/postgres), PG_HA_MONITOR_PORT (6100), PG_HA_NODE_PORTS ("6101 6102"),
# PG_HA_DATABASE (tickets), PG_HA_BIN (/usr/lib/postgresql/15/bin), PG_HA_WAIT_SECONDS (60).
#
# With two nodes pg_auto_failover keeps the standby synchronous (number_sync_standbys 0, replication
# quorum true: synchronous_standby_names 'ANY 1 (...)'); when the primary's PostgreSQL stops, the monitor
# promotes the standby, and the old primary comes back as the new one's standby. Clients give both nodes
# with target_session_attrs=read-write and so always reach the primary.
set -euo pipefail

BASE_DIR=${PG_HA_DIR:-.run/ha/postgres}
MONITOR_PORT=${PG_HA_MONITOR_PORT:-6100}
read -r -a NODE_PORTS <<< "${PG_HA_NODE_PORTS:-6101 6102}"
DATABASE=${PG_HA_DATABASE:-tickets}
PG_BIN=${PG_HA_BIN:-/usr/lib/postgresql/15/bin}
WAIT_SECONDS=${PG_HA_WAIT_SECONDS:-60}
HOST=127.0.0.1
OWNER=postgres
STOP_SECONDS=30

BASE_DIR=$(realpath -m "$BASE_DIR")

# Run a command as the postgres user in a clean environment whose XDG directories (where pg_autoctl
# keeps each node's configuration, state and pid files) lie under BASE_DIR.
as_owner() {
    local environment=(
        "PATH=$PG_BIN:/usr/bin:/bin" "PG_CONFIG=$PG_BIN/pg_config" "LANG=C.UTF-8" "HOME=$BASE_DIR"
        "XDG_CONFIG_HOME=$BASE_DIR/config" "XDG_DATA_HOME=$BASE_DIR/share" "XDG_RUNTIME_DIR=$BASE_DIR/run"
    )
    if [[ $(id -un) == "$OWNER" ]]; then
        env -i "${environment[@]}" "$@"
    else
        runuser -u "$OWNER" -- env -i "${environment[@]}" "$@"
    fi
}

sql() {  # sql PORT DATABASE QUERY: the query's rows, unaligned
    "$PG_BIN/psql" -X -q -A -t -h "$HOST" -p "$1" -U postgres -d "$2" -c "$3" 2> /dev/null
}

pgdata() {
    echo "$BASE_DIR/$1"
}

configured() {
    [[ -f $BASE_DIR/config/pg_autoctl$(pgdata "$1")/pg_autoctl.cfg ]]
}

# Start `pg_autoctl ARGS...` in the background, in a session of its own, its output in NAME.log.
launch() {
    local name=$1
    shift
    as_owner setsid -f pg_autoctl "$@" >> "$BASE_DIR/$name.log" 2>&1 < /dev/null
}

monitor_uri() {
    echo "postgres://autoctl_node@$HOST:$MONITOR_PORT/pg_auto_failover?sslmode=disable"
}

start_monitor() {
    local data
    data=$(pgdata monitor)
    if ! configured monitor; then
        as_owner pg_autoctl create monitor --pgdata "$data" --pgport "$MONITOR_PORT" --hostname "$HOST" \
            --auth trust --no-ssl >> "$BASE_DIR/monitor.log" 2>&1
        as_owner pg_autoctl config set --pgdata "$data" postgresql.listen_addresses "$HOST" > /dev/null
    fi
    launch monitor run --pgdata "$data"
}

start_node() {
    local port=$1 data
    data=$(pgdata "node-$port")
    if configured "node-$port"; then
        launch "node-$port" run --pgdata "$data"
    else
        launch "node-$port" create postgres --pgdata "$data" --pgport "$port" --hostname "$HOST" --listen "$HOST" \
            --name "node-$port" --dbname "$DATABASE" --monitor "$(monitor_uri)" --auth trust --no-ssl \
            --replication-quorum true --candidate-priority 50 --run
    fi
}

# `port reported-state assigned-state` of each data node, as the monitor knows them.
node_states() {
    sql "$MONITOR_PORT" pg_auto_failover \
        "SELECT nodeport, reportedstate, goalstate FROM pgautofailover.node ORDER BY nodeport" | tr '|' ' '
}

primary_port() {
    node_states | awk '$2 == "primary" && $3 == "primary" { print $1; exit }'
}

writable_port() {  # the node that takes writes, alone (single) or with standbys coming (wait_primary) or not
    node_states | awk '$2 ~ /^(single|wait_primary|primary)$/ { print $1; exit }'
}

node_in() {  # node_in PORT STATE...: whether the node reports, and is assigned, one of these states
    local port=$1
    shift
    node_states | awk -v port="$port" -v states=" $* " \
        '$1 == port && $2 == $3 && index(states, " " $2 " ") { found = 1 } END { exit !found }'
}

in_sync() {
    local primary=$1 port
    for port in "${NODE_PORTS[@]}"; do
        [[ $port == "$primary" ]] || node_in "$port" secondary || return 1
    done
    [[ $(sql "$primary" postgres "SELECT count(*) FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum')") \
        -ge $((${#NODE_PORTS[@]} - 1)) ]]
}

# Wait until CHECK ARGS... succeeds. A standby's pg_basebackup waits for the primary's next checkpoint,
# which may be minutes away: a checkpoint is asked for on the primary while the formation is not ready.
wait_for() {
    local what=$1 deadline=$((SECONDS + WAIT_SECONDS)) port
    shift
    until "$@" > /dev/null; do
        if ((SECONDS > deadline)); then
            echo "$what: not in ${WAIT_SECONDS}s; logs in $BASE_DIR" >&2
            status >&2 || true
            exit 1
        fi
        port=$(writable_port || true)
        if [[ -n $port ]]; then sql "$port" postgres "CHECKPOINT" > /dev/null || true; fi
        sleep 0.5
    done
}

formation_ready() {
    local primary
    primary=$(primary_port) && [[ -n $primary ]] && in_sync "$primary"
}

create_database() {
    local primary
    primary=$(primary_port)
    if [[ -z $(sql "$primary" postgres "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'") ]]; then
        sql "$primary" postgres "CREATE DATABASE \"$DATABASE\"" > /dev/null
    fi
}

settings() {
    local port hosts=()
    for port in "${NODE_PORTS[@]}"; do hosts+=("host=$HOST:$port"); done
    echo "DATABASE_URL=postgresql+psycopg2://postgres@/$DATABASE?$(IFS='&'; echo "${hosts[*]}")&target_session_attrs=read-write"
}

start() {
    local port first=${NODE_PORTS[0]} started=""
    if [[ -n $(pids) ]]; then
        echo "the formation runs already (in $BASE_DIR): stop first" >&2
        exit 1
    fi
    mkdir -p "$BASE_DIR"
    if [[ $(id -un) != "$OWNER" ]]; then chown "$OWNER:" "$BASE_DIR"; fi
    if ! as_owner test -w "$BASE_DIR"; then
        echo "$OWNER cannot write to $BASE_DIR (is every directory above it open to others?)" >&2
        exit 1
    fi
    as_owner mkdir -p -m 700 "$BASE_DIR/run"  # pg_autoctl writes its pid files to /tmp when this is missing
    start_monitor
    wait_for "the monitor on port $MONITOR_PORT" sql "$MONITOR_PORT" pg_auto_failover "SELECT 1"
    if ! configured "node-$first"; then
        # The first node created becomes the primary; the others are made standbys from its backup.
        start_node "$first"
        wait_for "node $first as the first primary" node_in "$first" single primary wait_primary
        started=$first
    fi
    for port in "${NODE_PORTS[@]}"; do
        if [[ $port != "$started" ]]; then start_node "$port"; fi
    done
    wait_for "a primary and a synchronous secondary" formation_ready
    create_database
    settings
}

# The pids of the live (not zombie) pg_autoctl services and postmasters of NAMES (default: all), from their pid files.
pids() {
    local names=("$@") name data file pid
    if ((${#names[@]} == 0)); then names=(monitor "${NODE_PORTS[@]/#/node-}"); fi
    for name in "${names[@]}"; do
        data=$(pgdata "$name")
        for file in "$BASE_DIR/run/pg_autoctl$data/pg_autoctl.pid" "$data/postmaster.pid"; do
            pid=$(head -n 1 "$file" 2> /dev/null || true)
            if [[ $pid =~ ^[0-9]+$ ]] && [[ $(ps -o stat= -p "$pid" 2> /dev/null) =~ ^[^Z] ]]; then echo "$pid"; fi
        done
    done
}

# Stop the pg_autoctl service NAME (and so its PostgreSQL); wait for both to be gone, kill them when late.
stop_service() {
    local name=$1 deadline=$((SECONDS + STOP_SECONDS)) left
    if configured "$name"; then as_owner pg_autoctl stop --pgdata "$(pgdata "$name")" 2> /dev/null || true; fi
    while left=$(pids "$name") && [[ -n $left ]]; do
        if ((SECONDS > deadline)); then
            echo "$name still running after ${STOP_SECONDS}s, killed: $(echo "$left" | paste -sd ' ')" >&2
            # shellcheck disable=SC2086 # one pid a word
            kill -9 $left 2> /dev/null || true
            return
        fi
        sleep 0.2
    done
}

# The standbys go first, so that stopping the primary does not make the monitor promote one of them.
stop() {
    local primary port
    primary=$(primary_port 2> /dev/null || true)
    for port in "${NODE_PORTS[@]}"; do
        if [[ $port != "$primary" ]]; then stop_service "node-$port"; fi
    done
    if [[ -n $primary ]]; then stop_service "node-$primary"; fi
    stop_service monitor
}

status() {
    local primary
    if ! configured monitor; then
        echo "no formation in $BASE_DIR"
        return 1
    fi
    as_owner pg_autoctl show state --pgdata "$(pgdata monitor)" 2> /dev/null || echo "the monitor does not answer"
    primary=$(primary_port 2> /dev/null || true)
    [[ -n $primary ]] && in_sync "$primary"
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
