#!/usr/bin/env bash
# test/suites/faults.sh: faults during a refresh or a load, on a cluster of its own (started with
# test/lib/cluster.sh, stopped and removed at the end), with the Go blog loaded and refreshed
# ($ARCHIVE_DATA_DIR/go-blog.jsonl; the sample archive when it is missing). "Pages" below means
# every row of archive.page_records, topic_months, archive_months and refresh_state, compared by
# checksums with a snapshot taken before the fault. A fault is made to strike mid-way by a second
# session holding a row lock that the refresh or the load must wait for, after it has already
# written: the fault then hits a transaction with work done.
#   kill_refresh       SIGKILL of the backend running archive.refresh(full => true), blocked on a
#                      page_records row: the server restarts (crash recovery), the pages are the
#                      snapshot, the changes are still pending, and the next refresh applies them
#   kill_load          SIGKILL of the backend running archive.load_jsonl of a big text (20,000
#                      new posts, then an update of a locked post): after recovery no post of it is
#                      there and nothing was logged for it
#   statement_timeout  a refresh cancelled by statement_timeout (57014) mid-way: pages are the
#                      snapshot, the changes still pending; the next refresh applies them
#   disk_full          page_records moved to a tablespace on a small tmpfs that is then filled: the
#                      refresh fails with disk_full (53100) and the pages are the snapshot; with
#                      space again the next refresh succeeds. Skipped (said so) when tmpfs cannot be
#                      mounted here (no CAP_SYS_ADMIN)
#   dump_restore       pg_dump -Fc of the database, pg_restore into a new one, archive.refresh():
#                      the same pages (record, markdown, html per topic), user filler words kept
# Prints "SUITE-COUNT: <passed> <failed>" (one per check).
set -euo pipefail
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
source test/lib/cluster.sh

data=${ARCHIVE_DATA_DIR:-}/go-blog.jsonl
if [[ ! -f $data ]]; then
  echo "faults: no Go blog archive at $data; using the sample archive"
  data=sample/posts.jsonl
fi

dir=$(mktemp -d /tmp/archive_faults.XXXXXX)
tiny=$dir/tiny
mounted=
cleanup() {
  cluster_stop "$dir" || true
  [[ -z $mounted ]] || umount "$tiny" 2>/dev/null || true
  [[ -n $mounted ]] && mountpoint -q "$tiny" || rm -rf "$dir"
}
trap cleanup EXIT

