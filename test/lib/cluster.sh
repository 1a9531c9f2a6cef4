# test/lib/cluster.sh: start and stop throwaway PostgreSQL 15 clusters for the test suites.
# Source it from bash. PostgreSQL refuses to run as root, so the server side runs as the postgres
# user; a cluster lives wholly in one private folder, which must not hold anything from the repo.
# shellcheck disable=SC2034  # the CLUSTER_* variables are set for the caller
#
#   cluster_start <dir> [conf line...]
#       First call: initdb <dir>/data, append the standard test settings plus the given lines
#       (later lines win) to postgresql.conf, start the server. Later calls on the same <dir>
#       (e.g. after stopping or SIGKILLing it) just start it again with the same port.
#       The socket is in <dir>, the log is <dir>/server.log (printed if the start fails).
#       Sets CLUSTER_HOST (socket folder = <dir>), CLUSTER_PORT, CLUSTER_PGDATA, CLUSTER_LOG.
#   cluster_stop <dir> [mode]
#       Stops the server if it runs; mode is a pg_ctl shutdown mode, immediate by default.

: "${ARCHIVE_PG_BIN:=/usr/lib/postgresql/15/bin}"

# Runs a command as postgres from the cluster folder (postgres may not be allowed into the cwd).
_cluster_as_postgres() {
  local dir=$1; shift
  (cd "$dir" && runuser -u postgres -- "$@")
}

# A random high port nothing listens on over TCP. The server listens only on its private socket,
# so this just keeps clusters' ports apart for connection strings and the shared memory key.
_cluster_free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 40001))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
  done
  echo "$port"
}

# Prints the state letter (R, S, Z...) of the cluster's postmaster, nothing if there is none.
# A postmaster killed with SIGKILL lingers as a zombie (Z) until init reaps it.
_cluster_state() {
  local pid
  pid=$(head -n 1 "$1/data/postmaster.pid" 2>/dev/null) || return 0
  awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || true
}

cluster_start() {
  local dir=$1; shift
  CLUSTER_HOST=$dir CLUSTER_PGDATA=$dir/data CLUSTER_LOG=$dir/server.log
  mkdir -p "$dir"
  chmod 755 "$dir"
  chown postgres: "$dir"
  if [[ ! -f $CLUSTER_PGDATA/PG_VERSION ]]; then
    _cluster_as_postgres "$dir" "$ARCHIVE_PG_BIN/initdb" -D "$CLUSTER_PGDATA" --auth=trust \
      --encoding=UTF8 --locale=C.UTF-8 >/dev/null || return 1
    cat >>"$CLUSTER_PGDATA/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $(_cluster_free_port)
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16
max_parallel_workers = 4
max_parallel_workers_per_gather = 2
fsync = off
log_min_messages = warning
CONF
    (($# == 0)) || printf '%s\n' "$@" >>"$CLUSTER_PGDATA/postgresql.conf"
  fi
  # postgres takes a zombie postmaster's lock file for a live server: wait (up to 10 s) for init.
  for _ in {1..100}; do
    [[ $(_cluster_state "$dir") == Z ]] || break
    sleep 0.1
  done
  CLUSTER_PORT=$(sed -n 's/^port = \([0-9]*\)$/\1/p' "$CLUSTER_PGDATA/postgresql.conf" | tail -n 1)
  if ! _cluster_as_postgres "$dir" "$ARCHIVE_PG_BIN/pg_ctl" -D "$CLUSTER_PGDATA" -l "$CLUSTER_LOG" \
    -w start >/dev/null; then
    echo "cluster in $dir did not start; server log:" >&2
    cat "$CLUSTER_LOG" >&2
    return 1
  fi
}

cluster_stop() {
  local dir=$1 mode=${2:-immediate}
  [[ $(_cluster_state "$dir") == [^Z] ]] || return 0
  _cluster_as_postgres "$dir" "$ARCHIVE_PG_BIN/pg_ctl" -D "$dir/data" -m "$mode" -w stop >/dev/null
}
