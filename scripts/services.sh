#!/usr/bin/env bash
# Start real backing servers for the unisession test suite, each on its own
# loopback port, with all state under ${UNISESSION_SERVICES_DIR:-<repo>/.services}.
#
#   scripts/services.sh [start]   install what is missing, start (or re-check) everything,
#                                 write $DIR/env and print its export lines on stdout
#   scripts/services.sh stop      stop everything this script started
#   scripts/services.sh status    show what is running (exit 1 if something is down)
#   scripts/services.sh env       print the export lines
#   scripts/services.sh clean     stop, then delete $DIR
#
# Typical use:   scripts/services.sh >/dev/null && source .services/env
#                eval "$(scripts/services.sh)"
#
# Progress goes to stderr; stdout carries only the export lines.
#
# Servers (all bound to 127.0.0.1 only):
#   REDIS_URL            redis-server standalone, no persistence           :6390
#   REDIS_CLUSTER_NODES  3-master Redis Cluster, no replicas               :7001-7003
#   MEMCACHED_NODES      two memcached instances                           :11311, :11312
#   PG_URL               PostgreSQL (Debian package, private cluster)      :5440, db "unisession"
#   MONGO_URL            mongo-java-server in-memory (scripts/mongo-server) :27027
#
# Idempotent: a second `start` reuses healthy servers of ours and only re-checks them.
set -Eeuo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
DIR=${UNISESSION_SERVICES_DIR:-$REPO/.services}

HOST=127.0.0.1
REDIS_PORT=6390
CLUSTER_PORTS=(7001 7002 7003)
MEMCACHED_PORTS=(11311 11312)
PG_PORT=5440
PG_DB=unisession
MONGO_PORT=27027
MONGO_SRC=$SCRIPT_DIR/mongo-server

# Readiness timeouts (seconds).
T_REDIS=15
T_CLUSTER=30
T_MEMCACHED=10
T_PG=60
T_MONGO=60

# ---------------------------------------------------------------------------
# helpers

log() { printf '[services] %s\n' "$*" >&2; }

die() {
  printf '[services] ERROR: %s\n' "$1" >&2
  local f
  for f in "${@:2}"; do
    if [[ -e $f ]]; then
      printf '[services] ---- last lines of %s ----\n' "$f" >&2
      tail -n 40 -- "$f" >&2 || true
      printf '[services] ----\n' >&2
    fi
  done
  exit 1
}

env_lines() {
  local IFS=,
  local cluster=() mc=() p
  for p in "${CLUSTER_PORTS[@]}"; do cluster+=("$HOST:$p"); done
  for p in "${MEMCACHED_PORTS[@]}"; do mc+=("$HOST:$p"); done
  cat <<EOF
export REDIS_URL=redis://$HOST:$REDIS_PORT
export REDIS_CLUSTER_NODES=${cluster[*]}
export MEMCACHED_NODES=${mc[*]}
export PG_URL=postgres://postgres@$HOST:$PG_PORT/$PG_DB
export MONGO_URL=mongodb://$HOST:$MONGO_PORT
EOF
}

# Is something accepting TCP connections on $HOST:$1?
port_open() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$HOST" "$1" 2>/dev/null
}

# Describe whoever listens on a port (for error messages only).
port_owner() {
  if command -v ss >/dev/null 2>&1; then
    ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*users:(\(.*\))/\1/p' | head -n1
  fi
}

read_pid() {
  [[ -f $1 ]] || return 1
  local pid
  pid=$(head -n1 -- "$1" 2>/dev/null | tr -dc '0-9')
  [[ -n $pid ]] && printf '%s' "$pid"
}

# Alive and not a zombie (init may be slow to reap our daemonized children).
pid_alive() {
  local pid=$1 stat
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# pid_matches PID PATTERN: process alive and its command line contains PATTERN.
pid_matches() {
  local pid=$1 pat=$2 cmd
  pid_alive "$pid" || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"$pat"* ]]
}

