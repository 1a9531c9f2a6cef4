#!/usr/bin/env bash
# test/suites/fuzz.sh: a short bounded libFuzzer run (FUZZ_SECONDS, default 10, per target) of the
# targets in test/fuzz/ (see test/fuzz/build.sh and doc/security.md for what they cover and how to
# run them longer). Installs clang 14's fuzzer runtime if it is missing, builds the targets, seeds
# each from the server (the flat and wire forms of real summaries and spans, the sample archive's
# tags, titles, page records and pages' Markdown, hostile ones of each), then fuzzes in a scratch
# corpus folder (removed at the end). A target passes when libFuzzer ends without a finding
# (crash, sanitizer report, failed assertion, FUZZ FINDING) in its time.
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
mkdir -p "$work/summary" "$work/motifs" "$work/span" "$work/page" "$work/markdown"

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
  # Pages: the sample archive's page records (and a hostile one) in fuzz_page's form (entries of a
  # key byte and a value, each ended by a NUL byte; see test/fuzz/fuzz_page.c), and their
  # Markdown, hostile Markdown and character references for fuzz_markdown (first byte 02: the
  # default cap; 1a: a query cancel at the second check for interrupts first).
  while read -r kind hex; do
    n=$((n + 1))
    seed "$work/$kind/seed$n" <<<"$hex"
  done < <(psql -X -q -A -t -F ' ' -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
\set posts `cat sample/posts.jsonl`
\set topics `cat sample/topics.jsonl`
SELECT count(*) FROM archive.load_jsonl(:'posts') \g /dev/null
SELECT count(*) FROM archive.load_topics_jsonl(:'topics') \g /dev/null
SELECT count(*) FROM archive.refresh() \g /dev/null
-- An entry of a record: the key, the value, a NUL byte; NULL when the value is.
CREATE FUNCTION pg_temp.e(k text, v text) RETURNS text LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT encode(convert_to(k || v, 'UTF8'), 'hex') || '00' $$;
-- A time entry: microseconds since 2000-01-01 UTC.
CREATE FUNCTION pg_temp.t(k text, v text) RETURNS text LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT pg_temp.e(k, (extract(epoch FROM v::timestamptz - '2000-01-01 00:00:00+00') * 1000000)::bigint::text) $$;
-- The elements of a JSON array, none when it is not one.
CREATE FUNCTION pg_temp.a(v jsonb) RETURNS SETOF jsonb LANGUAGE sql IMMUTABLE
    AS $$ SELECT jsonb_array_elements(CASE jsonb_typeof(v) WHEN 'array' THEN v ELSE '[]' END) $$;
CREATE FUNCTION pg_temp.terms(k text, v jsonb) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT string_agg(concat(pg_temp.e(k, x ->> 'term'), pg_temp.e('#', x ->> 'count'), pg_temp.e('U', x ->> 'url')), '')
          FROM pg_temp.a(v) AS x $$;
CREATE FUNCTION pg_temp.posts(k text, v jsonb, tags text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT string_agg(concat(pg_temp.e(k, coalesce(x ->> 'title', '')), pg_temp.e('U', x ->> 'url'),
                                   pg_temp.e('S', x ->> 'summary'), pg_temp.e('O', x ->> 'role'),
                                   (SELECT string_agg(pg_temp.e('G', g #>> '{}'), '') FROM pg_temp.a(x -> tags) AS g),
                                   pg_temp.t('D', x ->> 'published_at')), '')
          FROM pg_temp.a(v) AS x $$;
CREATE FUNCTION pg_temp.record(r jsonb) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT concat(pg_temp.e('n', coalesce(r ->> 'name', r ->> 'topic')), pg_temp.e('l', r ->> 'lens'),
                        pg_temp.e('h', r ->> 'through_line'),
                        (SELECT string_agg(pg_temp.e('a', x #>> '{}'), '') FROM pg_temp.a(r -> 'advice') AS x),
                        (SELECT string_agg(pg_temp.e('p', x #>> '{}'), '') FROM pg_temp.a(r -> 'pitfalls') AS x),
                        pg_temp.e('c', r ->> 'post_count'), pg_temp.e('u', r ->> 'undated_posts'),
                        pg_temp.t('f', r ->> 'first_published'), pg_temp.t('z', r ->> 'last_published'),
                        pg_temp.terms('A', r -> 'adjacent_tags'), pg_temp.terms('M', r -> 'title_motifs'),
                        pg_temp.terms('E', r -> 'early_motifs'), pg_temp.terms('N', r -> 'recent_motifs'),
                        pg_temp.posts('P', r -> 'reading_path', 'shared_tags'), pg_temp.posts('R', r -> 'references', 'tags'),
                        (SELECT string_agg(pg_temp.e('Y', key || '=' || value), '')
                         FROM jsonb_each_text(CASE jsonb_typeof(r -> 'posts_per_month') WHEN 'object' THEN r -> 'posts_per_month' END)
                         WHERE value IS NOT NULL)) $$;
CREATE TEMP TABLE hostile AS SELECT jsonb_build_object(
    'name', E'*Bold* [x](javascript:alert(1)) `code` <script>alert(1)</script> # \uFFFF',
    'lens', E'<img src=x onerror=alert(1)> &amp; &#x41; **strong**\n# heading',
    'through_line', E'# Not a heading\n1. not a list\n    nor code\n</main>',
    'advice', jsonb_build_array('~~~ not a fence', '```js', '[ref]: /x', E'trailing\\', '&#35; &copy;', '<!-- c -->'),
    'pitfalls', jsonb_build_array('![img](javascript:alert(1))', E'\\*escaped\\*', '> quote'),
    'post_count', 5, 'first_published', '2019-01-01T00:00:00Z', 'last_published', '2021-06-30T00:00:00Z',
    'adjacent_tags', jsonb_build_array(
        jsonb_build_object('term', '<b>ci</b>', 'count', 5, 'url', 'javascript:alert(1)'),
        jsonb_build_object('term', 'c++ & *go*', 'count', 1, 'url', '/topics/c++ & go.html?a=1&amp;b=2'),
        jsonb_build_object('term', 'split', 'url', E' java\nscript:alert(1)')),
    'title_motifs', jsonb_build_array(jsonb_build_object('term', '_under_'), jsonb_build_object('term', '\')),
    'early_motifs', jsonb_build_array(jsonb_build_object('term', '**')),
    'recent_motifs', jsonb_build_array(jsonb_build_object('term', '<i>')),
    'reading_path', jsonb_build_array(
        jsonb_build_object('role', 'newest', 'title', E'~~~\n# Not a heading', 'url', 'https://x.example/a?x=1&y=<2> (3)'),
        jsonb_build_object('role', 'central', 'title', '[x](y)', 'url', 'vbscript:msgbox(1)', 'shared_tags', jsonb_build_array('<b>', '*')),
        jsonb_build_object('role', 'oldest', 'title', 'http://x.example/same', 'url', 'http://x.example/same')),
    'references', jsonb_build_array(
        jsonb_build_object('title', E'~~~\n# Not a heading', 'url', 'https://x.example/a?x=1&y=<2> (3)',
                           'summary', E'<script>alert(1)</script>\n- item', 'tags', jsonb_build_array('*', '`', '<b>'),
                           'published_at', '2021-06-30T00:00:00Z'),
        jsonb_build_object('title', '[x](y)', 'url', 'data:image/png;base64,AAAA', 'summary', '~~~'),
        jsonb_build_object('title', 'old', 'published_at', '0044-03-15 00:00:00+00 BC')),
    'posts_per_month', jsonb_build_object('2019-01', 2, '2020-06', 0, '2021-06', 3)) AS r;
SELECT 'page', pg_temp.record(record) FROM archive.page_records
UNION ALL SELECT 'page', pg_temp.record(r) FROM hostile
UNION ALL SELECT 'markdown', '02' || encode(convert_to(markdown, 'UTF8'), 'hex') FROM archive.page_records
UNION ALL SELECT 'markdown', '02' || encode(convert_to(archive.page_markdown(r), 'UTF8'), 'hex') FROM hostile
UNION ALL SELECT 'markdown', b || encode(convert_to(m, 'UTF8'), 'hex')
    FROM (VALUES ('02'), ('1a')) AS v(b),
         (VALUES (E'# Title\n\nSome *emphasis*, **strong**, `code` and a [link](/a "t").\n\n- one\n- two\n\n1. first\n\n> quoted\n\n    indented code\n\n<https://example.com> &amp; &copy; caf\u00e9'),
                 (E'<script>alert(1)</script>\n\ntext <img src=x onerror=alert(1)> <b>bold</b>\n\n<div onclick="x">block</div>'),
                 ('[js](javascript:alert(1)) [JS](JaVaScRiPt:alert(1)) [vb](vbscript:x) [file](file:///etc/passwd) [html](data:text/html,<b>x</b>) ![png](data:image/png;base64,AAAA)'),
                 (E'[a]\n\n[a]: javascript:alert(1) "t"\n\n<javascript:alert(1)> [b](&#106;avascript:x)'),
                 ('&#xFFFF; &#65534; &#0; &#x110000; &#xD800; &nbsp; &copy; &#35;'),
                 (E'```js\ncode\n```\n\n~~~\nx\n~~~\n\n***\n\nSetext\n===\n\n1) a\n2) b')) AS m(m);
SQL
)
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  echo "fuzz: $n seeds from the server"
else
  echo "fuzz: no server to take seeds from; starting from empty corpora"
fi

passed=0 failed=0
for target in summary motifs span page markdown; do
  log=$work/$target.log
  rc=0
  dict=()
  [[ $target != page && $target != markdown ]] || dict=(-dict="$PWD/test/fuzz/markdown.dict")
  (cd "$work" && "$OLDPWD/test/fuzz/build/fuzz_$target" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
     -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/$target-" "${dict[@]}" "$work/$target") \
    >"$log" 2>&1 || rc=$?
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
