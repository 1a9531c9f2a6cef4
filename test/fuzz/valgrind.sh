#!/usr/bin/env bash
# test/fuzz/valgrind.sh: the pg_regress suites (all, or the ones named) against a throwaway cluster
# whose postmaster runs under Valgrind (memcheck, following every forked backend), as root from the
# repo root, with the extension built and installed (make install). Reports the Valgrind errors
# and exits 1 when one has a frame in archive.so (ours) or libcmark (called by us), or when a
# suite's output differs from its expected file.
#   test/fuzz/valgrind.sh                 make installcheck (every pg_regress suite), ~10 min
#   test/fuzz/valgrind.sh span render     just these suites (test/suites/valgrind.sh: the short form)
#   KEEP=1                                keep the cluster folder with the Valgrind logs
# Debian's server is not built with USE_VALGRIND, so memcheck sees malloc'd blocks, not palloc
# chunks: it finds reads of uninitialised memory and accesses outside the server's blocks, not
# overruns inside a memory context block (AddressSanitizer on the fuzz targets covers those).
# The reports it makes on PostgreSQL itself (write() of padding bytes, which PostgreSQL's own
# src/tools/valgrind.supp suppresses) are counted but do not fail the run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export ARCHIVE_PG_BIN=/usr/lib/postgresql/15/bin PATH=/usr/lib/postgresql/15/bin:$PATH
source test/lib/cluster.sh
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
dir=$(mktemp -d /tmp/archive_valgrind.XXXXXX)
finish() {
  runuser -u postgres -- "$ARCHIVE_PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  [[ ${KEEP:-} == 1 ]] && echo "valgrind.sh: logs kept in $dir" || rm -rf "$dir"
}
trap finish EXIT
# initdb with the test settings, then start the postmaster by hand, under valgrind
cluster_start "$dir" "shared_preload_libraries = ''" "autovacuum = off" "max_parallel_workers_per_gather = 0" >/dev/null
cluster_stop "$dir" fast
(cd "$dir" && runuser -u postgres -- valgrind --quiet --track-origins=yes --num-callers=30 --error-limit=no \
   --log-file="$dir/valgrind.%p.log" "$ARCHIVE_PG_BIN/postgres" -D "$dir/data" >"$dir/server.log" 2>&1) &
export PGHOST=$dir PGPORT=$CLUSTER_PORT PGUSER=postgres
for _ in {1..900}; do psql -X -q -d postgres -c "SELECT 1" >/dev/null 2>&1 && break; sleep 0.2; done
start=$SECONDS
regress_ok=1
make -s installcheck PG_CONFIG="$ARCHIVE_PG_BIN/pg_config" ${1:+REGRESS="$*"} >"$dir/regress.log" 2>&1 || regress_ok=0
grep -E '^(test |     )?[^ ]+ +\.\.\.|tests (passed|failed)' "$dir/regress.log" || true
echo "valgrind.sh: ran in $((SECONDS - start)) s"
runuser -u postgres -- "$ARCHIVE_PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
sleep 1
total=$(cat "$dir"/valgrind.*.log | grep -c -E '^==[0-9]+== [A-Z]' || true)
ours=$(grep -l -E 'archive\.so|libcmark' "$dir"/valgrind.*.log || true)
echo "valgrind.sh: $total Valgrind reports in all; in archive.so or libcmark: ${ours:-none}"
cat "$dir"/valgrind.*.log | grep -E '^==[0-9]+== [A-Z]' | sed 's/^==[0-9]*== //' | sort | uniq -c | sort -rn | head -n 10
# the first frames of each invalid access, ours or not, to tell them apart
grep -h -A 8 -E '^==[0-9]+== Invalid (read|write)' "$dir"/valgrind.*.log | sed 's/^==[0-9]*== //' |
  awk '/^Invalid/ { n++ } n <= 4' || true
if [[ -n $ours ]]; then
  for f in $ours; do head -n 60 "$f"; done
  exit 1
fi
if ((regress_ok == 0)); then
  echo "valgrind.sh: a pg_regress suite failed under Valgrind (regression.diffs)"
  exit 1
fi
