#!/usr/bin/env bash
# test/suites/real_archives.sh: topic pages end to end on the two real archives,
# $ARCHIVE_DATA_DIR/go-blog.jsonl (274 posts) and $ARCHIVE_DATA_DIR/18f-blog.jsonl (509 posts; three
# of its posts share a slug, but urls, the loader's keys, are unique). For each archive, in a scratch
# database of its own (created and dropped here): CREATE EXTENSION archive, load the file with
# archive.load_jsonl through psql (\set lines `cat FILE`), archive.refresh() (timed, and printed),
# then check every topic page against plain SQL over archive.posts. No topics are defined, so the
# topics are the tags of at least 3 public posts (archive.min_topic_posts); "its tag" below is a
# topic's one tag.
#   loaded          the loader reports every line added (274, 509), none updated, unchanged or rejected
#   topics          the topics are exactly the tags (lower(btrim(tag))) of at least 3 public posts
#   nonempty        every topic has non-empty markdown and html
#   post_count      post_count = count(DISTINCT key) of the public posts carrying its tag
#   first_last      first_published, last_published = min, max(published_at) of those posts
#   references      the page lists the newest archive.page_references of those posts (published_at
#                   descending, undated last, then key descending), in that order
#   all_references  archive.topic_references lists exactly those posts, in that order, whole or read
#                   in pages of 7
#   round_trip      archive.markdown_to_html(markdown) = the html between <main> and </main>, once
#                   the chart is taken out of both (a text code block, an SVG figure)
#   definition      the definition says "spans N posts" with N the plain count
#   html_elements   the html has only the page's own elements (no markup from the data, no script);
#                   the chart figure only the SVG elements the page writes
#   refresh_stable  a second refresh, nothing having changed, rewrites no page
#   parallel_pages  a full refresh assembles the pages in parallel: auto_explain shows its
#                   CREATE TABLE AS of the pages run as a Parallel Append with workers launched
#   serial_pages    a full refresh with max_parallel_workers_per_gather = 0 (one process assembles
#                   every page) rewrites no page: the pages are those the processes made together
# Prints one line per check, the refresh times, and "SUITE-COUNT: <passed> <failed>"; per failed
# check, its differing rows. Needs PGHOST, PGPORT, PGUSER (set by test/run), a superuser (it raises
# archive.max_markdown_bytes: 18F pages have over 64 kB of Markdown) and the extension installed.
set -euo pipefail

source test/lib/checks.sh

archives=(go-blog 18f-blog)
declare -A expected_posts=([go-blog]=274 [18f-blog]=509)

if [[ -z ${ARCHIVE_DATA_DIR:-} ]]; then
  setup_failed "ARCHIVE_DATA_DIR is not set, so the real archives (go-blog.jsonl, 18f-blog.jsonl) cannot be found"
fi
missing=0
for name in "${archives[@]}"; do
  if [[ ! -f $ARCHIVE_DATA_DIR/$name.jsonl ]]; then
    echo "real_archives: the $name archive is missing: no file $ARCHIVE_DATA_DIR/$name.jsonl" >&2
    missing=$((missing + 1))
  fi
done
((missing == 0)) || setup_failed "$missing of the ${#archives[@]} real archives missing; nothing checked"

admin() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
in_db() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }

