#!/usr/bin/env bash
# test/suites/sharding.sh: the archive sharded with postgres_fdw (doc/sharding.md). Starts three
# throwaway clusters of its own on private sockets (a coordinator and two shards, with
# test/lib/sharding.sh, as the benchmark's sharded mode does), installs the extension on all, and
# shards two archives by topic: the Go blog ($ARCHIVE_DATA_DIR/go-blog.jsonl, loaded into the
# coordinator with psql's \set and distributed through the foreign partitions) and a synthetic
# archive of 100k posts (test/suites/sharding/synthetic.sql, generated on each shard, which keeps
# its own share). The coordinator also holds a one-server copy of each (schema single).
# Checks, per archive:
#   distributed          every row is on exactly the shard its hash partition names, none lost
#   per_topic_plan       the per-topic figures (GROUP BY topic) run wholly on the shards: one async
#                        Foreign Scan per shard whose Remote SQL holds every aggregate, no local
#                        aggregation
#   per_topic_equal      the per-topic figures (text forms) equal the one-server figures
#   archive_wide_plan    the archive-wide figures, shape "per home": each shard aggregates
#                        GROUP BY home (its partition key) and the coordinator merges the summaries
#                        with the union aggregates
#   archive_wide_equal   they equal one aggregate over all posts on one server
#   archive_wide_rows    EXPLAIN ANALYZE: the shards sent at most one summary per shard and topic
#   shard_view           shape "shard view": a foreign table over a view on each shard that
#                        computes the shard's summary; one row per shard, same figures
#   whole_not_pushed     (what PG15 cannot do) a plain archive-wide aggregate is not pushed: the
#                        shards send every row and the coordinator aggregates
#   pages_equal          topic pages refreshed on the coordinator from the sharded posts
#                        (archive.set_source) equal the pages refreshed on one server (the Go blog
#                        whole; of the synthetic archive its first two months, as refresh is slow
#                        on large topics)
#   topic_months_pushed  (Go blog) the per topic-and-month summaries refresh stores can be computed
#                        on the shards, and equal what refresh stored
# Also prints the time of the per-topic figures of the synthetic archive on one server and on two
# shards (pushed, and not), and the rows and bytes that crossed the network (the text forms of the
# fetched rows, which is what postgres_fdw transfers; EXPLAIN's width x rows for comparison).
# Prints one line per check and "SUITE-COUNT: <passed> <failed>". Needs ARCHIVE_DATA_DIR (set by
# test/run) and runs in about a minute.
#   ARCHIVE_SYNTHETIC_POSTS=n  posts of the synthetic archive (default 100000)
#   KEEP_CLUSTER=1             keep the three cluster folders (stopped) after the run
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
here=test/suites/sharding
synthetic_posts=${ARCHIVE_SYNTHETIC_POSTS:-100000}

source test/lib/checks.sh
find_archive go-blog
data=$archive_file

: "${ARCHIVE_PG_BIN:=/usr/lib/postgresql/15/bin}"
export PATH=$ARCHIVE_PG_BIN:$PATH
source test/lib/cluster.sh
source test/lib/sharding.sh