cluster_start "$dir" "restart_after_crash = on" "log_min_messages = warning" >/dev/null
export PGHOST=$CLUSTER_HOST PGPORT=$CLUSTER_PORT PGUSER=postgres
db=faults
sql() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
val() { psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$db" "$@"; }

source test/lib/checks.sh

# Waits (up to 60 s) until the server takes connections again.
wait_up() {
  for _ in {1..600}; do
    if psql -X -q -A -t -d postgres -c "SELECT 1" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Waits (up to 20 s) until a backend runs a statement matching $1 and waits for a lock; prints its pid.
blocked_pid() {
  local pid
  for _ in {1..200}; do
    pid=$(val -c "SELECT pid FROM pg_stat_activity
                  WHERE datname = current_database() AND query LIKE '$1' AND wait_event_type = 'Lock'
                    AND pid <> pg_backend_pid() LIMIT 1")
    if [[ -n $pid ]]; then echo "$pid"; return 0; fi
    sleep 0.1
  done
  return 1
}

# Waits (up to 20 s) until the lock holder (a session sleeping in pg_sleep) holds its lock.
wait_holder() {
  for _ in {1..200}; do
    [[ -z $(val -c "SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
                    AND query LIKE 'SELECT pg_sleep(%' AND state = 'active'") ]] || return 0
    sleep 0.1
  done
  return 1
}

# Checksums of everything a refresh writes, and what is pending.
state_sql="
SELECT 'page ' || topic || ' ' || md5(record::text) || ' ' || md5(markdown) || ' ' || md5(html) FROM archive.page_records
UNION ALL SELECT 'topic_month ' || topic || ' ' || month || ' ' || md5(tm::text) FROM archive.topic_months AS tm
UNION ALL SELECT 'archive_month ' || month || ' ' || md5(am::text) FROM archive.archive_months AS am
UNION ALL SELECT 'refresh_state ' || md5(rs::text) FROM archive.refresh_state AS rs
UNION ALL SELECT 'pending ' || count(*) FROM archive.changes
UNION ALL SELECT 'posts ' || count(*) || ' ' || md5(string_agg(p::text, '|' ORDER BY key)) FROM archive.posts AS p
ORDER BY 1"
snapshot() { val -c "$state_sql"; }

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db"
{
  printf '\\set lines `cat %s`\n' "$data"
  cat <<'SQL'
CREATE EXTENSION archive;
SELECT * FROM archive.load_jsonl(:'lines');
INSERT INTO archive.filler_words (word) VALUES ('golang'), ('gopher');
SELECT * FROM archive.refresh();
CREATE TABLE public.lock_helper (n int);
SQL
} | sql -o /dev/null
echo "faults: $(val -c "SELECT count(*) || ' posts, ' || (SELECT count(*) FROM archive.page_records) || ' pages' FROM archive.posts")"

# Changes for the next refresh: retitled and retagged posts, so pages must differ after it.
pending_changes() {
  sql -c "UPDATE archive.posts SET title = title || ' (revised $1)', tags = tags || '{faults-$1}'
          WHERE key IN (SELECT key FROM archive.posts ORDER BY key LIMIT 40)"
}

# ---------------------------------------------------------------------------------------------
# 1. SIGKILL of a refresh blocked mid-way.
pending_changes 1
before=$(snapshot)
server_sql="SELECT 'postmaster started ' || pg_postmaster_start_time() || ', checkpointer started ' || min(backend_start)
            FROM pg_stat_activity WHERE backend_type = 'checkpointer'"
started=$(val -c "$server_sql")
# a page the refresh rewrites: one of a changed post's topics
lock_topic=$(val -c "SELECT topic FROM archive.topic_members
                     WHERE post_key IN (SELECT key FROM archive.posts ORDER BY key LIMIT 40) ORDER BY topic LIMIT 1")
# the lock holder: keeps a page_records row locked until it is killed with everything else
psql -X -q -d "$db" -c "BEGIN" -c "SELECT 1 FROM archive.page_records WHERE topic = '$lock_topic' FOR UPDATE" \
  -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
holder=$!
wait_holder || echo "faults: the lock holder did not start"
psql -X -q -d "$db" -c "SELECT archive.refresh(full => true)" >"$dir/refresh1.out" 2>&1 &
refresher=$!
rc=0
if pid=$(blocked_pid '%archive.refresh%'); then
  # a transaction id means it has written (topic_months and archive_months come before the pages)
  wrote=$(val -c "SELECT backend_xid IS NOT NULL FROM pg_stat_activity WHERE pid = $pid")
  kill -9 "$pid"
  wait "$refresher" 2>/dev/null || true
  wait "$holder" 2>/dev/null || true
  wait_up || rc=1
  after=$(snapshot)
  now=$(val -c "$server_sql")
  restarted=$(grep -c "terminated by signal 9" "$CLUSTER_LOG" || true)
  if [[ $wrote != t ]]; then
    rc=1 why="the refresh had not written anything when it was killed"
  elif [[ $before != "$after" ]]; then
    rc=1 why="pages differ from the snapshot after crash recovery: $(diff <(echo "$before") <(echo "$after") | head -n 10)"
  elif ((restarted == 0)); then
    rc=1 why="the server log shows no backend killed by signal 9"
  elif [[ $started == "$now" ]]; then
    rc=1 why="the checkpointer did not restart: no crash recovery?"
  fi
  echo "faults: refresh backend $pid killed; crash recovery: $started -> $now"
  out=$(val -c "SELECT mode || ' ' || topics_recomputed FROM archive.refresh()" 2>&1) || { rc=1 why="the next refresh failed: $out"; }
  if ((rc == 0)); then
    changed=$(val -c "SELECT count(*) FROM archive.page_records WHERE markdown LIKE '%(revised 1)%'")
    pending=$(val -c "SELECT count(*) FROM archive.changes")
    ((changed > 0 && pending == 0)) || { rc=1 why="the next refresh ($out) did not apply the changes: $changed pages revised, $pending pending"; }
  fi
else
  rc=1 why="the refresh never waited on the locked row"
  kill "$holder" "$refresher" 2>/dev/null || true
fi
check_status kill_refresh "$rc" "${why:-}"
why=

# ---------------------------------------------------------------------------------------------
# 2. SIGKILL of a big load blocked mid-way (its last line updates a locked post).
before=$(snapshot)
locked_key=$(val -c "SELECT key FROM archive.posts ORDER BY key LIMIT 1")
val -c "COPY (SELECT jsonb_build_object('url', 'https://faults.example/new/' || i, 'title', 'Loaded post ' || i,
                                        'summary', repeat('Summary text. ', 20), 'tags', jsonb_build_array('go', 'faults-load'),
                                        'published_at', '2022-01-01T00:00:00Z')::text FROM generate_series(1, 20000) AS i
              UNION ALL SELECT jsonb_build_object('url', '$locked_key', 'title', 'Locked post, retitled')::text)
        TO STDOUT" >"$dir/big.jsonl"
psql -X -q -d "$db" -c "BEGIN" -c "SELECT 1 FROM archive.posts WHERE key = '$locked_key' FOR UPDATE" \
  -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
holder=$!
wait_holder || echo "faults: the lock holder did not start"
{
  printf '\\set lines `cat %s`\n' "$dir/big.jsonl"
  echo "SELECT * FROM archive.load_jsonl(:'lines');"
} | psql -X -q -d "$db" >"$dir/load.out" 2>&1 &
loader=$!
rc=0
if pid=$(blocked_pid '%archive.load_jsonl%'); then
  kill -9 "$pid"
  wait "$loader" 2>/dev/null || true
  wait "$holder" 2>/dev/null || true
  wait_up || rc=1
  after=$(snapshot)
  loaded=$(val -c "SELECT count(*) FROM archive.posts WHERE key LIKE 'https://faults.example/new/%'")
  if ((loaded != 0)); then
    rc=1 why="$loaded posts of the killed load are there"
  elif [[ $before != "$after" ]]; then
    rc=1 why="posts, changes or pages differ after the killed load: $(diff <(echo "$before") <(echo "$after") | head -n 10)"
  fi
  echo "faults: load backend $pid killed; $loaded of its 20001 lines are in archive.posts"
  out=$(val -c "SELECT mode FROM archive.refresh()" 2>&1) || { rc=1 why="the refresh after the killed load failed: $out"; }
else
  rc=1 why="the load never waited on the locked post"
  kill "$holder" "$loader" 2>/dev/null || true
fi
check_status kill_load "$rc" "${why:-}"
why=

# ---------------------------------------------------------------------------------------------
# 3. statement_timeout during a refresh (blocked mid-way, so the timeout strikes with work done).
pending_changes 3
before=$(snapshot)
psql -X -q -d "$db" -c "BEGIN" -c "SELECT 1 FROM archive.page_records WHERE topic = '$lock_topic' FOR UPDATE" \
  -c "SELECT pg_sleep(3)" >/dev/null 2>&1 &
holder=$!
wait_holder || echo "faults: the lock holder did not start"
rc=0
out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "SET statement_timeout = '1s'" -c "\\set VERBOSITY verbose" \
        -c "SELECT archive.refresh(full => true)" 2>&1) && { rc=1 why="the refresh was not cancelled: $out"; }
wait "$holder" 2>/dev/null || true
if ((rc == 0)); then
  after=$(snapshot)
  if [[ $out != *57014* ]]; then
    rc=1 why="not cancelled by statement_timeout (57014): $out"
  elif [[ $before != "$after" ]]; then
    rc=1 why="pages differ after the cancelled refresh: $(diff <(echo "$before") <(echo "$after") | head -n 10)"
  elif (($(val -c "SELECT pending_changes FROM archive.refresh_status") == 0)); then
    rc=1 why="no changes pending after the cancelled refresh"
  fi
  out=$(val -c "SELECT mode FROM archive.refresh()" 2>&1) || { rc=1 why="the next refresh failed: $out"; }
  ((rc != 0 || $(val -c "SELECT count(*) FROM archive.page_records WHERE markdown LIKE '%(revised 3)%'") > 0)) ||
    { rc=1 why="the next refresh did not apply the changes"; }
fi
check_status statement_timeout "$rc" "${why:-}"
why=

# ---------------------------------------------------------------------------------------------
# 4. Disk full: page_records in a tablespace on a small tmpfs, filled up before the refresh.
mkdir -p "$tiny"
if mount -t tmpfs -o size=4m,mode=0700 archive_faults_tiny "$tiny" 2>/dev/null; then
  mounted=1
  chown postgres: "$tiny"
  rc=0
  sql -c "CREATE TABLESPACE faults_tiny LOCATION '$tiny'" -c "ALTER TABLE archive.page_records SET TABLESPACE faults_tiny"
  pending_changes 4
  # grow every page, so that the refresh must write more than is left
  sql -o /dev/null -c "INSERT INTO archive.topics (slug, name, lens, tags)
        SELECT archive.slugify(t.term), t.term, (SELECT string_agg(md5(i || t.term), ' ') FROM generate_series(1, 400) AS i), ARRAY[t.term]
        FROM archive.terms((SELECT archive.tag_counts_agg(tags) FROM archive.posts)) AS t
        WHERE archive.slugify(t.term) IS NOT NULL AND t.count >= 3 ON CONFLICT DO NOTHING"
  before=$(snapshot)
  free_kb=$(df -k --output=avail "$tiny" | tail -n 1)
  dd if=/dev/zero of="$tiny/filler" bs=1k count=$((free_kb > 64 ? free_kb - 64 : 0)) status=none 2>/dev/null || true
  out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "\\set VERBOSITY verbose" -c "SELECT archive.refresh()" 2>&1) &&
    { rc=1 why="the refresh succeeded on a full disk: $out"; }
  full_error=$(printf '%s\n' "$out" | grep -m 1 ERROR || true)
  if ((rc == 0)); then
    after=$(snapshot)
    if [[ $out != *53100* ]]; then
      rc=1 why="not disk_full (53100): $out"
    elif [[ $before != "$after" ]]; then
      rc=1 why="pages differ after the failed refresh: $(diff <(echo "$before") <(echo "$after") | head -n 10)"
    fi
  fi
  rm -f "$tiny/filler"
  out=$(val -c "ALTER TABLE archive.page_records SET TABLESPACE pg_default" -c "SELECT mode FROM archive.refresh()" 2>&1) ||
    { rc=1 why="the refresh with space again failed: $out"; }
  sql -c "DROP TABLESPACE faults_tiny" 2>/dev/null || true
  check_status disk_full "$rc" "${why:-}"
  why=
  echo "faults: disk_full: the refresh on a full disk: $full_error"
else
  echo "faults: disk_full skipped: cannot mount a tmpfs here (see doc/security.md for what a full disk does)"
  rmdir "$tiny" 2>/dev/null || true
fi

# ---------------------------------------------------------------------------------------------
# 5. pg_dump and restore into a new database: the same pages after a refresh.
pending_changes 5
val -o /dev/null -c "SELECT * FROM archive.refresh()"
pages_sql="SELECT topic || ' ' || md5(record::text) || ' ' || md5(markdown) || ' ' || md5(html) FROM archive.page_records ORDER BY topic"
original=$(val -c "$pages_sql")
fillers=$(val -c "SELECT string_agg(word, ',' ORDER BY word) FROM archive.filler_words WHERE NOT shipped")
rc=0
if out=$(pg_dump -Fc -d "$db" -f "$dir/faults.dump" 2>&1) &&
   out=$(psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE faults_restored" 2>&1) &&
   out=$(pg_restore --exit-on-error -d faults_restored "$dir/faults.dump" 2>&1) &&
   out=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -d faults_restored -c "SELECT mode FROM archive.refresh()" 2>&1); then
  restored=$(psql -X -q -A -t -d faults_restored -c "$pages_sql")
  restored_fillers=$(psql -X -q -A -t -d faults_restored -c "SELECT string_agg(word, ',' ORDER BY word) FROM archive.filler_words WHERE NOT shipped")
  shipped=$(psql -X -q -A -t -d faults_restored -c "SELECT count(*) FROM archive.filler_words WHERE shipped")
  if [[ $original != "$restored" ]]; then
    rc=1 why="pages differ after dump and restore: $(diff <(echo "$original") <(echo "$restored") | head -n 10)"
  elif [[ $fillers != "$restored_fillers" ]]; then
    rc=1 why="user filler words $fillers became $restored_fillers"
  elif [[ -z $original ]]; then
    rc=1 why="no pages to compare"
  fi
  echo "faults: dump and restore: $(echo "$restored" | wc -l) pages compared, filler words: $restored_fillers, $shipped shipped"
else
  rc=1 why="dump, restore or refresh failed: $out"
fi
check_status dump_restore "$rc" "${why:-}"

echo "SUITE-COUNT: $passed $failed"
((failed == 0))
