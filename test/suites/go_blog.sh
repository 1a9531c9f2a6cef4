#!/usr/bin/env bash
# test/suites/go_blog.sh: the core analytics against a real archive, the Go blog
# ($ARCHIVE_DATA_DIR/go-blog.jsonl, 274 posts). Loads the posts into a scratch database (dropped at
# the end) and checks archive.tag_counts_agg, archive.topic_span, archive.tag_adjacency and
# archive.title_motifs, for every tag taken as a topic, against independent plain SQL:
#   tag_counts       terms(tag_counts_agg) = unnest + GROUP BY over distinct lower(btrim(tag)) per post
#   tag_counts_exact max_error is 0 and rows is the number of posts
#   span             posts, undated, first, last = count, count of NULLs, min, max, per topic
#   span_months      posts_per_month = GROUP BY date_trunc('month', published_at AT TIME ZONE 'UTC')
#   adjacency        tag_adjacency(tags, 5, ARRAY[topic]) = top 5 of unnest + GROUP BY + row_number
#                    (count desc, tag bytes asc), with share = count / posts of the topic
#   motifs_run       title_motifs(title, 10) gives a ranking for every topic, without error
#   motifs_counts    every motif count is between 1 and the topic's post count, share = count / posts
#   union_by_year    per-year summaries and spans, unioned, equal one aggregate over all posts
#   parallel         under a forced parallel plan the per-topic results equal the serial ones
# Prints "SUITE-COUNT: <passed> <failed>" (one per check) and, per failed check, its differing rows.
# Needs PGHOST, PGPORT, PGUSER (set by test/run) and a server with the extension installed.
set -euo pipefail

source test/lib/checks.sh
find_archive go-blog
data=$archive_file

# Posts are dated at midnight UTC; in Los Angeles those of the 1st of a month fall in the month
# before, so the months of the spans must be the UTC ones, not the session's.
export PGTZ=America/Los_Angeles

db=archive_suite_go_blog_$$
admin() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
in_db() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
cleanup() { admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; }
trap cleanup EXIT

admin -c "CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8'"

# Load from the client side (the server may not read the data folder). CSV with a quote and a
# delimiter that never occur keeps each JSON line whole, backslashes included.
in_db <<SQL
CREATE EXTENSION archive;
CREATE TABLE raw (n bigserial, line text);
\\copy raw(line) FROM '$data' WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')
CREATE TABLE posts AS
SELECT n AS id, j->>'slug' AS slug, j->>'title' AS title,
       (j->>'published_at')::timestamptz AS published_at,
       ARRAY(SELECT jsonb_array_elements_text(j->'tags')) AS tags
FROM (SELECT n, line::jsonb AS j FROM raw WHERE line IS NOT NULL AND line <> '') r;
ALTER TABLE posts ADD PRIMARY KEY (id);
-- Every tag taken as a topic (its posts: those carrying it), and the whole archive as '(all)'.
CREATE TABLE topic_posts AS
SELECT DISTINCT t.tag AS topic, p.id, p.title, p.published_at, p.tags
FROM posts p, unnest(p.tags) AS u(raw_tag), LATERAL (SELECT lower(btrim(u.raw_tag)) AS tag) t
WHERE t.tag <> ''
UNION ALL
SELECT '(all)', id, title, published_at, tags FROM posts;
ANALYZE posts;
ANALYZE topic_posts;
SQL

read -r nposts ntopics < <(in_db -A -t -F ' ' -c \
  "SELECT (SELECT count(*) FROM posts), (SELECT count(DISTINCT topic) FROM topic_posts)")
echo "go_blog: loaded $nposts posts, $ntopics topics (each tag, and the whole archive)"



# Rows in one query's result and not the other's, labelled: diff_sql <extension sql> <plain sql>
diff_sql() {
  printf "(SELECT 'extension' AS side, * FROM (%s) a EXCEPT ALL SELECT 'extension', * FROM (%s) b)
          UNION ALL
          (SELECT 'plain sql', * FROM (%s) b EXCEPT ALL SELECT 'plain sql', * FROM (%s) a)
          ORDER BY 2, 3, 1" "$1" "$2" "$2" "$1"
}

# (1) Tag counts over the whole archive.
check_rows tag_counts "$(diff_sql \
  "SELECT t.term, t.count FROM (SELECT archive.tag_counts_agg(tags) AS s FROM posts) x, archive.terms(x.s) AS t" \
  "SELECT tag, count(*) FROM (SELECT DISTINCT p.id, lower(btrim(u)) AS tag FROM posts p, unnest(p.tags) AS u) d
   WHERE tag <> '' GROUP BY tag")"
check_rows tag_counts_exact "
  SELECT archive.max_error(s) AS max_error, archive.rows(s) AS rows, (SELECT count(*) FROM posts) AS posts
  FROM (SELECT archive.tag_counts_agg(tags) AS s FROM posts) x
  WHERE archive.max_error(s) <> 0 OR archive.rows(s) <> (SELECT count(*) FROM posts)"