tmp=$(mktemp -d)
chmod 755 "$tmp"  # the clusters run as postgres, in folders under it
cleanup() {
  sharding_stop "$tmp" || true
  if [[ ${KEEP_CLUSTER:-} == 1 ]]; then
    echo "sharding: cluster folders kept: $tmp/{coordinator,shard1,shard2} (restart with cluster_start)"
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT

# Three clusters; none needs pg_cron. JIT is off: foreign scans make plans look expensive enough
# to be compiled, which costs seconds per refresh (doc/sharding.md).
sharding_start "$tmp" socket "shared_preload_libraries = ''" "jit = off" ||
  setup_failed "the three clusters did not start"

coord() { sharding_psql coordinator "$@"; }

started=$SECONDS
for db in go syn; do
  sharding_create_db "$db"
  coord "$db" -f "$here/plan.sql"
done

# The synthetic archive: each server generates all posts and keeps its share (sharding_split),
# in the background while the Go blog loads.
#   generate <server> <filter on the partition key, :key standing for it> <schema prefix>
generate() {
  local keep_home=${2//:key/home} keep_topic=${2//:key/t.topic}
  sharding_psql "$1" syn -f "$here/synthetic.sql" -f - <<SQL
CREATE TEMP TABLE generated AS SELECT * FROM public.synthetic_posts($synthetic_posts);
INSERT INTO $3posts SELECT * FROM generated WHERE $keep_home;
INSERT INTO $3topic_posts
SELECT t.topic, g.key, g.title, g.published_at, archive.normalize_tags(g.tags)
FROM generated AS g, unnest(archive.normalize_tags(g.tags)) AS t(topic)
WHERE g.visibility = 'public' AND $keep_topic;
ANALYZE $3posts;
ANALYZE $3topic_posts;
SQL
}
sharding_split generate &
generating=$!

# The Go blog: loaded into the coordinator's store (archive.posts) as one server would, copied to
# the one-server tables (posts with their home, memberships as archive.topic_members has them),
# and distributed to the shards through the partitioned tables (postgres_fdw inserts).
coord go <<SQL
\\set lines \`cat '$data'\`
CREATE TEMP TABLE loaded AS SELECT * FROM archive.load_jsonl(:'lines');
DO \$\$ BEGIN
    IF EXISTS (SELECT 1 FROM loaded WHERE outcome = 'rejected') OR
       (SELECT posts FROM loaded WHERE outcome = 'added') < 1 THEN
        RAISE EXCEPTION 'the Go blog did not load: %', (SELECT string_agg(outcome || ' ' || posts || coalesce(' ' || detail, ''), '; ') FROM loaded);
    END IF;
END \$\$;
INSERT INTO single.posts
SELECT key, coalesce((archive.normalize_tags(tags))[1], ''), url, slug, title, summary, published_at,
       tags, authors, body_markdown, visibility
FROM archive.posts;
INSERT INTO single.topic_posts
SELECT m.topic, p.key, p.title, p.published_at, p.tags
FROM archive.topic_members AS m JOIN archive.public_posts AS p ON p.key = m.post_key;
INSERT INTO posts SELECT * FROM single.posts;
INSERT INTO topic_posts SELECT * FROM single.topic_posts;
SQL

wait $generating || setup_failed "generating the synthetic archive failed"
for db in go syn; do
  coord "$db" -c "ANALYZE single.posts" -c "ANALYZE single.topic_posts" -c "ANALYZE posts" -c "ANALYZE topic_posts"
done
for db in go syn; do
  read -r posts memberships topics < <(coord "$db" -A -t -F ' ' -c \
    "SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM topic_posts), (SELECT count(DISTINCT topic) FROM topic_posts)")
  echo "sharding: $db: $posts posts, $memberships memberships, $topics topics on two shards"
done
echo "sharding: set up in $((SECONDS - started))s"

# Counts a check by a query on a coordinator database that returns the rows in error (none when
# it passes): check <name> <db> <sql>
check() {
  check_db=$2
  check_rows "$1" "$3"
}
# check_rows's psql: the coordinator database of the check in progress.
in_db() { coord "$check_db" "$@"; }

# Rows in one query's result and not the other's, labelled: diff_sql <sharded sql> <one-server sql>
diff_sql() {
  printf "(SELECT 'sharded' AS side, * FROM (%s) a EXCEPT ALL SELECT 'sharded', * FROM (%s) b)
          UNION ALL
          (SELECT 'one server', * FROM (%s) b EXCEPT ALL SELECT 'one server', * FROM (%s) a)
          ORDER BY 2, 1" "$1" "$2" "$2" "$1"
}

# The rows of a query as one text column, to go with other problems: as_text <sql>
as_text() {
  printf "SELECT d::text FROM (%s) AS d" "$1"
}

# Dollar-quotes a query for plan_nodes(): q <sql>
# shellcheck disable=SC2016  # $q$ is SQL's dollar quote, not an expansion
q() { printf '$q$%s$q$' "$1"; }

# The queries. Per topic, every figure of a topic page's source, from the memberships.
per_topic() {
  echo "SELECT topic, count(*) AS posts, archive.topic_span(published_at)::text AS span,
               archive.tag_counts_agg(tags)::text AS tags, archive.title_terms_agg(title)::text AS titles,
               archive.tag_adjacency(tags, 5, ARRAY[topic])::text AS adjacency,
               archive.title_motifs(title, 10)::text AS motifs
        FROM $1 GROUP BY topic"
}
# The same, the summaries as values (for EXPLAIN: the casts to text are done on the coordinator).
per_topic_values="SELECT topic, count(*), archive.topic_span(published_at), archive.tag_counts_agg(tags),
                         archive.title_terms_agg(title), archive.tag_adjacency(tags, 5, ARRAY[topic]),
                         archive.title_motifs(title, 10)
                  FROM topic_posts GROUP BY topic"
# Archive-wide, shape "per home": a summary per shard and home topic, merged on the coordinator.
per_home_inner="SELECT home, count(*) AS posts, archive.topic_span(published_at) AS span,
                       archive.tag_counts_agg(tags) AS tags, archive.title_terms_agg(title) AS titles
                FROM posts WHERE visibility = 'public' GROUP BY home"
merge="sum(posts) AS posts, archive.span_union_agg(span)::text AS span,
       archive.termcounts_union_agg(tags)::text AS tags, archive.termcounts_union_agg(titles)::text AS titles"
per_home="SELECT $merge FROM ($per_home_inner) AS per_home"
# Archive-wide, shape "shard view": the shards' archive_summary views, one row each.
shard_view="SELECT $merge FROM archive_summaries"
# Archive-wide on one server: one aggregate over all public posts.
one_server="SELECT count(*) AS posts, archive.topic_span(published_at)::text AS span,
                   archive.tag_counts_agg(tags)::text AS tags, archive.title_terms_agg(title)::text AS titles
            FROM single.posts WHERE visibility = 'public'"

# Problems of a plan whose aggregation must be on the shards, but for at most <local> aggregate
# nodes on the coordinator: one async Foreign Scan per shard, each a pushed aggregate whose Remote
# SQL holds every needle. pushed_problems <local> <sql> <needles...>
pushed_problems() {
  local local_aggs=$1 sql=$2 needle conds=""
  shift 2
  for needle in "$@"; do
    conds+=" OR position('$needle' IN coalesce(remote_sql, '')) = 0"
  done
  echo "WITH n AS (SELECT * FROM plan_nodes($(q "$sql")))
        SELECT 'foreign scans: ' || count(*) FROM n WHERE node = 'Foreign Scan' HAVING count(*) <> 2
        UNION ALL SELECT 'aggregate nodes on the coordinator: ' || count(*) FROM n WHERE node = 'Aggregate'
                  HAVING count(*) > $local_aggs
        UNION ALL SELECT 'not async: ' || relations FROM n WHERE node = 'Foreign Scan' AND NOT async
        UNION ALL SELECT 'not pushed: ' || coalesce(relations, '') || ': ' || coalesce(remote_sql, '')
                  FROM n WHERE node = 'Foreign Scan'
                   AND (coalesce(relations, '') NOT LIKE 'Aggregate on %' $conds)"
}

# Remote SQL of a query's foreign scans, printed under the check: show_remote <db> <sql>
show_remote() {
  coord "$1" -A -t -c "SELECT DISTINCT '       remote: ' || regexp_replace(remote_sql, '\s+', ' ', 'g')
                       FROM plan_nodes($(q "$2")) WHERE node = 'Foreign Scan'" || true
}

for db in go syn; do
  echo "-- $db ($((SECONDS - started))s)"
  # OFFSET 0 keeps satisfies_hash_partition() on the coordinator: shipped, it would name the
  # coordinator's table by an oid the shard does not have.
  check "$db/distributed" "$db" "
    SELECT format('%s of %s not on the shard of their partition', count(*), what)
    FROM (SELECT 'posts' FROM (SELECT home FROM posts_1 OFFSET 0) AS p
          WHERE NOT satisfies_hash_partition('posts'::regclass, 2, 0, home)
          UNION ALL
          SELECT 'posts' FROM (SELECT home FROM posts_2 OFFSET 0) AS p
          WHERE NOT satisfies_hash_partition('posts'::regclass, 2, 1, home)
          UNION ALL
          SELECT 'memberships' FROM (SELECT topic FROM topic_posts_1 OFFSET 0) AS m
          WHERE NOT satisfies_hash_partition('topic_posts'::regclass, 2, 0, topic)
          UNION ALL
          SELECT 'memberships' FROM (SELECT topic FROM topic_posts_2 OFFSET 0) AS m
          WHERE NOT satisfies_hash_partition('topic_posts'::regclass, 2, 1, topic)) AS misplaced(what)
    GROUP BY what
    UNION ALL
    SELECT 'a shard has no posts or no memberships'
    WHERE NOT EXISTS (SELECT FROM posts_1) OR NOT EXISTS (SELECT FROM posts_2)
       OR NOT EXISTS (SELECT FROM topic_posts_1) OR NOT EXISTS (SELECT FROM topic_posts_2)
    UNION ALL
    $(as_text "$(diff_sql "SELECT key, home, title, published_at, tags, visibility FROM posts" \
                          "SELECT key, home, title, published_at, tags, visibility FROM single.posts")")
    UNION ALL
    $(as_text "$(diff_sql "SELECT topic, key, title, published_at, tags FROM topic_posts" \
                          "SELECT topic, key, title, published_at, tags FROM single.topic_posts")")"

  check "$db/per_topic_plan" "$db" "$(pushed_problems 0 "$per_topic_values" \
    'archive.topic_span(' 'archive.tag_counts_agg(' 'archive.title_terms_agg(' \
    'archive.tag_adjacency(' 'archive.title_motifs(' 'count(*)' 'GROUP BY 1')"
  [[ $db != go ]] || show_remote "$db" "$per_topic_values"
  check "$db/per_topic_equal" "$db" "$(diff_sql "$(per_topic topic_posts)" "$(per_topic single.topic_posts)")"

  # The merge is the one Aggregate on the coordinator.
  check "$db/archive_wide_plan" "$db" "$(pushed_problems 1 "$per_home" \
    'archive.topic_span(' 'archive.tag_counts_agg(' 'archive.title_terms_agg(' 'GROUP BY 1')
    UNION ALL
    SELECT 'the coordinator does not merge with the union aggregates' FROM plan_nodes($(q "$per_home"))
    WHERE node = 'Aggregate' HAVING count(*) <> 1"
  [[ $db != go ]] || show_remote "$db" "$per_home"
  check "$db/archive_wide_equal" "$db" "$(diff_sql "$per_home" "$one_server")"
  read -r rows_1 rows_2 homes < <(coord "$db" -A -t -F ' ' -c "
    SELECT (array_agg(actual_rows ORDER BY remote_sql, actual_rows))[1], (array_agg(actual_rows ORDER BY remote_sql, actual_rows))[2],
           (SELECT count(DISTINCT home) FROM single.posts WHERE visibility = 'public')
    FROM plan_nodes($(q "$per_home"), true) WHERE node = 'Foreign Scan'")
  check "$db/archive_wide_rows" "$db" "
    SELECT 'rows from the shards: ' || s.actual_rows || ' (at most one summary per topic, ' || h.homes || ' topics)'
    FROM plan_nodes($(q "$per_home"), true) AS s,
         (SELECT count(DISTINCT home) AS homes FROM single.posts WHERE visibility = 'public') AS h
    WHERE s.node = 'Foreign Scan' AND (s.actual_rows > h.homes OR s.actual_rows < 1)
    UNION ALL
    SELECT 'rows from both shards: ' || sum(s.actual_rows) || ', more than one summary per shard and topic'
    FROM plan_nodes($(q "$per_home"), true) AS s WHERE s.node = 'Foreign Scan'
    HAVING sum(s.actual_rows) > (SELECT count(DISTINCT home) FROM single.posts WHERE visibility = 'public')"
  echo "       rows from the shards: $rows_1 + $rows_2 summaries for $homes home topics"

  check "$db/shard_view" "$db" "
    SELECT 'shard view: ' || coalesce(relations, '') || ' sent ' || actual_rows || ' rows: ' || remote_sql
    FROM plan_nodes($(q "$shard_view"), true)
    WHERE node = 'Foreign Scan' AND (actual_rows <> 1 OR remote_sql NOT LIKE '%archive_summary%')
    UNION ALL
    SELECT 'foreign scans: ' || count(*) FROM plan_nodes($(q "$shard_view")) WHERE node = 'Foreign Scan'
    HAVING count(*) <> 2
    UNION ALL
    $(as_text "$(diff_sql "$shard_view" "$one_server")")"
  [[ $db != go ]] || show_remote "$db" "$shard_view"

  # PG15 postgres_fdw pushes no partial aggregate: this shape pulls every post.
  check "$db/whole_not_pushed" "$db" "
    WITH n AS (SELECT * FROM plan_nodes($(q "SELECT archive.tag_counts_agg(tags) FROM posts"), true))
    SELECT 'pushed after all: ' || remote_sql FROM n
    WHERE node = 'Foreign Scan' AND remote_sql LIKE '%archive.tag_counts_agg%'
    UNION ALL
    SELECT 'rows from the shards: ' || sum(actual_rows) || ', posts: ' || (SELECT count(*) FROM single.posts)
    FROM n WHERE node = 'Foreign Scan'
    HAVING sum(actual_rows) <> (SELECT count(*) FROM single.posts)"
done

# Topic pages: refresh on one server, then from the sharded posts, and compare.
echo "-- pages ($((SECONDS - started))s)"
pages_equal() { # pages_equal <db> <sql setting the one-server source> <sharded source>
  local db=$1 t0=$SECONDS out
  if ! out=$(coord "$db" -c "$2" \
    -c "SELECT * FROM archive.refresh(true)" -c "CREATE TABLE single.pages AS SELECT * FROM archive.page_records" \
    -c "SELECT archive.set_source('$3')" -c "DELETE FROM archive.page_records" \
    -c "SELECT * FROM archive.refresh(true)" 2>&1); then
    failed=$((failed + 1))
    echo "FAILED $db/pages_equal: a refresh failed:"
    printf '%s\n' "$out" | head -n 40
    return
  fi
  check "$db/pages_equal" "$db" "
    SELECT coalesce(p.topic, s.topic) AS topic,
           CASE WHEN p.topic IS NULL THEN 'missing from the sharded pages'
                WHEN s.topic IS NULL THEN 'not on the one-server pages'
                WHEN p.record IS DISTINCT FROM s.record THEN 'record differs'
                WHEN p.markdown IS DISTINCT FROM s.markdown THEN 'markdown differs'
                ELSE 'html differs' END AS problem
    FROM archive.page_records AS p FULL JOIN single.pages AS s ON s.topic = p.topic
    WHERE (p.record, p.markdown, p.html) IS DISTINCT FROM (s.record, s.markdown, s.html)
    UNION ALL
    SELECT 'pages: ' || count(*), 'too few to compare' FROM single.pages HAVING count(*) < 5"
  echo "       $(coord "$db" -A -t -c "SELECT count(*) || ' pages, ' || sum(post_count) || ' memberships'
                                    FROM archive.page_records") ($((SECONDS - t0))s for both refreshes)"
}
pages_equal go "SELECT archive.reset_source()" public.posts
coord syn -c "CREATE VIEW single.first_months AS SELECT * FROM single.posts WHERE published_at < '2005-03-01 00:00+00'" \
  -c "CREATE VIEW first_months AS SELECT * FROM posts WHERE published_at < '2005-03-01 00:00+00'"
pages_equal syn "SELECT archive.set_source('single.first_months')" public.first_months

# The summaries refresh stores per topic and month can be computed on the shards.
topic_months="SELECT topic, archive.month_of(published_at) AS month, count(*)::integer AS posts,
                     archive.topic_span(published_at) AS span, archive.tag_counts_agg(tags) AS tags,
                     archive.title_terms_agg(title) AS titles
              FROM topic_posts GROUP BY 1, 2"
check go/topic_months_pushed go "$(pushed_problems 0 "$topic_months" 'archive.topic_span(' 'archive.tag_counts_agg(' \
  'archive.title_terms_agg(' 'GROUP BY 1, 2')
  UNION ALL
  $(as_text "$(diff_sql "SELECT topic, month, posts, span::text, tags::text, titles::text FROM ($topic_months) x" \
                        "SELECT topic, month, posts, span::text, tags::text, titles::text FROM archive.topic_months")")"

# Numbers: the per-topic figures of the synthetic archive on one server and on two shards. The
# bytes are those of the text forms of the fetched columns, which is what postgres_fdw transfers
# (the values are the one server's: the same, as per_topic_equal checked).
echo "-- numbers ($((SECONDS - started))s; synthetic archive, per-topic figures, best of 2)"
text_bytes="octet_length(topic) + octet_length(posts::text) + octet_length(span) + octet_length(tags)
            + octet_length(titles) + octet_length(adjacency) + octet_length(motifs)"
summary_bytes="octet_length(posts::text) + octet_length(span::text) + octet_length(tags::text)
               + octet_length(titles::text)"
coord syn -A -t <<SQL || { failed=$((failed + 1)); echo "FAILED numbers: could not be measured"; }
SELECT format('one server:             %s ms', best_ms(\$q\$$(per_topic single.topic_posts)\$q\$, 2));
SELECT format('two shards, pushed:     %s ms', best_ms(\$q\$$(per_topic topic_posts)\$q\$, 2));
SET enable_partitionwise_aggregate = off;
SELECT format('two shards, not pushed: %s ms (rows pulled, aggregated on the coordinator)',
              best_ms(\$q\$$(per_topic topic_posts)\$q\$, 2));
RESET enable_partitionwise_aggregate;
CREATE TEMP TABLE scans AS
SELECT * FROM plan_nodes(\$q\$$per_topic_values\$q\$, true) WHERE node = 'Foreign Scan';
SELECT format('moved, pushed:          %s rows, %s bytes as text (EXPLAIN width x rows: %s bytes)',
              (SELECT sum(actual_rows) FROM scans),
              (SELECT sum($text_bytes) FROM ($(per_topic single.topic_posts)) AS x),
              (SELECT sum(actual_rows * plan_width) FROM scans));
SELECT format('moved, not pushed:      %s rows, %s bytes as text',
              count(*), sum(octet_length(t.topic) + octet_length(t.title) + coalesce(octet_length(t.published_at::text), 0)
                            + octet_length(t.tags::text)))
FROM single.topic_posts AS t;
SELECT format('archive-wide, per home: %s rows, %s bytes; shard view: %s rows, %s bytes; not pushed: %s rows, %s bytes',
              (SELECT count(*) FROM ($per_home_inner) AS x),
              (SELECT sum(octet_length(home) + $summary_bytes) FROM ($per_home_inner) AS x),
              (SELECT count(*) FROM archive_summaries),
              (SELECT sum($summary_bytes) FROM archive_summaries),
              (SELECT count(*) FROM single.posts WHERE visibility = 'public'),
              (SELECT sum(octet_length(title) + coalesce(octet_length(published_at::text), 0) + octet_length(tags::text))
               FROM single.posts WHERE visibility = 'public'));
SQL

echo "sharding: done in $((SECONDS - started))s"
echo "SUITE-COUNT: $passed $failed"
((failed == 0))