# stop_pid NAME PIDFILE PATTERN: TERM the process (if it is ours), then KILL after 15 s.
stop_pid() {
  local name=$1 pidfile=$2 pat=$3 pid i
  pid=$(read_pid "$pidfile") || { rm -f -- "$pidfile"; return 0; }
  if pid_matches "$pid" "$pat"; then
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
      pid_alive "$pid" || break
      sleep 0.1
    done
    if pid_alive "$pid"; then
      log "$name (pid $pid) did not exit after SIGTERM, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
  fi
  rm -f -- "$pidfile"
}

rcli() { timeout 5 redis-cli -h "$HOST" -p "$1" "${@:2}" 2>/dev/null; }

redis_ping() { [[ $(rcli "$1" ping) == PONG ]]; }

# Is the redis on port $1 ours, i.e. serving from data dir $2?
redis_is_ours() {
  local got
  got=$(rcli "$1" config get dir | sed -n 2p) || return 1
  [[ $got == "$2" ]]
}

memcached_ping() {
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "version\r\n" >&3
    IFS= read -r -t 2 line <&3 || exit 1
    [[ $line == VERSION* ]]' "$HOST" "$1" 2>/dev/null
}

pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [[ -n $d && -x $d/initdb && -x $d/pg_ctl ]] && printf '%s' "$d"
}

# Run a command as the postgres user when we are root (initdb refuses root).
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# ---------------------------------------------------------------------------
# installation

