--
-- parallel: every aggregate under a forced parallel plan (partial states
-- serialized by the workers, deserialized and combined by the leader) gives
-- the same value as the serial plan; summaries stored per partition and
-- unioned equal one aggregate over the partitioned table.
--
SET TimeZone = 'UTC';
-- Parallel workers cannot read temporary tables: the fixture lives in a schema
-- dropped at the end.
CREATE SCHEMA parfix;
SET search_path = parfix, public;

-- 3000 generated posts in 7 topics: dates every 1 day 3 hours from 2015 on
-- (every 97th undated), tags with case, space and duplicate variants (every
-- 11th post untagged), titles from a small vocabulary with singular and plural
-- forms, stop and filler words (every 23rd title NULL).
CREATE TABLE par_posts AS
SELECT i AS id,
       'topic-' || (i % 7) AS topic,
       CASE WHEN i % 97 <> 0 THEN timestamptz '2015-01-01 00:00+00' + i * interval '1 day 3 hours' END
           AS published_at,
       CASE WHEN i % 11 <> 0 THEN
           array_remove(ARRAY['tag-' || (i % 13), 'Tag-' || (i % 17), ' TAG-' || (i % 13),
                              CASE WHEN i % 5 = 0 THEN 'Go' END, CASE WHEN i % 3 = 0 THEN ' go ' END,
                              CASE WHEN i % 2 = 0 THEN 'Design  Systems' END], NULL)
       END AS tags,
       CASE WHEN i % 23 <> 0 THEN
           (ARRAY['Testing', 'Tests', 'The Test', 'Really Fast'])[i % 4 + 1] || ' ' ||
           (ARRAY['Go', 'Modules', 'a Module', 'Generics', 'Generic Code', 'Patterns'])[i % 6 + 1] || ' ' ||
           (ARRAY['in Practice', 'for Teams', '2024', 'Here''s Why', 'with Caching'])[i % 5 + 1]
       END AS title
FROM generate_series(1, 3000) i;
ANALYZE par_posts;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;

-- Each aggregate runs as Finalize Aggregate over Gather over Partial Aggregate.
EXPLAIN (COSTS OFF) SELECT archive.topic_span(published_at) FROM par_posts;
EXPLAIN (COSTS OFF) SELECT archive.tag_counts_agg(tags) FROM par_posts;
EXPLAIN (COSTS OFF) SELECT archive.tag_adjacency(tags, 5, ARRAY['go']) FROM par_posts;
EXPLAIN (COSTS OFF) SELECT archive.title_terms_agg(title) FROM par_posts;
EXPLAIN (COSTS OFF) SELECT archive.title_motifs(title, 5) FROM par_posts;
EXPLAIN (COSTS OFF) SELECT archive.title_motifs(title, 5, 'simple') FROM par_posts;
-- Grouped by topic: partial aggregates per topic in the workers, merged by the leader.
EXPLAIN (COSTS OFF)
SELECT topic, archive.topic_span(published_at), archive.tag_counts_agg(tags),
       archive.tag_adjacency(tags, 3, ARRAY[topic]), archive.title_motifs(title, 3)
FROM par_posts GROUP BY topic;

