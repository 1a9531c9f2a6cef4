#!/usr/bin/env bash
# test/suites/cron_refresh.sh: the scheduled refresh with the real pg_cron (1.4, preloaded by
# test/lib/cluster.sh with cron.database_name = 'postgres' and background workers). In the
# postgres database: a fresh archive extension (dropped first if present) and pg_cron, the sample
# archive (sample/posts.jsonl, sample/topics.jsonl), a refresh; then
#   schedule        archive.schedule_refresh('* * * * *') makes one job "archive-refresh" in this
#                   database running archive.refresh() and purge_refresh_runs
#   page_changes    a new public post tagged testing reaches the testing page without anyone
#                   refreshing (polled every 2 s, at most 90 s; the time it took is printed)
#   run_logged      cron.job_run_details has a 'succeeded' run of the job, and the scheduled
#                   refresh was incremental (the job's session has the same page settings)
#   reschedule      schedule_refresh again replaces the job: same jobid, new schedule, one job
#   purge           purge_refresh_runs() keeps recent runs (default 7 days); with keep '0 seconds'
#                   it deletes every finished run of the job
#   unschedule      unschedule_refresh() is true, then false, and the job is gone
# Both extensions are dropped at the end (pg_cron only if this suite created it).
# Prints "SUITE-COUNT: <passed> <failed>".
set -euo pipefail

db=postgres
in_db() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
value() { in_db -A -t -F '|' -c "$1"; }
created_cron=0
cleanup() {
  in_db -c "SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = 'archive-refresh'" >/dev/null 2>&1 || true
  in_db -c "DROP EXTENSION IF EXISTS archive CASCADE" >/dev/null 2>&1 || true
  if ((created_cron)); then in_db -c "DROP EXTENSION IF EXISTS pg_cron" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

if [[ $(value "SELECT current_setting('cron.database_name', true)") != "$db" ]]; then
  echo "cron_refresh: cron.database_name is not '$db': is pg_cron preloaded?" >&2
  echo "SUITE-COUNT: 0 1"
  exit 1
fi
[[ $(value "SELECT count(*) FROM pg_extension WHERE extname = 'pg_cron'") == 1 ]] || created_cron=1
in_db -o /dev/null <<'SQL'
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS archive CASCADE;
CREATE EXTENSION IF NOT EXISTS pg_cron;
CREATE EXTENSION archive;
\set lines `cat sample/posts.jsonl`
\set topic_lines `cat sample/topics.jsonl`
SELECT * FROM archive.load_jsonl(:'lines');
SELECT * FROM archive.load_topics_jsonl(:'topic_lines');
SELECT * FROM archive.refresh();
SQL

source test/lib/checks.sh

before=$(value "SELECT post_count FROM archive.topic_pages WHERE topic = 'testing'")
jobid=$(value "SELECT archive.schedule_refresh('* * * * *')")
IFS='|' read -r njobs schedule database command < <(value "
  SELECT count(*) OVER (), schedule, database, command FROM cron.job WHERE jobname = 'archive-refresh'")
check_that schedule "$([[ $njobs == 1 && $schedule == '* * * * *' && $database == "$db" && $command == *'archive.refresh()'* ]] &&
  echo 1 || echo 0)" "job $jobid, $njobs job(s) named archive-refresh in database $database, schedule '$schedule': $command"

# A new public post tagged testing; nobody refreshes but pg_cron.
in_db -c "INSERT INTO archive.posts (key, url, title, summary, published_at, tags)
          VALUES ('https://fieldnotes.example/posts/scheduled-refreshes/',
                  'https://fieldnotes.example/posts/scheduled-refreshes/', 'Testing Scheduled Refreshes',
                  'The page changed while nobody was looking.', now(), ARRAY['testing'])"
inserted=$SECONDS after=$before
while ((SECONDS - inserted <= 90)); do
  after=$(value "SELECT post_count FROM archive.topic_pages WHERE topic = 'testing'")
  ((after <= before)) || break
  sleep 2
done
took=$((SECONDS - inserted))
check_that page_changes $((after > before)) \
  "testing page: $before posts before, $after after; the page changed ${took} s after the insert (limit 90 s)"

# The run log: a succeeded run, and the scheduled refresh was incremental.
for _ in $(seq 10); do # the run that refreshed may still be finishing (purge_refresh_runs after refresh)
  [[ $(value "SELECT count(*) FROM cron.job_run_details WHERE jobid = $jobid AND status = 'succeeded'") == 0 ]] || break
  sleep 1
done
runs=$(value "SELECT string_agg(status || coalesce(' (' || return_message || ')', ''), ', ' ORDER BY runid)
              FROM cron.job_run_details WHERE jobid = $jobid")
IFS='|' read -r succeeded last_mode pending < <(value "
  SELECT (SELECT count(*) FROM cron.job_run_details WHERE jobid = $jobid AND status = 'succeeded'),
         last_mode, pending_changes FROM archive.refresh_status")
check_that run_logged "$([[ $succeeded -ge 1 && $last_mode == incremental ]] && echo 1 || echo 0)" \
  "runs: $runs; last refresh $last_mode, $pending changes pending"

# Scheduling again replaces the job. A schedule that will not fire during the rest of the suite.
jobid2=$(value "SELECT archive.schedule_refresh('0 0 1 1 *', '1 day')")
IFS='|' read -r njobs schedule < <(value "SELECT count(*) OVER (), schedule FROM cron.job WHERE jobname = 'archive-refresh'")
command=$(value "SELECT command FROM cron.job WHERE jobname = 'archive-refresh'")
check_that reschedule "$([[ $jobid2 == "$jobid" && $njobs == 1 && $schedule == '0 0 1 1 *' && $command == *"'1 day'"* ]] &&
  echo 1 || echo 0)" "jobid $jobid then $jobid2, $njobs job(s), schedule '$schedule', command: $command"

# Purging: recent runs are kept by default; keep => '0 seconds' deletes every finished run.
for _ in $(seq 30); do # no run in progress
  [[ $(value "SELECT count(*) FROM cron.job_run_details WHERE jobid = $jobid AND end_time IS NULL") == 0 ]] && break
  sleep 1
done
finished=$(value "SELECT count(*) FROM cron.job_run_details WHERE jobid = $jobid AND end_time IS NOT NULL")
kept=$(value "SELECT archive.purge_refresh_runs()")
purged=$(value "SELECT archive.purge_refresh_runs(keep => '0 seconds')")
left=$(value "SELECT count(*) FROM cron.job_run_details WHERE jobid = $jobid AND end_time IS NOT NULL")
check_that purge $((finished >= 1 && kept == 0 && purged == finished && left == 0)) \
  "$finished finished runs; purge with the default keep deleted $kept, with keep '0 seconds' $purged; $left left"

# Unscheduling: true, then false.
first=$(value "SELECT archive.unschedule_refresh()")
second=$(value "SELECT archive.unschedule_refresh()")
jobs_left=$(value "SELECT count(*) FROM cron.job WHERE jobname = 'archive-refresh'")
check_that unschedule "$([[ $first == t && $second == f && $jobs_left == 0 ]] && echo 1 || echo 0)" \
  "first $first, then $second; $jobs_left job(s) left"

in_db -c "DROP EXTENSION archive"
((created_cron == 0)) || in_db -c "DROP EXTENSION pg_cron"
created_cron=0
echo "cron_refresh: the scheduled refresh changed the page ${took} s after the insert"
echo "SUITE-COUNT: $passed $failed"
((failed == 0))
