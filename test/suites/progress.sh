#!/usr/bin/env bash
# test/suites/progress.sh: a long refresh or load shows its progress, to its caller (NOTICEs past
# archive.progress_after) and to an operator in another session (archive.refresh_progress, from
# pg_stat_activity.application_name). Loads the Go blog ($ARCHIVE_DATA_DIR/go-blog.jsonl) into a
# scratch database (dropped at the end) and refreshes it, then:
#   refresh   a holder session runs a full refresh and keeps its transaction (and so the refresh
#             lock) open 2 s; meanwhile a second session (application_name progress-check,
#             archive.progress_after = 1s) starts a full refresh, which waits, then runs; a third
#             session polls archive.refresh_progress every few milliseconds. Checks:
#               waiting_seen     the poller saw the second refresh at step 1/5, "waiting for a
#                                running refresh", waiting on a Lock
#               phase_seen       the poller saw it in a later phase (2/5 to 5/5), with a phase text
#               notices          its caller got a NOTICE for each of phases 2 to 5 and "done", each
#                                past 1 s (it had waited 2 s)
#               name_restored    its session's application_name is progress-check again afterwards
#               name_restored_in_transaction  the holder's too, inside its still open transaction
#                                (never seen as a refresh while it sleeps)
#               quiet_default    a refresh under the default (5 s) sends no NOTICE
#   load      a holder session locks archive.posts (SHARE) for 1.5 s while a session loads the Go
#             blog again with archive.load_jsonl (archive.progress_after = 1s):
#               load_seen        the poller saw "load 1/1: parsing and storing 274 lines" waiting
#               load_notice      the caller got a "done" NOTICE
#   empty_after   archive.refresh_progress is empty once everything finished
# Prints "SUITE-COUNT: <passed> <failed>" and what the poller saw.
set -euo pipefail

source test/lib/checks.sh
find_archive go-blog
data=$archive_file

db=archive_suite_progress_$$
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