-- Workers do run (how many may depend on the server's free worker slots).
CREATE FUNCTION pg_temp.workers_launched(query text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    line text;
    launched int := 0;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query LOOP
        IF line ~ 'Workers Launched: ' THEN
            launched := launched + substring(line FROM 'Workers Launched: (\d+)')::int;
        END IF;
    END LOOP;
    RETURN launched;
END
$$;
SELECT pg_temp.workers_launched('SELECT archive.topic_span(published_at) FROM par_posts') > 0 AS span_workers,
       pg_temp.workers_launched('SELECT archive.title_motifs(title, 5) FROM par_posts') > 0 AS motif_workers;

-- The values under the parallel plan, kept in psql variables (\gset runs the
-- query at top level, as a client would), then compared as text with the
-- values under the serial plan.
SELECT archive.topic_span(published_at)::text AS par_span,
       archive.tag_counts_agg(tags)::text AS par_tags,
       archive.tag_adjacency(tags, 5, ARRAY['go'])::text AS par_adjacency,
       archive.title_terms_agg(title)::text AS par_titles,
       archive.title_motifs(title, 5)::text AS par_motifs,
       archive.title_motifs(title, 8, 'simple')::text AS par_motifs_simple
FROM par_posts \gset
SELECT string_agg(format('%s %s %s %s %s', topic, s, t, a, m), E'\n' ORDER BY topic) AS par_by_topic
FROM (SELECT topic, archive.topic_span(published_at) AS s, archive.tag_counts_agg(tags) AS t,
             archive.tag_adjacency(tags, 3, ARRAY[topic]) AS a, archive.title_motifs(title, 3) AS m
      FROM par_posts GROUP BY topic) g \gset
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT archive.topic_span(published_at) FROM par_posts;
SELECT archive.topic_span(published_at)::text = :'par_span' AS span_same,
       archive.tag_counts_agg(tags)::text = :'par_tags' AS tags_same,
       archive.tag_adjacency(tags, 5, ARRAY['go'])::text = :'par_adjacency' AS adjacency_same,
       archive.title_terms_agg(title)::text = :'par_titles' AS titles_same,
       archive.title_motifs(title, 5)::text = :'par_motifs' AS motifs_same,
       archive.title_motifs(title, 8, 'simple')::text = :'par_motifs_simple' AS motifs_simple_same
FROM par_posts;
SELECT string_agg(format('%s %s %s %s %s', topic, s, t, a, m), E'\n' ORDER BY topic) = :'par_by_topic'
           AS by_topic_same
FROM (SELECT topic, archive.topic_span(published_at) AS s, archive.tag_counts_agg(tags) AS t,
             archive.tag_adjacency(tags, 3, ARRAY[topic]) AS a, archive.title_motifs(title, 3) AS m
      FROM par_posts GROUP BY topic) g;
-- A value for each of the 7 topics was compared.
SELECT array_length(regexp_split_to_array(:'par_by_topic', E'\n'), 1) AS topics;

-- Spot checks of the values against plain SQL (exact while max_error is 0).
SELECT archive.posts(s) = 3000 AS posts_ok,
       archive.undated_posts(s) = (SELECT count(*) FROM par_posts WHERE published_at IS NULL) AS undated_ok,
       archive.first_published(s) = (SELECT min(published_at) FROM par_posts) AS first_ok,
       archive.last_published(s) = (SELECT max(published_at) FROM par_posts) AS last_ok
FROM (SELECT :'par_span'::archive.span AS s) r;
-- By hand: "go" is on the tagged posts (not multiples of 11) that are
-- multiples of 3 or 5: 1000 + 600 - 200 = 1400 multiples of 3 or 5 up to 3000,
-- less those that are multiples of 33 or 55 (90 + 54 - 18 of 165) = 1274;
-- "design systems" on even tagged posts: 1500 - 136 (multiples of 22) = 1364.
SELECT t.term, t.count, archive.rows(r.s) AS rows, archive.max_error(r.s) AS max_error
FROM (SELECT :'par_tags'::archive.termcounts AS s) r,
     archive.terms(r.s) AS t
WHERE t.term IN ('go', 'design systems') ORDER BY t.term;
-- Every count agrees with plain SQL (no rows: no difference).
SELECT t.term, t.count
FROM (SELECT :'par_tags'::archive.termcounts AS s) r,
     archive.terms(r.s) AS t
EXCEPT
SELECT tag, count(*) FROM (SELECT DISTINCT id, archive.normalize_tag(u) AS tag
                           FROM par_posts, unnest(tags) AS u) d GROUP BY tag;

-- A partitioned table: posts by month in yearly range partitions, undated
-- posts in the default partition.
SET max_parallel_workers_per_gather = 2;
CREATE TABLE par_parted (
    id int,
    month date,
    published_at timestamptz,
    tags text[],
    title text
) PARTITION BY RANGE (month);
CREATE TABLE par_parted_2015 PARTITION OF par_parted FOR VALUES FROM ('2015-01-01') TO ('2017-01-01');
CREATE TABLE par_parted_2017 PARTITION OF par_parted FOR VALUES FROM ('2017-01-01') TO ('2020-01-01');
CREATE TABLE par_parted_2020 PARTITION OF par_parted FOR VALUES FROM ('2020-01-01') TO ('2030-01-01');
CREATE TABLE par_parted_undated PARTITION OF par_parted DEFAULT;
INSERT INTO par_parted
SELECT id, date_trunc('month', published_at AT TIME ZONE 'UTC')::date, published_at, tags, title FROM par_posts;
ANALYZE par_parted;
SELECT tableoid::regclass AS partition, count(*) FROM par_parted GROUP BY 1 ORDER BY 1;

-- One aggregate over the parent runs in parallel too, over a Parallel Append.
EXPLAIN (COSTS OFF) SELECT archive.tag_counts_agg(tags) FROM par_parted;

-- Summaries per partition, stored in a table.
CREATE TEMP TABLE par_partition_summaries AS
SELECT tableoid::regclass AS partition,
       archive.topic_span(published_at) AS span,
       archive.tag_counts_agg(tags) AS tags,
       archive.title_terms_agg(title) AS titles
FROM par_parted GROUP BY tableoid;
-- Their unions equal one aggregate over the parent (and over the plain table).
SELECT (SELECT archive.span_union_agg(span)::text FROM par_partition_summaries)
     = (SELECT archive.topic_span(published_at)::text FROM par_parted) AS span_equal,
       (SELECT archive.termcounts_union_agg(tags)::text FROM par_partition_summaries)
     = (SELECT archive.tag_counts_agg(tags)::text FROM par_parted) AS tags_equal,
       (SELECT archive.termcounts_union_agg(titles)::text FROM par_partition_summaries)
     = (SELECT archive.title_terms_agg(title)::text FROM par_parted) AS titles_equal,
       (SELECT archive.span_union_agg(span)::text FROM par_partition_summaries)
     = :'par_span' AS span_equal_plain,
       (SELECT archive.termcounts_union_agg(tags)::text FROM par_partition_summaries)
     = :'par_tags' AS tags_equal_plain,
       (SELECT archive.termcounts_union_agg(titles)::text FROM par_partition_summaries)
     = :'par_titles' AS titles_equal_plain;
-- Spans per month (undated posts in the NULL month) unioned equal the span of all posts.
SELECT (SELECT archive.span_union_agg(s)::text
        FROM (SELECT archive.topic_span(published_at) AS s FROM par_parted GROUP BY month) m)
     = (SELECT archive.topic_span(published_at)::text FROM par_parted) AS monthly_union_equal;
-- The rankings from the unioned summaries equal the ranking aggregates.
SELECT (SELECT archive.top_terms(archive.termcounts_union_agg(titles), 5) FROM par_partition_summaries)::text
     = (SELECT archive.title_motifs(title, 5) FROM par_parted)::text AS motifs_equal,
       (SELECT archive.top_terms(archive.termcounts_union_agg(tags), 5, ARRAY['go']) FROM par_partition_summaries)::text
     = (SELECT archive.tag_adjacency(tags, 5, ARRAY['go']) FROM par_parted)::text AS adjacency_equal;

RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
RESET TimeZone;
RESET search_path;
DROP SCHEMA parfix CASCADE;