# (2) Spans per topic.
check_rows span "$(diff_sql \
  "SELECT topic, archive.posts(s), archive.undated_posts(s), archive.first_published(s), archive.last_published(s)
   FROM (SELECT topic, archive.topic_span(published_at) AS s FROM topic_posts GROUP BY topic) x" \
  "SELECT topic, count(*), count(*) FILTER (WHERE published_at IS NULL), min(published_at), max(published_at)
   FROM topic_posts GROUP BY topic")"
check_rows span_months "$(diff_sql \
  "SELECT topic, m.month, m.posts
   FROM (SELECT topic, archive.topic_span(published_at) AS s FROM topic_posts GROUP BY topic) x,
        archive.posts_per_month(x.s) AS m" \
  "SELECT topic, date_trunc('month', published_at AT TIME ZONE 'UTC')::date, count(*)
   FROM topic_posts WHERE published_at IS NOT NULL GROUP BY 1, 2")"

# (3) Tag adjacency per topic: the top 5 other tags, ties by tag bytes.
check_rows adjacency "$(diff_sql \
  "SELECT topic, r.rank, r.term, r.count, r.share
   FROM (SELECT topic, archive.tag_adjacency(tags, 5, ARRAY[topic]) AS a FROM topic_posts GROUP BY topic) x,
        unnest(x.a) WITH ORDINALITY AS r(term, count, share, rank)" \
  "SELECT topic, rank, tag, n, n::float8 / posts
   FROM (SELECT topic, tag, n, posts,
                row_number() OVER (PARTITION BY topic ORDER BY n DESC, tag COLLATE \"C\") AS rank
         FROM (SELECT tp.topic, nt.tag, count(DISTINCT tp.id) AS n,
                      (SELECT count(*) FROM topic_posts c WHERE c.topic = tp.topic) AS posts
               FROM topic_posts tp, unnest(tp.tags) AS u, LATERAL (SELECT lower(btrim(u)) AS tag) nt
               WHERE nt.tag <> '' AND nt.tag <> tp.topic
               GROUP BY tp.topic, nt.tag) c) r
   WHERE rank <= 5")"

# (4) Title motifs per topic: a ranking for every topic, counts within the topic's posts.
check_rows motifs_run "
  SELECT topic, m FROM (SELECT topic, archive.title_motifs(title, 10) AS m FROM topic_posts GROUP BY topic) x
  WHERE m IS NULL
  UNION ALL
  SELECT 'topics ranked: ' || count(*), NULL FROM (SELECT topic, archive.title_motifs(title, 10) AS m
                                                   FROM topic_posts GROUP BY topic) x
  HAVING count(*) <> (SELECT count(DISTINCT topic) FROM topic_posts)"
check_rows motifs_counts "
  SELECT x.topic, r.term, r.count, r.share, x.posts
  FROM (SELECT topic, archive.title_motifs(title, 10) AS m, count(*) AS posts FROM topic_posts GROUP BY topic) x,
       unnest(x.m) AS r(term, count, share)
  WHERE r.count < 1 OR r.count > x.posts OR r.share <> r.count::float8 / x.posts"

# (5) Summaries and spans per year, unioned, equal one aggregate over all posts.
check_rows union_by_year "
  WITH per_year AS (
      SELECT archive.tag_counts_agg(tags) AS t, archive.title_terms_agg(title) AS m,
             archive.topic_span(published_at) AS s
      FROM posts GROUP BY date_part('year', published_at AT TIME ZONE 'UTC'))
  SELECT 'tags' AS which FROM per_year
  HAVING archive.termcounts_union_agg(t)::text <> (SELECT archive.tag_counts_agg(tags)::text FROM posts)
  UNION ALL
  SELECT 'titles' FROM per_year
  HAVING archive.termcounts_union_agg(m)::text <> (SELECT archive.title_terms_agg(title)::text FROM posts)
  UNION ALL
  SELECT 'spans' FROM per_year
  HAVING archive.span_union_agg(s)::text <> (SELECT archive.topic_span(published_at)::text FROM posts)"

# (6) A forced parallel plan gives the serial plan's results, per topic.
per_topic="SELECT topic, archive.topic_span(published_at)::text AS span,
                  archive.tag_counts_agg(tags)::text AS tags,
                  archive.tag_adjacency(tags, 5, ARRAY[topic])::text AS adjacency,
                  archive.title_motifs(title, 10)::text AS motifs
           FROM topic_posts GROUP BY topic"
in_db -c "SET max_parallel_workers_per_gather = 0" -c "CREATE TABLE serial_results AS $per_topic"
check_rows parallel "
  SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
  SET max_parallel_workers_per_gather = 2; SET parallel_leader_participation = off;
  $(diff_sql "$per_topic" "SELECT * FROM serial_results")"

echo "SUITE-COUNT: $passed $failed"
((failed == 0))
