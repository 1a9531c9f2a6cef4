# test/lib/sharding.sh: a coordinator and two shards on this machine, the archive sharded with
# postgres_fdw as doc/sharding.md sets it up. Used by test/suites/sharding.sh and by the
# benchmark's sharded mode (bench/sharded.sh). Source it from bash, from the repo root, after
# test/lib/cluster.sh. The tables are those of test/suites/sharding/shard.sql (on each shard) and
# test/suites/sharding/coordinator.sql (on the coordinator), which doc/sharding.md quotes.
# shellcheck shell=bash
# shellcheck disable=SC2034  # SHARDING_PORT is set for the caller
#
#   sharding_start <dir> <transport> [conf line...]
#       Starts three throwaway clusters (cluster_start) in <dir>/coordinator, <dir>/shard1 and
#       <dir>/shard2, each with the conf lines given. transport: "socket", the coordinator reaches
#       the shards over their Unix sockets; or "tcp", over TCP on 127.0.0.1 (the shards listen
#       there too), where the kernel counts each connection's bytes (ss -ti). Sets
#       SHARDING_PORT[coordinator|shard1|shard2]; returns 1 if a cluster did not start.
#   sharding_psql <server> <db> [psql args...]
#       psql as postgres on coordinator, shard1 or shard2 (over its socket), stopping at the
#       first error.
#   sharding_create_db <db>
#       Creates <db> on the three servers: on each shard the extension and the shard's tables; on
#       the coordinator the extension, postgres_fdw, enable_partitionwise_aggregate = on for the
#       database, the servers (extensions 'archive', async_capable, ...), user mappings, foreign
#       partitions, and the empty one-server copy (schema single).
#   sharding_split <function>
#       Runs <function> <server> <filter> <schema prefix> on the three servers at once, each to
#       keep its share of an archive it generates: a shard the rows whose partition key hashes to
#       it (the filter is satisfies_hash_partition over its empty table "route", hashed as the
#       coordinator's partitioned tables are, :key standing for the key), the coordinator every
#       row, in its one-server tables (prefix "single."). Returns 1 if any of the three failed.
#   sharding_stop <dir>
#       Stops whichever of the three clusters in <dir> run.

declare -gA SHARDING_PORT SHARDING_SOCKET
SHARDING_SERVERS=(coordinator shard1 shard2)
SHARDING_FDW_HOST=  # how the coordinator's foreign servers name the shards' host

sharding_start() {
  local dir=$1 transport=$2 name
  shift 2
  case $transport in
    socket) SHARDING_FDW_HOST= ;;
    tcp) SHARDING_FDW_HOST=127.0.0.1 ;;
    *) echo "sharding_start: transport is socket or tcp, not $transport" >&2; return 1 ;;
  esac
  for name in "${SHARDING_SERVERS[@]}"; do
    if [[ $name == shard* && $transport == tcp ]]; then
      cluster_start "$dir/$name" "$@" "listen_addresses = '127.0.0.1'" || return 1
    else
      cluster_start "$dir/$name" "$@" || return 1
    fi
    SHARDING_SOCKET[$name]=$CLUSTER_HOST SHARDING_PORT[$name]=$CLUSTER_PORT
  done
}

sharding_psql() {
  local name=$1 db=$2
  shift 2
  psql -X -q -v ON_ERROR_STOP=1 -h "${SHARDING_SOCKET[$name]}" -p "${SHARDING_PORT[$name]}" \
    -U postgres -d "$db" "$@"
}

sharding_create_db() {
  local db=$1 name
  for name in shard1 shard2; do
    sharding_psql "$name" postgres -c "CREATE DATABASE $db"
    sharding_psql "$name" "$db" -c "CREATE EXTENSION archive" -f test/suites/sharding/shard.sql
  done
  sharding_psql coordinator postgres -c "CREATE DATABASE $db"
  sharding_psql coordinator "$db" -c "CREATE EXTENSION archive" -c "CREATE EXTENSION postgres_fdw" \
    -c "ALTER DATABASE $db SET enable_partitionwise_aggregate = on" \
    -v host1="${SHARDING_FDW_HOST:-${SHARDING_SOCKET[shard1]}}" -v port1="${SHARDING_PORT[shard1]}" \
    -v host2="${SHARDING_FDW_HOST:-${SHARDING_SOCKET[shard2]}}" -v port2="${SHARDING_PORT[shard2]}" \
    -v db="$db" -f test/suites/sharding/coordinator.sql
}

sharding_split() {
  local pids=() pid rc=0
  "$1" shard1 "satisfies_hash_partition('route'::regclass, 2, 0, :key)" "" &
  pids+=($!)
  "$1" shard2 "satisfies_hash_partition('route'::regclass, 2, 1, :key)" "" &
  pids+=($!)
  "$1" coordinator "true" "single." &
  pids+=($!)
  for pid in "${pids[@]}"; do
    wait "$pid" || rc=1
  done
  return $rc
}

sharding_stop() {
  local dir=$1 name rc=0
  for name in "${SHARDING_SERVERS[@]}"; do
    [[ ! -d $dir/$name ]] || cluster_stop "$dir/$name" || rc=1
  done
  return $rc
}
