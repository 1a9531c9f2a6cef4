#!/usr/bin/env bash
# test/suites/incremental.sh: the incremental refresh gives exactly the pages a full recompute
# gives. Loads the Go blog ($ARCHIVE_DATA_DIR/go-blog.jsonl) into a scratch database (dropped at
# the end), defines three topics (with explicit memberships), refreshes, then plays 20 rounds of a
# seeded, deterministic batch of changes (test/suites/incremental.sql, suite.mutate): new posts
# with existing tags (sometimes spelt differently, sometimes two tags sharing a slug) and titles
# made of words of existing titles; updates of titles, tags, dates (some to none), visibility and
# keys, one statement at a time and several rows at once; deletes; topic text, topic tags, a topic
# added and removed, memberships added and removed. archive.topic_url is set (database default),
# so adjacent threads link to the topics carrying their tag. Rounds 7-12 and 18-20 run with no
# topics defined (implicit topics: every tag of 3 public posts), the others with the three topics.
# After each round archive.refresh() (incremental) runs; its pages (record, markdown, html) and
# summaries (topic_months, archive_months) are saved, archive.refresh(full => true) recomputes
# everything, and the two are compared. One check per round: the refresh was incremental, the
# full recompute rewrote no page, and no page or summary row differs.
# Prints per round the changes, the pages the incremental refresh rewrote, both refresh times
# and the differing pages, then "SUITE-COUNT: <passed> <failed>".
set -euo pipefail

source test/lib/checks.sh
find_archive go-blog
data=$archive_file
helpers=$(realpath test/suites/incremental.sql)

db=archive_suite_incremental_$$
admin() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
in_db() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
cleanup() { admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; }
trap cleanup EXIT

admin -c "CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8'"
# Adjacent threads that are topics link to their pages, so pages depend on other topics' tags.
admin -c "ALTER DATABASE $db SET archive.topic_url = '/topics/{slug}.html'"
in_db -o /dev/null <<SQL
CREATE EXTENSION archive;
\\set lines \`cat '$data'\`
SELECT * FROM archive.load_jsonl(:'lines');
\\i '$helpers'
SELECT suite.create_topics();
SELECT * FROM archive.refresh();
SQL
read -r nposts npages < <(in_db -A -t -F ' ' -c \
  "SELECT (SELECT count(*) FROM archive.posts), (SELECT count(*) FROM archive.page_records)")
echo "incremental: loaded $nposts posts, 3 topics defined, $npages pages after the first refresh"

printf '%-5s %-8s %-11s %5s %9s %9s %6s  %s\n' round topics mode pages inc_ms full_ms differ changes
for round in $(seq 1 20); do
  # rounds 7-12 and 18-20 have no topics defined; the topics come back in round 13
  case $round in
    7 | 18) in_db -c "DELETE FROM archive.topics" ;;
    13) in_db -o /dev/null -c "SELECT suite.create_topics()" ;;
  esac
  if ((round >= 7 && round <= 12 || round >= 18)); then topics=implicit; else topics=explicit; fi

  if ! out=$(in_db -A -t -F '|' \
    -c "SELECT suite.mutate($round)" \
    -c "SELECT mode, topics_recomputed, round(extract(epoch FROM elapsed) * 1000) FROM archive.refresh()" \
    -c "SELECT suite.save_incremental()" \
    -c "SELECT topics_recomputed, round(extract(epoch FROM elapsed) * 1000) FROM archive.refresh(full => true)" \
    -c "SELECT kind, what FROM suite.differences()" 2>&1); then
    failed=$((failed + 1))
    echo "FAILED round $round: a statement failed:"
    printf '%s\n' "$out" | head -n 40
    continue
  fi
  changes=$(sed -n 1p <<<"$out")
  IFS='|' read -r mode rewritten inc_ms < <(sed -n 2p <<<"$out")
  IFS='|' read -r full_rewrote full_ms < <(sed -n 4p <<<"$out")
  # line 3 is save_incremental's empty result; differences follow
  diffs=$(sed -n '5,$p' <<<"$out")
  ndiff=$(grep -c '^page|' <<<"$diffs" || true)
  printf '%-5s %-8s %-11s %5s %9s %9s %6s  %s\n' "$round" "$topics" "$mode" "$rewritten" "$inc_ms" "$full_ms" \
    "$ndiff" "$changes"
  if [[ $mode == incremental && $full_rewrote == 0 && -z $diffs ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED round $round: mode $mode, the full recompute rewrote $full_rewrote pages; differing (first 30):"
    printf '%s\n' "$diffs" | head -n 30
  fi
done

in_db -A -t -F ' ' -c "SELECT 'incremental: at the end', count(*), 'posts,', (SELECT count(*) FROM archive.page_records),
                              'pages,', (SELECT count(*) FROM archive.changes), 'changes pending' FROM archive.posts"
echo "SUITE-COUNT: $passed $failed"
((failed == 0))
