#!/usr/bin/env bash
# test/suites/refresh_readers.sh: readers of the topic pages are never blocked by a refresh and
# never see a half-made page. Loads the Go blog ($ARCHIVE_DATA_DIR/go-blog.jsonl) into a scratch
# database (dropped at the end; no topics defined, so every tag of 3 posts is a topic; pages list
# at most 10 references), refreshes,
# then for 15 s at once:
#   readers   pgbench -n -c 4 -j 2 -T 15 -f test/suites/refresh_readers.pgbench: each transaction
#             reads a random topic's page and divides by zero unless it is consistent
#   writers   a loop updating random posts' titles and tags, each batch followed by
#             archive.refresh() (every fourth time archive.refresh(full => true))
#   holders   twice (at about 3 s and 9 s) a session holding a refresh open for 3 s:
#             BEGIN; SELECT archive.refresh([full => true]); SELECT pg_sleep(3); COMMIT;
#             while it holds: pg_locks shows no AccessExclusiveLock on any archive relation and no
#             reader waiting for a lock, and a refresh with archive.refresh_wait = off returns at
#             once with mode 'skipped: ...'
# Checks (SUITE-COUNT, one each): pgbench ran transactions and none failed or aborted; its
# latency max (from its per-transaction log) stayed under half a held refresh (1.5 s); no
# AccessExclusiveLock and no waiting reader while refreshes held; both skipped refreshes returned
# at once (under 0.5 s in the server, under the hold with psql's connection); every refresh
# (writers' and holders') succeeded; at the end the incremental pages equal a full recompute.
# Prints tps, latencies, refresh counts and times.
set -euo pipefail

source test/lib/checks.sh
find_archive go-blog
data=$archive_file
script=$(realpath test/suites/refresh_readers.pgbench)

duration=15 hold=3
db=archive_suite_refresh_readers_$$
work=$(mktemp -d)
pids=()
admin() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
in_db() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
now_ms() { echo $(($(date +%s%N) / 1000000)); }