ensure_packages() {
  local missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
  command -v memcached >/dev/null 2>&1 || missing+=(memcached)
  pg_bindir >/dev/null || missing+=(postgresql)
  { command -v psql >/dev/null 2>&1 && command -v pg_isready >/dev/null 2>&1; } || missing+=(postgresql-client)
  { command -v java >/dev/null 2>&1 && command -v javac >/dev/null 2>&1; } || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  # Not a server, but the browser the end-to-end tests drive (playwright-core never downloads one).
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  if [[ $EUID -eq 0 ]]; then
    # runuser/setsid/flock (util-linux) and timeout (coreutils) are essential on Debian.
    id postgres >/dev/null 2>&1 || missing+=(postgresql)
  fi
  ((${#missing[@]})) || return 0

  local -a sudo=()
  if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "missing packages (${missing[*]}) and not root / no sudo"
    sudo=(sudo)
  fi
  # De-duplicate.
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  log "installing missing packages: ${missing[*]} (apt-get; log in $DIR/logs/apt.log)"
  local apt_opts=(-o DPkg::Lock::Timeout=900 -o Acquire::Retries=3)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update \
    >>"$DIR/logs/apt.log" 2>&1 || die "apt-get update failed" "$DIR/logs/apt.log"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y \
    --no-install-recommends "${missing[@]}" >>"$DIR/logs/apt.log" 2>&1 ||
    die "apt-get install ${missing[*]} failed" "$DIR/logs/apt.log"
  pg_bindir >/dev/null || die "postgresql installed but no /usr/lib/postgresql/*/bin/initdb found"
}

# ---------------------------------------------------------------------------
# redis (standalone and cluster nodes)

# write_redis_conf PORT DATADIR CLUSTER(yes|no)
write_redis_conf() {
  local port=$1 data=$2 cluster=$3
  mkdir -p -- "$data"
  cat >"$data/redis.conf.tmp" <<EOF
# generated by scripts/services.sh -- do not edit
bind $HOST
port $port
protected-mode yes
daemonize yes
pidfile $DIR/run/redis-$port.pid
logfile $DIR/logs/redis-$port.log
loglevel notice
dir $data
save ""
appendonly no
databases 16
tcp-backlog 511
EOF
  if [[ $cluster == yes ]]; then
    cat >>"$data/redis.conf.tmp" <<EOF
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout 5000
cluster-require-full-coverage yes
EOF
  fi
  mv -f -- "$data/redis.conf.tmp" "$data/redis.conf"
}

# launch_redis PORT DATADIR NAME -- start and wait for PING (caller checked the port is free).
launch_redis() {
  local port=$1 data=$2 name=$3 i
  local logf=$DIR/logs/redis-$port.log
  rm -f -- "$DIR/run/redis-$port.pid"
  redis-server "$data/redis.conf" </dev/null >>"$logf" 2>&1 9>&- ||
    die "$name: redis-server failed to start on port $port" "$logf"
  for ((i = 0; i < T_REDIS * 10; i++)); do
    redis_ping "$port" && return 0
    sleep 0.1
  done
  die "$name: redis-server on port $port not answering PING after ${T_REDIS}s" "$logf"
}

# shutdown_redis PORT DATADIR NAME -- stop a redis of ours on PORT (by pid file, else by SHUTDOWN).
shutdown_redis() {
  local port=$1 data=$2 name=$3 i
  local pidfile=$DIR/run/redis-$port.pid
  if [[ -f $pidfile ]]; then
    stop_pid "$name" "$pidfile" redis-server
  fi
  if redis_ping "$port" && redis_is_ours "$port" "$data"; then
    log "stopping $name (port $port, via SHUTDOWN NOSAVE)"
    rcli "$port" shutdown nosave >/dev/null || true
    for ((i = 0; i < 100; i++)); do
      port_open "$port" || break
      sleep 0.1
    done
  fi
  rm -f -- "$pidfile"
}

start_redis() {
  local data=$DIR/redis/$REDIS_PORT
  write_redis_conf "$REDIS_PORT" "$data" no
  if redis_ping "$REDIS_PORT"; then
    redis_is_ours "$REDIS_PORT" "$data" ||
      die "port $REDIS_PORT is in use by another redis ($(port_owner "$REDIS_PORT")); stop it first"
    log "redis: already running on $REDIS_PORT"
    return 0
  fi
  port_open "$REDIS_PORT" &&
    die "port $REDIS_PORT is in use by something that is not our redis ($(port_owner "$REDIS_PORT"))"
  log "redis: starting on $REDIS_PORT"
  launch_redis "$REDIS_PORT" "$data" redis
}

cluster_node_ok() {
  local info
  info=$(rcli "$1" cluster info | tr -d '\r') || return 1
  grep -qx 'cluster_state:ok' <<<"$info" &&
    grep -qx "cluster_known_nodes:${#CLUSTER_PORTS[@]}" <<<"$info" &&
    grep -qx 'cluster_slots_assigned:16384' <<<"$info" &&
    grep -qx "cluster_size:${#CLUSTER_PORTS[@]}" <<<"$info"
}

start_redis_cluster() {
  local p data all_ok=1
  for p in "${CLUSTER_PORTS[@]}"; do
    data=$DIR/redis-cluster/$p
    write_redis_conf "$p" "$data" yes
    if redis_ping "$p"; then
      redis_is_ours "$p" "$data" ||
        die "port $p is in use by another redis ($(port_owner "$p")); stop it first"
      cluster_node_ok "$p" || all_ok=0
    else
      port_open "$p" && die "port $p is in use by something that is not our redis ($(port_owner "$p"))"
      all_ok=0
    fi
  done
  if ((all_ok)); then
    log "redis cluster: already running and healthy on ${CLUSTER_PORTS[*]}"
    return 0
  fi

  # Anything partial or stale (dead nodes, old nodes.conf, unassigned slots): recreate from scratch.
  log "redis cluster: (re)creating on ${CLUSTER_PORTS[*]}"
  for p in "${CLUSTER_PORTS[@]}"; do
    shutdown_redis "$p" "$DIR/redis-cluster/$p" "redis cluster node $p"
  done
  for p in "${CLUSTER_PORTS[@]}"; do
    data=$DIR/redis-cluster/$p
    rm -f -- "$data/nodes.conf" "$data/dump.rdb" "$data"/appendonly* "$data"/temp-*.rdb
    rm -rf -- "$data/appendonlydir"
    launch_redis "$p" "$data" "redis cluster node $p"
  done
  local nodes=()
  for p in "${CLUSTER_PORTS[@]}"; do nodes+=("$HOST:$p"); done
  local clog=$DIR/logs/redis-cluster-create.log
  timeout 60 redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes \
    </dev/null >"$clog" 2>&1 || die "redis-cli --cluster create failed" "$clog"

  local i ok
  for ((i = 0; i < T_CLUSTER * 5; i++)); do
    ok=1
    for p in "${CLUSTER_PORTS[@]}"; do
      cluster_node_ok "$p" || { ok=0; break; }
    done
    ((ok)) && { log "redis cluster: cluster_state:ok on all nodes"; return 0; }
    sleep 0.2
  done
  for p in "${CLUSTER_PORTS[@]}"; do
    log "cluster info on $p: $(rcli "$p" cluster info | tr -d '\r' | grep -E 'state|known|assigned' | tr '\n' ' ')"
  done
  die "redis cluster did not reach cluster_state:ok within ${T_CLUSTER}s" "$clog" "$DIR/logs/redis-${CLUSTER_PORTS[0]}.log"
}

stop_redis_all() {
  local p
  for p in "${CLUSTER_PORTS[@]}"; do
    shutdown_redis "$p" "$DIR/redis-cluster/$p" "redis cluster node $p"
  done
  shutdown_redis "$REDIS_PORT" "$DIR/redis/$REDIS_PORT" redis
}

# ---------------------------------------------------------------------------
# memcached

start_memcached() {
  local p pidfile pid logf i
  local -a user=()
  if [[ $EUID -eq 0 ]]; then
    if id memcache >/dev/null 2>&1; then user=(-u memcache); else user=(-u nobody); fi
  fi
  for p in "${MEMCACHED_PORTS[@]}"; do
    pidfile=$DIR/run/memcached-$p.pid
    logf=$DIR/logs/memcached-$p.log
    pid=$(read_pid "$pidfile") || pid=
    if [[ -n $pid ]] && pid_matches "$pid" "memcached" && memcached_ping "$p"; then
      log "memcached: already running on $p"
      continue
    fi
    if [[ -n $pid ]]; then stop_pid "memcached $p" "$pidfile" memcached; fi
    port_open "$p" && die "port $p is in use by something that is not our memcached ($(port_owner "$p"))"
    log "memcached: starting on $p"
    setsid nohup memcached -l "$HOST" -p "$p" -U 0 -m 64 -c 1024 -t 2 "${user[@]}" \
      </dev/null >>"$logf" 2>&1 9>&- &
    pid=$!
    printf '%s\n' "$pid" >"$pidfile"
    for ((i = 0; i < T_MEMCACHED * 10; i++)); do
      memcached_ping "$p" && break
      pid_alive "$pid" || die "memcached on port $p exited during startup" "$logf"
      sleep 0.1
    done
    memcached_ping "$p" || die "memcached on port $p not answering 'version' after ${T_MEMCACHED}s" "$logf"
  done
}

stop_memcached() {
  local p
  for p in "${MEMCACHED_PORTS[@]}"; do
    stop_pid "memcached $p" "$DIR/run/memcached-$p.pid" memcached
  done
}

# ---------------------------------------------------------------------------
# postgresql

# PG_ROOT holds data/, run/ (unix socket) and postgres.log. Normally $DIR/pg; if the
# postgres user cannot reach $DIR (e.g. the repo lives under a 0700 home) or the socket
# path would be too long, it lives under /tmp and $DIR/pg is a symlink to it.
pg_root() {
  local tmp_root=/tmp/unisession-pg-$(printf '%s' "$DIR" | md5sum | cut -c1-12)
  if [[ -L $DIR/pg ]]; then
    readlink -- "$DIR/pg"
    return
  fi
  if [[ -d $DIR/pg ]]; then
    printf '%s' "$DIR/pg"
    return
  fi
  local ok=1
  ((${#DIR} + ${#PG_PORT} + 20 < 100)) || ok=0
  if ((ok)) && [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u postgres -- test -x "$DIR") 2>/dev/null || ok=0
  fi
  if ((ok)); then
    printf '%s' "$DIR/pg"
  else
    printf '%s' "$tmp_root"
  fi
}

pg_env() {
  PG_BIN=$(pg_bindir) || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
  PG_ROOT=$(pg_root)
  PGDATA_DIR=$PG_ROOT/data
  PG_SOCK=$PG_ROOT/run
  PG_LOG=$PG_ROOT/postgres.log
}

pg_ready() {
  timeout 5 "$PG_BIN/pg_isready" -q -h "$HOST" -p "$PG_PORT" -d postgres -U postgres 2>/dev/null
}

pg_running() {
  [[ -f $PGDATA_DIR/PG_VERSION ]] || return 1
  as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

start_postgres() {
  pg_env
  if [[ $PG_ROOT != "$DIR/pg" && ! -e $DIR/pg ]]; then
    mkdir -p -- "$PG_ROOT"
    ln -s -- "$PG_ROOT" "$DIR/pg"
  fi
  mkdir -p -- "$PG_ROOT" "$PG_SOCK"
  ln -sfn -- "$PG_LOG" "$DIR/logs/postgres.log"

  if pg_running && pg_ready; then
    log "postgres: already running on $PG_PORT"
  else
    if ! pg_running && port_open "$PG_PORT"; then
      die "port $PG_PORT is in use by something that is not our postgres ($(port_owner "$PG_PORT"))"
    fi
    if [[ $EUID -eq 0 ]]; then
      chown postgres: -- "$PG_ROOT" "$PG_SOCK"
      chmod 0700 -- "$PG_ROOT"
    fi
    if [[ ! -f $PGDATA_DIR/PG_VERSION ]]; then
      log "postgres: initdb in $PGDATA_DIR ($(basename "$(dirname "$PG_BIN")"))"
      rm -rf -- "$PGDATA_DIR"
      local ilog=$PG_ROOT/initdb.log
      touch -- "$ilog"
      if [[ $EUID -eq 0 ]]; then chown postgres: -- "$ilog"; fi
      as_pg "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres -A trust -E UTF8 --locale=C --no-sync \
        >"$ilog" 2>&1 9>&- || die "initdb failed" "$ilog"
      printf "\ninclude 'unisession.conf'\n" >>"$PGDATA_DIR/postgresql.conf"
    fi
    cat >"$PGDATA_DIR/unisession.conf" <<EOF
# generated by scripts/services.sh -- do not edit (test-only settings, NOT durable)
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
log_min_messages = warning
EOF
    if [[ $EUID -eq 0 ]]; then chown postgres: -- "$PGDATA_DIR/unisession.conf"; fi
    if pg_running; then
      log "postgres: running but not ready; restarting"
      as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 30 stop >/dev/null 2>&1 9>&- || true
    fi
    log "postgres: starting on $PG_PORT"
    touch -- "$PG_LOG"
    if [[ $EUID -eq 0 ]]; then chown postgres: -- "$PG_LOG"; fi
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PG_LOG" -w -t "$T_PG" -s start </dev/null >/dev/null 2>&1 9>&- ||
      die "postgres failed to start on port $PG_PORT" "$PG_LOG"
    local i
    for ((i = 0; i < T_PG * 5; i++)); do
      pg_ready && break
      sleep 0.2
    done
    pg_ready || die "postgres on port $PG_PORT not ready after ${T_PG}s" "$PG_LOG"
  fi
  { read_pid "$PGDATA_DIR/postmaster.pid" && echo; } >"$DIR/run/postgres.pid" || true

  local have
  have=$(psql -X -q -h "$HOST" -p "$PG_PORT" -U postgres -d postgres -tAc \
    "select 1 from pg_database where datname = '$PG_DB'" 2>>"$DIR/logs/psql.log") ||
    die "psql could not query postgres on $PG_PORT" "$DIR/logs/psql.log" "$PG_LOG"
  if [[ $have != 1 ]]; then
    log "postgres: creating database $PG_DB"
    psql -X -q -h "$HOST" -p "$PG_PORT" -U postgres -d postgres -c "create database $PG_DB" \
      >>"$DIR/logs/psql.log" 2>&1 || die "could not create database $PG_DB" "$DIR/logs/psql.log"
  fi
}

stop_postgres() {
  rm -f -- "$DIR/run/postgres.pid"
  [[ -e $DIR/pg ]] || return 0
  pg_bindir >/dev/null || return 0
  pg_env
  if pg_running; then
    log "stopping postgres"
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 30 -s stop >/dev/null 2>&1 9>&- || {
      log "postgres: fast shutdown failed, trying immediate"
      as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m immediate -w -t 30 -s stop >/dev/null 2>&1 9>&- || true
    }
  fi
}

# ---------------------------------------------------------------------------
# mongo (mongo-java-server via scripts/mongo-server)

MONGO_JAR_DIR=$DIR/mongo-server
MONGO_JAR=$MONGO_JAR_DIR/mongo-server.jar

mongo_src_hash() {
  (cd -- "$MONGO_SRC" && find pom.xml src -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) |
    sha256sum | cut -c1-16
}

build_mongo_jar() {
  local hash cache_dir cached
  hash=$(mongo_src_hash)
  if [[ -f $MONGO_JAR && $(cat "$MONGO_JAR.hash" 2>/dev/null) == "$hash" ]]; then
    return 0
  fi
  mkdir -p -- "$MONGO_JAR_DIR"
  # A per-user cache keyed by the source hash spares fresh clones (CI) the Maven build.
  cache_dir=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/unisession
  cached=$cache_dir/mongo-server-$hash.jar
  if [[ -s $cached ]]; then
    log "mongo: using cached jar $cached"
    cp -f -- "$cached" "$MONGO_JAR.tmp"
  else
    local blog=$DIR/logs/mongo-build.log
    log "mongo: building scripts/mongo-server with Maven (first time only; log in $blog)"
    rm -rf -- "$MONGO_JAR_DIR/build"
    (cd -- "$MONGO_SRC" && mvn -q -B -DbuildDir="$MONGO_JAR_DIR/build" package) \
      </dev/null >"$blog" 2>&1 9>&- || die "Maven build of scripts/mongo-server failed" "$blog"
    [[ -f $MONGO_JAR_DIR/build/mongo-server.jar ]] || die "Maven build produced no mongo-server.jar" "$blog"
    cp -f -- "$MONGO_JAR_DIR/build/mongo-server.jar" "$MONGO_JAR.tmp"
    if mkdir -p -- "$cache_dir" 2>/dev/null; then
      cp -f -- "$MONGO_JAR.tmp" "$cached.tmp.$$" && mv -f -- "$cached.tmp.$$" "$cached" || true
    fi
  fi
  mv -f -- "$MONGO_JAR.tmp" "$MONGO_JAR"
  printf '%s\n' "$hash" >"$MONGO_JAR.hash"
}

start_mongo() {
  local pidfile=$DIR/run/mongo.pid logf=$DIR/logs/mongo.log pid i
  pid=$(read_pid "$pidfile") || pid=
  if [[ -n $pid ]] && pid_matches "$pid" "$MONGO_JAR" && port_open "$MONGO_PORT"; then
    log "mongo: already running on $MONGO_PORT"
    return 0
  fi
  if [[ -n $pid ]]; then stop_pid mongo "$pidfile" "$MONGO_JAR"; fi
  port_open "$MONGO_PORT" &&
    die "port $MONGO_PORT is in use by something that is not our mongo server ($(port_owner "$MONGO_PORT"))"
  build_mongo_jar
  log "mongo: starting mongo-java-server on $MONGO_PORT"
  setsid nohup java -Xms32m -Xmx2g -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -jar "$MONGO_JAR" "$MONGO_PORT" --host "$HOST" --pid-file "$pidfile" \
    </dev/null >>"$logf" 2>&1 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$pidfile"
  for ((i = 0; i < T_MONGO * 10; i++)); do
    port_open "$MONGO_PORT" && break
    pid_alive "$pid" || die "mongo server exited during startup" "$logf"
    sleep 0.1
  done
  port_open "$MONGO_PORT" || die "mongo server not accepting connections on $MONGO_PORT after ${T_MONGO}s" "$logf"
  # Main rewrites the pid file itself once bound; make sure it names the live process.
  printf '%s\n' "$pid" >"$pidfile"
}

stop_mongo() {
  stop_pid mongo "$DIR/run/mongo.pid" "$MONGO_JAR"
}

# ---------------------------------------------------------------------------
# commands

setup_dir() {
  mkdir -p -- "$DIR"
  DIR=$(cd -- "$DIR" && pwd -P)
  MONGO_JAR_DIR=$DIR/mongo-server
  MONGO_JAR=$MONGO_JAR_DIR/mongo-server.jar
  mkdir -p -- "$DIR/logs" "$DIR/run"
  # Serialize concurrent invocations. fd 9 is closed (9>&-) for every server we spawn.
  exec 9>"$DIR/.lock"
  if ! flock -w 600 9; then
    die "timed out waiting for another scripts/services.sh run (lock $DIR/.lock)"
  fi
}

cmd_start() {
  local t0=$SECONDS
  setup_dir
  ensure_packages
  start_redis
  start_redis_cluster
  start_memcached
  start_postgres
  start_mongo
  env_lines >"$DIR/env.tmp"
  mv -f -- "$DIR/env.tmp" "$DIR/env"
  log "all services up in $((SECONDS - t0))s; data in $DIR; use: source $DIR/env"
  cat -- "$DIR/env"
}

cmd_stop() {
  setup_dir
  stop_mongo
  stop_memcached
  stop_redis_all
  stop_postgres
  rm -f -- "$DIR/env"
  local p busy=()
  for p in "$REDIS_PORT" "${CLUSTER_PORTS[@]}" "${MEMCACHED_PORTS[@]}" "$PG_PORT" "$MONGO_PORT"; do
    port_open "$p" && busy+=("$p")
  done
  if ((${#busy[@]})); then
    log "warning: ports still in use after stop: ${busy[*]} (not started by this script?)"
    return 1
  fi
  log "all services stopped"
}

cmd_status() {
  [[ -d $DIR ]] && DIR=$(cd -- "$DIR" && pwd -P)
  local bad=0 p
  redis_ping "$REDIS_PORT" && echo "redis           $HOST:$REDIS_PORT  up" || { echo "redis           $HOST:$REDIS_PORT  DOWN"; bad=1; }
  for p in "${CLUSTER_PORTS[@]}"; do
    cluster_node_ok "$p" && echo "redis cluster   $HOST:$p  ok" || { echo "redis cluster   $HOST:$p  NOT OK"; bad=1; }
  done
  for p in "${MEMCACHED_PORTS[@]}"; do
    memcached_ping "$p" && echo "memcached       $HOST:$p  up" || { echo "memcached       $HOST:$p  DOWN"; bad=1; }
  done
  if PG_BIN=$(pg_bindir) && pg_ready; then echo "postgres        $HOST:$PG_PORT  up"; else
    echo "postgres        $HOST:$PG_PORT  DOWN"
    bad=1
  fi
  port_open "$MONGO_PORT" && echo "mongo           $HOST:$MONGO_PORT  up" || { echo "mongo           $HOST:$MONGO_PORT  DOWN"; bad=1; }
  return "$bad"
}

cmd_clean() {
  cmd_stop || true
  local root
  if [[ -L $DIR/pg ]]; then
    root=$(readlink -- "$DIR/pg")
    [[ $root == /tmp/unisession-pg-* ]] && rm -rf -- "$root"
  fi
  exec 9>&-
  rm -rf -- "$DIR"
  log "removed $DIR"
}

case ${1:-start} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) env_lines ;;
  clean) cmd_clean ;;
  -h | --help | help) sed -n '2,/^set -E/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' ;;
  *)
    echo "usage: $0 [start|stop|status|env|clean]" >&2
    exit 2
    ;;
esac