admin -c "CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8'"
in_db -o /dev/null <<SQL
CREATE EXTENSION archive;
\\set lines \`cat '$data'\`
SELECT * FROM archive.load_jsonl(:'lines');
SELECT * FROM archive.refresh();
SQL
nposts=$(in_db -A -t -c "SELECT count(*) FROM archive.posts")
echo "progress: Go blog loaded, $nposts posts"


# Polls archive.refresh_progress for <seconds>, printing each distinct
# "pid|operation|step|steps|phase|wait_event_type" it sees: poll <seconds>
poll() {
  in_db -A -t <<SQL
CREATE TEMP TABLE seen (pid integer, operation text, step integer, steps integer, phase text,
                        wait_event_type text, UNIQUE NULLS NOT DISTINCT (pid, operation, step, steps, phase, wait_event_type));
DO \$\$
DECLARE
    deadline constant timestamptz := clock_timestamp() + interval '$1 seconds';
BEGIN
    WHILE clock_timestamp() < deadline LOOP
        PERFORM pg_stat_clear_snapshot();
        INSERT INTO seen
        SELECT p.pid, p.operation, p.step, p.steps, p.phase, p.wait_event_type
        FROM archive.refresh_progress AS p
        WHERE p.database = current_database()
        ON CONFLICT DO NOTHING;
        PERFORM pg_sleep(0.002);
    END LOOP;
END
\$\$;
SELECT concat_ws('|', pid, operation, step, steps, phase, wait_event_type) FROM seen ORDER BY pid, step;
SQL
}

# Waits (up to 10 s) until a session of the database holds a lock of the given type: wait_lock <type>
wait_lock() {
  local i
  for i in $(seq 100); do
    [[ $(in_db -A -t -c "SELECT count(*) FROM pg_locks AS l JOIN pg_database AS d ON d.oid = l.database
                         WHERE d.datname = current_database() AND l.locktype = '$1' AND l.granted
                           AND l.pid <> pg_backend_pid()") != 0 ]] && return 0
    sleep 0.1
  done
  return 1
}

# --- refresh -----------------------------------------------------------------------------------
PGAPPNAME=progress-holder in_db -A -t -c "BEGIN" -c "SELECT mode FROM archive.refresh(full => true)" \
  -c "SHOW application_name" -c "SELECT pg_sleep(2)" -c "COMMIT" >"$work/holder.out" 2>&1 &
pids+=($!)
wait_lock advisory || echo "progress: the holder's refresh did not take its lock within 10 s"
PGAPPNAME=progress-check in_db -A -t -c "SET archive.progress_after = '1s'" \
  -c "SELECT mode FROM archive.refresh(full => true)" -c "SHOW application_name" \
  >"$work/refresh.out" 2>"$work/refresh.err" &
refresher=$!
pids+=($refresher)
poll 4 >"$work/seen" || true
wait "$refresher" || true
wait || true
pids=()
refresher_pid=$(awk -F'|' '$5 == "waiting for a running refresh" { print $1; exit }' "$work/seen")
echo "progress: the poller saw (pid|operation|step|steps|phase|wait):"
sed 's/^/    /' "$work/seen"
echo "progress: the refreshing session printed:"
sed 's/^/    /' "$work/refresh.out" "$work/refresh.err"

check_that waiting_seen "$([[ -n $refresher_pid ]] && grep -q "^$refresher_pid|refresh|1|5|waiting for a running refresh|Lock$" "$work/seen" && echo 1 || echo 0)" \
  "the waiting refresh was seen at step 1/5 waiting on a Lock"
later=$(awk -F'|' -v pid="$refresher_pid" '$1 == pid && $3 >= 2 && $5 != "" { n++ } END { print n + 0 }' "$work/seen")
check_that phase_seen "$((later > 0))" "$later later phases of that refresh were seen ($(awk -F'|' -v pid="$refresher_pid" '$1 == pid && $3 >= 2 { printf "%s%s/%s %s", sep, $3, $4, $5; sep = "; " }' "$work/seen"))"
notices=0
for phase in "reading changes" "summarising [0-9]+ topics" "summarising the archive by month" \
  "assembling [0-9]+ pages" "done, [0-9]+ pages rewritten from $nposts posts"; do
  if grep -Eq "^NOTICE:  archive refresh, ([1-9][0-9]*|[1-9])\.[0-9] s: $phase\$" "$work/refresh.err"; then
    notices=$((notices + 1))
  fi
done
check_that notices "$((notices == 5))" "$notices of 5 phase notices, each past 1 s"
check_that name_restored "$(grep -qx 'progress-check' "$work/refresh.out" && echo 1 || echo 0)" \
  "application_name after the refresh: $(tail -n 1 "$work/refresh.out")"
stale=$(grep -c '|Timeout$' "$work/seen" || true)
check_that name_restored_in_transaction \
  "$( ((stale == 0)) && grep -qx 'progress-holder' "$work/holder.out" && echo 1 || echo 0)" \
  "inside the holder's transaction, after its refresh: application_name $(sed -n 2p "$work/holder.out"), $stale sightings of it as a refresh while it slept"
out=$(in_db -A -t -c "SELECT mode FROM archive.refresh(full => true)" 2>&1)
check_that quiet_default "$([[ $out == full ]] && echo 1 || echo 0)" "a short refresh under the default printed: $out"

# --- load --------------------------------------------------------------------------------------
in_db -o /dev/null -c "BEGIN" -c "LOCK archive.posts IN SHARE MODE" -c "SELECT pg_sleep(1.5)" \
  -c "COMMIT" >"$work/locker.out" 2>&1 &
pids+=($!)
wait_lock relation || echo "progress: the holder did not lock archive.posts within 10 s"
in_db -A -t >"$work/load.out" 2>"$work/load.err" <<SQL &
SET archive.progress_after = '1s';
\\set lines \`cat '$data'\`
SELECT outcome, posts FROM archive.load_jsonl(:'lines');
SQL
loader=$!
pids+=($loader)
poll 2.5 >"$work/seen_load" || true
wait "$loader" || true
wait || true
pids=()
echo "progress: during the load the poller saw:"
sed 's/^/    /' "$work/seen_load"
echo "progress: the loading session printed:"
sed 's/^/    /' "$work/load.out" "$work/load.err"
check_that load_seen "$(grep -Eq "^[0-9]+\|load\|1\|1\|parsing and storing $nposts lines\|Lock$" "$work/seen_load" && echo 1 || echo 0)" \
  "the load was seen at 1/1 \"parsing and storing $nposts lines\", waiting on a Lock"
check_that load_notice "$(grep -Eq '^NOTICE:  archive load, [0-9]+\.[0-9] s: done, 0 rejected lines$' "$work/load.err" && echo 1 || echo 0)" \
  "the caller got the load's done notice"

left=$(in_db -A -t -c "SELECT count(*) FROM archive.refresh_progress")
check_that empty_after "$((left == 0))" "$left rows in archive.refresh_progress once everything finished"

echo "SUITE-COUNT: $passed $failed"
((failed == 0))