admin -c "CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8'"
# Pages list at most 10 references, so that the readers see pages that list only some posts.
admin -c "ALTER DATABASE $db SET archive.page_references = 10"
in_db -o /dev/null <<SQL
CREATE EXTENSION archive;
\\set lines \`cat '$data'\`
SELECT * FROM archive.load_jsonl(:'lines');
SELECT * FROM archive.refresh();
SQL
ntopics=$(in_db -A -t -c "SELECT count(*) FROM archive.page_records")
echo "refresh_readers: Go blog loaded, $ntopics pages"


# Writers: update 1 to 3 random posts (title, and now and then tags), then refresh; until the end.
writers() {
  local end=$(($(now_ms) + duration * 1000)) i=0 full out
  while (($(now_ms) < end)); do
    i=$((i + 1))
    full=false
    ((i % 4 != 0)) || full=true
    if out=$(in_db -A -t -F ' ' \
      -c "UPDATE archive.posts
          SET title = regexp_replace(title, ' \\(take \\d+\\)$', '') || ' (take $i)',
              tags = CASE WHEN random() < 0.3 THEN tags || (SELECT t FROM unnest(ARRAY['tools', 'community',
                          'concurrency', 'survey', 'testing', 'generics']) AS t ORDER BY random() LIMIT 1)
                          ELSE tags END
          WHERE key IN (SELECT key FROM archive.posts ORDER BY random() LIMIT 1 + floor(random() * 3)::int)" \
      -c "SELECT mode, round(extract(epoch FROM elapsed) * 1000) FROM archive.refresh(full => $full)" 2>&1); then
      echo "refresh $out"
    else
      echo "error $(tr '\n' ' ' <<<"$out")"
    fi
  done
}

# A session that holds a refresh (and so the refresh lock) open for $hold seconds.
holder() { # holder <name> <full>
  PGAPPNAME=$1 in_db -A -t -F ' ' \
    -c "BEGIN" -c "SELECT mode FROM archive.refresh(full => $2)" -c "SELECT pg_sleep($hold)" -c "COMMIT" 2>&1
}

# While a holder holds: locks, and a refresh that must not wait. Appends to $work/holds.
probe() { # probe <name>
  local name=$1 start elapsed out
  # wait (up to 10 s) until the holder sleeps, its refresh done and the lock held
  for _ in $(seq 100); do
    [[ $(in_db -A -t -c "SELECT count(*) FROM pg_stat_activity
                         WHERE application_name = '$name' AND wait_event = 'PgSleep'") == 1 ]] && break
    sleep 0.1
  done
  out=$(in_db -A -t -F ' ' -c "
    SELECT (SELECT count(*) FROM pg_stat_activity WHERE application_name = '$name' AND wait_event = 'PgSleep'),
           (SELECT count(*) FROM pg_locks AS l JOIN pg_class AS c ON c.oid = l.relation
            WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND c.relnamespace = 'archive'::regnamespace AND l.mode = 'AccessExclusiveLock'),
           (SELECT count(*) FROM pg_locks AS l JOIN pg_stat_activity AS a USING (pid)
            WHERE NOT l.granted AND a.application_name = 'pgbench'),
           (SELECT string_agg(DISTINCT l.mode, ',' ORDER BY l.mode) FROM pg_locks AS l
            JOIN pg_stat_activity AS a USING (pid) JOIN pg_class AS c ON c.oid = l.relation
            WHERE a.application_name = '$name' AND c.relname = 'page_records')")
  echo "$name locks $out" >>"$work/holds"
  start=$(now_ms)
  out=$(in_db -A -t -F '|' -c "SET archive.refresh_wait = off" \
    -c "SELECT round(extract(epoch FROM elapsed) * 1000), mode FROM archive.refresh()" 2>&1) || true
  elapsed=$(($(now_ms) - start))
  echo "$name skip $elapsed|$(tr '\n' ' ' <<<"$out" | sed 's/ $//')" >>"$work/holds"
}

start=$(now_ms)
pgbench -n -c 4 -j 2 -T "$duration" -D ntopics="$ntopics" -f "$script" -l --log-prefix="$work/txn" "$db" \
  >"$work/pgbench.out" 2>&1 &
pgbench_pid=$!
pids+=("$pgbench_pid")
writers >"$work/writers" 2>&1 &
pids+=($!)

sleep 3
holder holder_incremental false >"$work/holder_incremental" &
pids+=($!)
probe holder_incremental
sleep 3
holder holder_full true >"$work/holder_full" &
pids+=($!)
probe holder_full

pgbench_rc=0
wait "$pgbench_pid" || pgbench_rc=$?
wait
pids=()
echo "refresh_readers: readers and writers ran for $(($(now_ms) - start)) ms"

# (1) pgbench: transactions, none failed, none aborted.
sed -n '/^transaction type/,$p' "$work/pgbench.out" | sed 's/^/  pgbench: /'
processed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/pgbench.out")
failed_txn=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$work/pgbench.out")
tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/pgbench.out" | head -n 1)
aborted=$(grep -c 'aborted' "$work/pgbench.out" || true)
check_that pgbench $((pgbench_rc == 0 && ${processed:-0} > 0 && ${failed_txn:-1} == 0 && aborted == 0)) \
  "exit $pgbench_rc, ${processed:-?} transactions, ${failed_txn:-?} failed, $aborted aborted, tps ${tps:-?}"
if ((aborted > 0)); then grep -m 5 'aborted\|ERROR' "$work/pgbench.out" || true; fi

# (2) readers never waited: latency max (per-transaction log, microseconds) under half a hold.
read -r lat_n lat_avg lat_max < <(cat "$work"/txn.* 2>/dev/null |
  awk '{ n++; s += $3; if ($3 > m) m = $3 } END { printf "%d %.2f %.2f\n", n, n ? s / n / 1000 : 0, m / 1000 }')
check_that readers_not_blocked "$(awk -v m="$lat_max" -v n="$lat_n" 'BEGIN { print (n > 0 && m < 1500) }')" \
  "$lat_n reads, latency avg $lat_avg ms, max $lat_max ms (a held refresh lasts ${hold}000+ ms)"

# (3) no AccessExclusiveLock on archive relations, no reader waiting, while a refresh held.
locks_ok=1 locks_detail=
while read -r name _ sleeping exclusive waiting modes; do
  ((sleeping == 1 && exclusive == 0 && waiting == 0)) || locks_ok=0
  locks_detail+="$name: holding=$sleeping AccessExclusiveLock=$exclusive readers_waiting=$waiting page_records=$modes; "
done < <(grep ' locks ' "$work/holds")
(($(grep -c ' locks ' "$work/holds") == 2)) || locks_ok=0
check_that no_exclusive_locks "$locks_ok" "$locks_detail"

# (4) refresh_wait = off while another refresh holds the lock: skipped, at once.
skip_ok=1 skip_detail=
while IFS='|' read -r head server_ms mode; do
  name=${head%% *} ms=${head##* }
  [[ $mode == "skipped: "* && $server_ms =~ ^[0-9]+$ ]] && ((server_ms < 500 && ms < hold * 1000)) || skip_ok=0
  skip_detail+="$name: '$mode' after $server_ms ms in the server, $ms ms with psql; "
done < <(grep ' skip ' "$work/holds")
(($(grep -c ' skip ' "$work/holds") == 2)) || skip_ok=0
check_that skipped_at_once "$skip_ok" "$skip_detail"

# (5) every refresh succeeded: the writers' and the holders'.
nref=$(grep -c '^refresh ' "$work/writers" || true)
nerr=$(grep -c -v '^refresh ' "$work/writers" || true)
grep -v '^refresh ' "$work/writers" | head -n 5 || true
read -r ninc nfull avg_ms max_ms < <(awk '/^refresh / { if ($2 == "incremental") i++; else if ($2 == "full") f++;
    n++; s += $3; if ($3 > m) m = $3 } END { printf "%d %d %d %d\n", i, f, n ? s / n : 0, m }' "$work/writers")
holders_ok=1
for h in holder_incremental holder_full; do
  grep -qx 'incremental\|full' "$work/$h" || { holders_ok=0; echo "  $h: $(tr '\n' ' ' <"$work/$h")"; }
done
check_that refreshes_succeeded $((nref > 0 && nerr == 0 && ninc + nfull == nref && holders_ok)) \
  "writers: $nref refreshes ($ninc incremental, $nfull full), $nerr errors, avg $avg_ms ms, max $max_ms ms; holders: $(cat "$work/holder_incremental" "$work/holder_full" | tr '\n' ' ')"

# (6) after it all, one more incremental refresh leaves exactly the pages a full recompute gives.
out=$(in_db -A -t -F ' ' \
  -c "SELECT mode FROM archive.refresh()" \
  -c "CREATE TABLE inc_pages AS SELECT topic, record, markdown, html FROM archive.page_records" \
  -c "SELECT topics_recomputed FROM archive.refresh(full => true)" \
  -c "SELECT count(*) FROM (SELECT topic FROM (TABLE inc_pages EXCEPT SELECT topic, record, markdown, html FROM archive.page_records) a
                            UNION SELECT topic FROM (SELECT topic, record, markdown, html FROM archive.page_records EXCEPT TABLE inc_pages) b) d" \
  -c "SELECT count(*) FROM archive.changes" 2>&1) || true
read -r mode rewrote ndiff pending <<<"$(tr '\n' ' ' <<<"$out")"
check_that final_pages_equal_full "$([[ $mode == incremental && $rewrote == 0 && $ndiff == 0 && $pending == 0 ]] && echo 1 || echo 0)" \
  "last refresh $mode, full recompute rewrote $rewrote pages, $ndiff differ, $pending changes pending"

echo "SUITE-COUNT: $passed $failed"
((failed == 0))
