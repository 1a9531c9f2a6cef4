#!/usr/bin/env bash
# test/suites/fuzz.sh: a short bounded libFuzzer run (FUZZ_SECONDS, default 10, per target) of the
# targets in test/fuzz/ (see test/fuzz/build.sh and doc/security.md for what they cover and how to
# run them longer). Installs clang 14's fuzzer runtime if it is missing, builds the targets, seeds
# each from the server (the flat and wire forms of real summaries and spans, the sample archive's
# tags and titles),
# then fuzzes in a scratch corpus folder (removed at the end). A target passes when libFuzzer ends
# without a finding (crash, sanitizer report, failed assertion, FUZZ FINDING) in its time.
# Prints, per target, the inputs tried, and "SUITE-COUNT: <passed> <failed>".
set -euo pipefail
source test/lib/setup.sh
seconds=${FUZZ_SECONDS:-10}

if ! install_packages clang-14 libclang-rt-14-dev >/dev/null; then
  echo "fuzz: could not install clang-14 and libclang-rt-14-dev" >&2
  echo "SUITE-COUNT: 0 1"
  exit 1
fi
if ! build_out=$(CC=clang-14 test/fuzz/build.sh 2>&1); then
  printf '%s\n' "$build_out" | tail -n 30
  echo "fuzz: the targets did not build" >&2
  echo "SUITE-COUNT: 0 1"
  exit 1
fi
printf '%s\n' "$build_out" | grep '^build/' | sed 's/^/fuzz: built test\/fuzz\//'

work=$(mktemp -d /tmp/archive_fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/summary" "$work/motifs" "$work/span"

# Seeds: written as hex by the server, turned into bytes by xxd.
seed() { xxd -r -p >"$1"; }
if psql -X -q -A -t -d postgres -c "SELECT 1" >/dev/null 2>&1; then
  db=archive_suite_fuzz_$$
  psql -X -q -d postgres -c "CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8'"
  n=0
  while read -r kind hex; do
    n=$((n + 1))
    seed "$work/$kind/seed$n" <<<"$hex"
  done < <(psql -X -q -A -t -F ' ' -v ON_ERROR_STOP=1 -d "$db" <<SQL
CREATE EXTENSION archive;
\\set lines \`cat sample/posts.jsonl\`
CREATE TEMP TABLE p AS SELECT (archive.post_from_json(l, 'public')).post AS p
                       FROM regexp_split_to_table(:'lines', E'\\n') AS l WHERE l <> '';
-- The flat form (what is stored) as bytes, in this scratch database only: both types are varlenas
-- of int4 alignment, as bytea is.
CREATE CAST (archive.termcounts AS bytea) WITHOUT FUNCTION;
CREATE CAST (archive.span AS bytea) WITHOUT FUNCTION;
CREATE TEMP TABLE s AS
SELECT archive.tag_counts_agg((p).tags) AS tags, archive.title_terms_agg((p).title) AS titles,
       archive.topic_span((p).published_at) AS span
FROM p;
-- summaries (first byte 00: the flat value decoder; 01: the wire form decoder; 02: the aggregate
-- state decoder)
SELECT 'summary', '00' || encode(tags::bytea, 'hex') FROM s
UNION ALL SELECT 'summary', '00' || encode(titles::bytea, 'hex') FROM s
UNION ALL SELECT 'summary', '01' || encode(archive.termcounts_send(tags), 'hex') FROM s
UNION ALL SELECT 'summary', '01' || encode(archive.termcounts_send(titles), 'hex') FROM s
UNION ALL SELECT 'summary', '02' || encode(archive.tag_counts_agg((p).tags)::bytea, 'hex') FROM p WHERE (p).title < 'F'
UNION ALL SELECT 'summary', '02' || encode(titles::bytea, 'hex') FROM s
UNION ALL SELECT 'summary', '00' || encode(archive.tag_counts_agg('{}'::text[])::bytea, 'hex')
UNION ALL SELECT 'summary', '01' || encode(archive.termcounts_send(archive.tag_counts_agg('{}'::text[])), 'hex')
-- posts' tags (first byte 03): tags split at ff, posts at fe
UNION ALL SELECT 'summary', '03' || string_agg((SELECT coalesce(string_agg(encode(convert_to(t, 'UTF8'), 'hex'), 'ff'), '')
                                                  FROM unnest((p).tags) AS t), 'fe')
    FROM p
UNION ALL SELECT 'summary', '03' || encode(convert_to(' Design  Systems' || E'\\t' || 'ÉCOLE', 'UTF8'), 'hex') || 'ff' || encode(convert_to('Go', 'UTF8'), 'hex')
-- spans (first byte 00: the wire form; 01: the flat form), of the archive, of undated posts only,
-- of the ends of time
UNION ALL SELECT 'span', '00' || encode(archive.span_send(span), 'hex') FROM s
UNION ALL SELECT 'span', '01' || encode(span::bytea, 'hex') FROM s
UNION ALL SELECT 'span', v.b || encode(CASE v.b WHEN '00' THEN archive.span_send(x.span) ELSE x.span::bytea END, 'hex')
    FROM (SELECT archive.topic_span(t) AS span
          FROM (VALUES (NULL::timestamptz), ('4713-11-24 00:00:00+00 BC'), ('294276-12-31 23:59:59.999999+00')) AS v(t)
          UNION ALL SELECT archive.topic_span(NULL::timestamptz)) AS x,
         (VALUES ('00'), ('01')) AS v(b)
-- titles: all of them, then the first ten at capacity 16 (first byte odd)
UNION ALL SELECT 'motifs', '00' || string_agg(encode(convert_to((p).title, 'UTF8'), 'hex'), 'fe') FROM p
UNION ALL SELECT 'motifs', '01' || string_agg(encode(convert_to((p).title, 'UTF8'), 'hex'), 'fe')
    FROM (SELECT * FROM p LIMIT 10) AS x
UNION ALL SELECT 'motifs', '00' || encode(convert_to('Go''s Things: here''s what''s NEW in 数据库 and Тестирование — don''t panic!', 'UTF8'), 'hex');
SQL
)
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  echo "fuzz: $n seeds from the server"
else
  echo "fuzz: no server to take seeds from; starting from empty corpora"
fi

passed=0 failed=0
for target in summary motifs span; do
  log=$work/$target.log
  rc=0
  (cd "$work" && "$OLDPWD/test/fuzz/build/fuzz_$target" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
     -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/$target-" "$work/$target") >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  corpus=$(find "$work/$target" -type f | wc -l)
  if ((rc == 0)) && ! grep -q -E 'ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|FUZZ FINDING|TRAP:|runtime error' "$log"; then
    passed=$((passed + 1))
    echo "ok     fuzz_$target: ${runs:-?} inputs in ${seconds} s, corpus $corpus"
  else
    failed=$((failed + 1))
    echo "FAILED fuzz_$target (exit $rc): ${runs:-?} inputs; the finding:"
    grep -E -A 25 'ERROR:|FUZZ FINDING|TRAP:|runtime error|fuzz stub reached' "$log" | head -n 60
    for crash in "$work/$target"-*; do
      [[ -f $crash ]] && { echo "input ($crash):"; xxd "$crash" | head -n 20; }
    done
  fi
done

echo "SUITE-COUNT: $passed $failed"
((failed == 0))