db=
cleanup() {
  [[ -z $db ]] || admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT


# Each check runs with the Markdown cap raised, named after the archive: check <name> <sql>
check() { check_rows "$archive: $1" "$2" -c "SET archive.max_markdown_bytes = '16MB'"; }

for archive in "${archives[@]}"; do
  file=$(realpath "$ARCHIVE_DATA_DIR/$archive.jsonl")
  want=${expected_posts[$archive]}
  db=archive_suite_real_${archive//-/_}_$$
  admin -c "CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8'"

  # The loader's report is kept in a table for the check; psql reads the file (:'file' is quoted
  # for the shell inside the backticks).
  in_db -v file="$file" <<'SQL'
CREATE EXTENSION archive;
\set lines `cat :'file'`
CREATE TABLE load_report AS SELECT * FROM archive.load_jsonl(:'lines');
SQL
  echo "real_archives: $archive: loaded $(in_db -A -t -c \
    "SELECT string_agg(outcome || ' ' || posts, ', ' ORDER BY outcome) FROM load_report WHERE posts > 0")"

  # The first refresh (full), and a second one with nothing to do.
  refresh="SELECT mode, topics_recomputed, posts_read, round(extract(epoch FROM elapsed)::numeric, 3) FROM archive.refresh()"
  start=$(date +%s%N)
  out=$(in_db -A -t -F ' ' -c "$refresh")
  wall=$((($(date +%s%N) - start) / 1000000))
  read -r mode topics posts elapsed <<<"$out"
  echo "real_archives: $archive: refresh ($mode): $topics topics from $posts posts in $elapsed s (${wall} ms with psql)"
  out=$(in_db -A -t -F ' ' -c "$refresh")
  read -r mode2 topics2 _ elapsed2 <<<"$out"
  echo "real_archives: $archive: second refresh ($mode2, nothing changed): $topics2 topics rewritten in $elapsed2 s"

  # The plain-SQL side: every public post's tags, trimmed and lower-cased, and the tags of at least
  # archive.min_topic_posts public posts with their posts' count, first and last date and urls.
  in_db <<'SQL'
CREATE TABLE plain_tags AS
SELECT DISTINCT p.key, p.url, p.published_at, lower(btrim(t)) AS tag
FROM archive.posts AS p, unnest(p.tags) AS t
WHERE p.visibility = 'public' AND btrim(t) <> '';
CREATE TABLE plain_topics AS
SELECT tag, count(DISTINCT key) AS posts, min(published_at) AS first_published,
       max(published_at) AS last_published, array_agg(DISTINCT url ORDER BY url) AS urls
FROM plain_tags
GROUP BY tag
HAVING count(DISTINCT key) >= (archive.settings() ->> 'min_topic_posts')::int;
-- Each page with its topic's one tag (the catalog maps slugs, made unique, to tags).
CREATE TABLE pages AS
SELECT r.*, c.tags AS topic_tags, c.tags[1] AS tag
FROM archive.page_records AS r JOIN archive.topic_catalog AS c USING (topic);
SQL

  check loaded "
    SELECT outcome, posts, detail FROM load_report
    WHERE (outcome = 'added' AND posts <> $want) OR (outcome IN ('updated', 'unchanged') AND posts <> 0)
       OR outcome NOT IN ('added', 'updated', 'unchanged')
    UNION ALL
    SELECT 'posts stored', count(*), NULL FROM archive.posts HAVING count(*) <> $want"
  check topics "
    (SELECT 'page without a plain topic' AS problem, topic, array_to_string(topic_tags, ', ') FROM pages
     WHERE cardinality(topic_tags) <> 1 OR tag NOT IN (SELECT tag FROM plain_topics))
    UNION ALL
    (SELECT 'plain topic without a page', NULL, tag FROM plain_topics WHERE tag NOT IN (SELECT tag FROM pages))
    UNION ALL
    (SELECT 'no topics', NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM pages))"
  check nonempty "
    SELECT topic, length(markdown) AS markdown, length(html) AS html FROM pages
    WHERE coalesce(markdown, '') = '' OR coalesce(html, '') = ''"
  check post_count "
    SELECT p.topic, p.post_count, t.posts AS plain FROM pages AS p JOIN plain_topics AS t USING (tag)
    WHERE p.post_count <> t.posts
       OR jsonb_array_length(p.\"references\") <> least(t.posts, (archive.settings() ->> 'page_references')::int)"
  check first_last "
    SELECT p.topic, p.first_published, t.first_published AS plain_first, p.last_published, t.last_published AS plain_last
    FROM pages AS p JOIN plain_topics AS t USING (tag)
    WHERE p.first_published IS DISTINCT FROM t.first_published OR p.last_published IS DISTINCT FROM t.last_published"
  check references "
    SELECT p.topic, listed.urls AS listed, plain.urls AS plain
    FROM pages AS p,
         LATERAL (SELECT array_agg(e ->> 'url' ORDER BY n) AS urls
                  FROM jsonb_array_elements(p.\"references\") WITH ORDINALITY AS r(e, n)) AS listed,
         LATERAL (SELECT array_agg(x.url ORDER BY x.published_at DESC NULLS LAST, x.key DESC) AS urls
                  FROM (SELECT * FROM plain_tags AS x WHERE x.tag = p.tag
                        ORDER BY x.published_at DESC NULLS LAST, x.key DESC
                        LIMIT (archive.settings() ->> 'page_references')::int) AS x) AS plain
    WHERE listed.urls IS DISTINCT FROM plain.urls"
  check all_references "
    SELECT p.topic, whole.urls AS whole, paged.urls AS paged, plain.urls AS plain
    FROM pages AS p,
         LATERAL (SELECT array_agg(r.url ORDER BY r.n) AS urls FROM archive.topic_references(p.topic, 0, 100000) AS r) AS whole,
         LATERAL (SELECT array_agg(r.url ORDER BY r.n) AS urls
                  FROM generate_series(0, p.post_count, 7) AS o, archive.topic_references(p.topic, o, 7) AS r) AS paged,
         LATERAL (SELECT array_agg(x.url ORDER BY x.published_at DESC NULLS LAST, x.key DESC) AS urls
                  FROM plain_tags AS x WHERE x.tag = p.tag) AS plain
    WHERE whole.urls IS DISTINCT FROM plain.urls OR paged.urls IS DISTINCT FROM plain.urls"
  check round_trip "
    SELECT topic, length(markdown) AS markdown_bytes FROM pages
    WHERE regexp_replace(archive.markdown_to_html(markdown), E'<pre><code class=\"language-text\">Posts per year.*?</code></pre>\\n', '')
          IS DISTINCT FROM regexp_replace(substring(html FROM E'<main>\\n(.*)</main>'), E'<figure class=\"chart\">\\n.*?</figure>\\n', '')"
  check definition "
    SELECT p.topic, t.posts, p.definition FROM pages AS p JOIN plain_topics AS t USING (tag)
    WHERE position(format('spans %s %s', t.posts, CASE t.posts WHEN 1 THEN 'post' ELSE 'posts' END)
                   IN p.definition) = 0"
  check html_elements "
    SELECT p.topic, x.part, e.element, count(*) FROM pages AS p,
         LATERAL (SELECT 'page' AS part, regexp_replace(p.html, E'<figure class=\"chart\">\\n.*?</figure>\\n', '') AS markup
                  UNION ALL
                  SELECT 'chart', substring(p.html FROM E'<figure class=\"chart\">\\n.*?</figure>\\n')) AS x,
         regexp_matches(x.markup, '<(/?[a-zA-Z][a-zA-Z0-9]*)', 'g') AS m,
         LATERAL (SELECT lower(m[1]) AS element) AS e
    WHERE (x.part = 'page' AND
           e.element NOT IN ('html', '/html', 'head', '/head', 'meta', 'title', '/title',
                             'style', '/style', 'body', '/body', 'main', '/main', 'h1', '/h1', 'h2', '/h2',
                             'p', '/p', 'ul', '/ul', 'ol', '/ol', 'li', '/li', 'a', '/a', 'br'))
       OR (x.part = 'chart' AND
           e.element NOT IN ('figure', '/figure', 'svg', '/svg', 'title', '/title', 'desc', '/desc',
                             'g', '/g', 'line', 'rect', '/rect', 'text', '/text'))
       OR p.html ~* '<[^>]*\\son[a-z]+\\s*=' OR p.html ~* '(href|src)\\s*=\\s*\"?\\s*(javascript|vbscript|data):'
    GROUP BY 1, 2, 3"
  check refresh_stable "
    SELECT '$mode2' AS mode, $topics2 AS topics_rewritten WHERE '$mode2' <> 'incremental' OR $topics2 <> 0"
  explained=$(in_db -c "SET archive.max_markdown_bytes = '16MB'" -c "LOAD 'auto_explain'" \
    -c "SET auto_explain.log_min_duration = 0" -c "SET auto_explain.log_nested_statements = on" \
    -c "SET auto_explain.log_analyze = on" -c "SET auto_explain.log_timing = off" \
    -c "SET client_min_messages = log" -c "SELECT mode FROM archive.refresh(full => true)" 2>&1 |
    awk '/CREATE TEMPORARY TABLE archive_assembled_pages/ { on = 1 } on && /^LOG:/ { on = 0 } on')
  launched=$(grep -o 'Workers Launched: [0-9]*' <<<"$explained" | head -n 1 || true)
  check_that "$archive: parallel_pages" "$(grep -q 'Parallel Append' <<<"$explained" &&
    [[ ${launched##* } -gt 0 ]] && echo 1 || echo 0)" "${launched:-no parallel plan}"
  check_rows "$archive: serial_pages" "
    SELECT mode, topics_recomputed FROM archive.refresh(full => true) WHERE topics_recomputed <> 0" \
    -c "SET archive.max_markdown_bytes = '16MB'" -c "SET max_parallel_workers_per_gather = 0"

  admin -c "DROP DATABASE $db WITH (FORCE)"
  db=
done

echo "SUITE-COUNT: $passed $failed"
((failed == 0))
