/*-------------------------------------------------------------------------
 *
 * archive--0.2.0--0.3.0.sql
 *	  Update of the archive extension from 0.2.0 to 0.3.0.
 *
 * 0.3.0 makes the incremental refresh read only the posts that changed.  A
 * (topic, month) summary a change touched is updated from the changed posts
 * alone: their old versions (its stored references) are taken out of its
 * tag and title summaries with the new archive.termcounts_subtract, and
 * their new versions merged in (archive.summarize_memberships); a summary
 * that pruned is summarised again from its posts.  The archive's monthly
 * tag summaries are summarised again only in the months where some post's
 * tags or month changed, not after title edits.
 *
 * It also makes refreshes cheaper: the reference lists are built by the
 * new C aggregate archive.references_agg instead of jsonb_agg, the adjacent
 * tags of every page are ranked by the new archive.adjacent_tags (which reads
 * the archive's tag summary once, not once per topic), a page's references
 * and reading path come from one pass over its months (the new aggregate
 * archive.reading_refs_agg), an incremental refresh merges a topic month's
 * reference list with the new archive.references_merge and its summaries with
 * the new archive.termcounts_union, the pages are rendered by the new
 * archive.page_render (each record read once for its prose, Markdown and
 * HTML) and assembled in parallel (one archive.page_figures call per
 * process, through a temporary table), a page keeps its topic's tag
 * summary (archive.page_records.tags) so that a change of the archive's tag
 * counts alone reassembles the untouched topics' pages from their stored
 * figures, and the summary and page columns are compressed with lz4 where
 * the server has it.
 *
 * It also counts the implicit topics of archive.topic_catalog with the new
 * archive.public_tag_counts, a tag summary at the largest capacity: in 0.2.0
 * the summary was at archive.summary_capacity, and past twice that many
 * distinct tags it undercounted the long tail and dropped topics.  The
 * archive's monthly tag summaries, which lift divides by, are summarised at
 * the largest capacity, so that their union stays exact.  A refresh inserts
 * the topic months it summarises whole straight from the new
 * archive.topic_months_query, not through set-returning functions, and
 * archive.topic_members lists each membership once without sorting them all.
 *
 * Functions whose signature is unchanged are replaced in place;
 * test/suites/upgrade.sh checks that an updated database has exactly the
 * objects, definitions and comments of a new 0.3.0 install, and the same
 * pages.
 *
 *-------------------------------------------------------------------------
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION archive UPDATE TO '0.3.0'" to load this file. \quit

-- The inverse of a union, where it is exact.
CREATE FUNCTION archive.termcounts_subtract(summary archive.termcounts, removed archive.termcounts)
    RETURNS archive.termcounts
    AS 'MODULE_PATHNAME', 'archive_termcounts_subtract'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION archive.termcounts_subtract(archive.termcounts, archive.termcounts) IS
    'The summary without the rows that removed summarises (the inverse of a union); NULL unless both are exact (max_error 0) and removed is part of summary';

-- A page's prose, Markdown and HTML in one call: a refresh read each record three times.
CREATE FUNCTION archive.page_render(record jsonb, OUT prose jsonb, OUT markdown text, OUT html text)
    RETURNS record
    AS 'MODULE_PATHNAME', 'archive_page_render'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION archive.page_render(jsonb) IS
    'A topic page record as archive.page_prose, archive.page_markdown and archive.page_html give it, in one call that reads the record and writes the page''s sentences once for the three';

-- A post's topics, looked up by the refresh for each changed post: without it,
-- every membership was read to find those of a few thousand posts.
CREATE INDEX post_topics_post_key_idx ON archive.post_topics (post_key);

-- The implicit topics are counted at the largest capacity: past 2 x
-- archive.summary_capacity tags, 0.2.0's tag summary dropped topics from the
-- catalog.
CREATE FUNCTION archive.public_tag_counts() RETURNS archive.termcounts
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    -- At the largest capacity: exact up to 2,097,152 distinct tags.  At
    -- archive.summary_capacity the long tail was undercounted and topics dropped (at a
    -- million posts and 20,000 tags the catalog kept 3,039 of the 20,001 tags of 3
    -- posts or more); a GROUP BY over unnested tags is exact too, but twice as slow.
    SET archive.summary_capacity = 1048576
    AS $$
    SELECT archive.tag_counts_agg(p.tags) FROM archive.public_posts AS p
    $$;
COMMENT ON FUNCTION archive.public_tag_counts() IS
    'The tags of all public posts as one summary at the largest capacity (exact up to 2,097,152 distinct tags): the counts implicit topics are chosen by';

CREATE OR REPLACE VIEW archive.topic_catalog WITH (security_invoker) AS
WITH implicit_topics AS (
    SELECT t.term AS tag, coalesce(archive.slugify(t.term), 'topic') AS base_slug,
           row_number() OVER (PARTITION BY coalesce(archive.slugify(t.term), 'topic')
                              ORDER BY t.count DESC, t.term COLLATE "C") AS dup
    FROM archive.terms(archive.public_tag_counts()) AS t
    WHERE t.count >= current_setting('archive.min_topic_posts', true)::int
)
SELECT slug AS topic, name, lens, through_line, advice, pitfalls,
       archive.normalize_tags(tags) AS tags, false AS implicit
FROM archive.topics
UNION ALL
-- A tag whose slug is taken gets "-2", "-3"...; "--2" when that is another tag's slug
-- (a slug never holds "--" otherwise), so no two topics share one.
SELECT CASE WHEN i.dup = 1 THEN i.base_slug
            WHEN EXISTS (SELECT 1 FROM implicit_topics AS o WHERE o.base_slug = i.base_slug || '-' || i.dup)
            THEN i.base_slug || '--' || i.dup
            ELSE i.base_slug || '-' || i.dup END,
       upper(left(translate(i.tag, '-_', '  '), 1)) || substr(translate(i.tag, '-_', '  '), 2), NULL, NULL, '{}', '{}', ARRAY[i.tag], true
FROM implicit_topics AS i
WHERE NOT EXISTS (SELECT 1 FROM archive.topics);

-- The archive's monthly tag summaries, which lift divides by, are kept at the
-- largest capacity: at archive.summary_capacity their union pruned past 8,192
-- tags and most lifts of a large archive were off.
CREATE OR REPLACE FUNCTION archive.summarize_archive_months(only_months date[] DEFAULT NULL)
    RETURNS SETOF archive.archive_months
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    -- Lift divides by the archive's count of each tag, the union of these months:
    -- at the largest capacity it stays exact up to 2,097,152 distinct tags.  At
    -- archive.summary_capacity (4096) the union of a million posts' 20,000 tags
    -- kept 5,628 with counts up to 132 too low, and 78% of the pages' lifts were
    -- more than 10% off, some 131 times.  One summary per month, not per topic.
    SET archive.summary_capacity = 1048576
    AS $$
    SELECT archive.month_of(p.published_at), archive.tag_counts_agg(p.tags)
    FROM archive.public_posts AS p
    WHERE only_months IS NULL OR archive.month_of(p.published_at) = ANY (only_months)
    GROUP BY 1
    $$;
COMMENT ON TABLE archive.archive_months IS
    'Tag summary of all public posts per calendar month, for lift, exact up to 2,097,152 distinct tags; maintained by archive.refresh()';

-- A union of two summaries without an aggregate per pair (the refresh's topic
-- months).
CREATE FUNCTION archive.termcounts_union(a archive.termcounts, b archive.termcounts)
    RETURNS archive.termcounts
    AS 'MODULE_PATHNAME', 'archive_termcounts_union'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION archive.termcounts_union(archive.termcounts, archive.termcounts) IS
    'The summary of the rows of both summaries, as archive.termcounts_union_agg gives it over a then b; a NULL one is left out, NULL when both are';

-- A page's title motifs, both halves' included, in one pass over its months.
CREATE FUNCTION archive.motif_figures_trans(internal, date, bigint, archive.termcounts, integer, integer)
    RETURNS internal
    AS 'MODULE_PATHNAME', 'archive_motif_figures_trans'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION archive.motif_figures_final(internal) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'archive_motif_figures_final'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION archive.motif_figures_trans(internal, date, bigint, archive.termcounts, integer, integer) IS
    'Transition function of archive.motif_figures_agg';
COMMENT ON FUNCTION archive.motif_figures_final(internal) IS
    'Final function of archive.motif_figures_agg';

-- (no combine function: a topic's months are read in one place, and the state
-- holds each month's title summary, some 1 kB)
CREATE AGGREGATE archive.motif_figures_agg(month date, posts bigint, titles archive.termcounts,
                                           k integer, half_k integer) (
    SFUNC = archive.motif_figures_trans,
    STYPE = internal,
    SSPACE = 200000,
    FINALFUNC = archive.motif_figures_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE archive.motif_figures_agg(date, bigint, archive.termcounts, integer, integer) IS
    'A topic''s title motifs from its months'' title summaries, as a jsonb object: title_motifs (its k strongest recurring motifs), early_motifs and recent_motifs (the half_k that set its older and newer half apart)';

-- Reference lists built in C rather than with jsonb_agg.
CREATE FUNCTION archive.references_trans(internal, text, text, text, text, text[], timestamptz)
    RETURNS internal
    AS 'MODULE_PATHNAME', 'archive_references_trans'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION archive.references_final(internal) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'archive_references_final'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION archive.references_trans(internal, text, text, text, text, text[], timestamptz) IS
    'Transition function of archive.references_agg';
COMMENT ON FUNCTION archive.references_final(internal) IS
    'Final function of archive.references_agg';

-- (no combine function: the refresh builds one list per topic and month, a few
-- posts each, and never splits one across workers)
CREATE AGGREGATE archive.references_agg(key text, title text, url text, summary text,
                                        tags text[], published_at timestamptz) (
    SFUNC = archive.references_trans,
    STYPE = internal,
    SSPACE = 2048,
    FINALFUNC = archive.references_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE archive.references_agg(text, text, text, text, text[], timestamptz) IS
    'Posts as a reference list: a jsonb array of objects (key, title, url, summary, tags, published_at), newest first, undated last, then by key descending';

-- Adjacent tags ranked in C, the archive's summary read once for all topics.
CREATE FUNCTION archive.adjacent_tags(topic_tags archive.termcounts, archive_tags archive.termcounts,
                                      own_tags text[], k integer)
    RETURNS TABLE (term text, count bigint, share float8, lift float8, strength float8)
    AS 'MODULE_PATHNAME', 'archive_adjacent_tags'
    LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 5;
COMMENT ON FUNCTION archive.adjacent_tags(archive.termcounts, archive.termcounts, text[], integer) IS
    'The k tags that travel with a topic most strongly (posts * ln(lift), lift = share in the topic / share in the archive, only lift > 1), leaving out its own tags, strongest first';

-- A topic month's reference list updated in C by an incremental refresh.
CREATE FUNCTION archive.references_merge(refs jsonb, removed text[], added jsonb,
                                         OUT merged jsonb, OUT posts integer, OUT span archive.span,
                                         OUT dropped jsonb)
    AS 'MODULE_PATHNAME', 'archive_references_merge'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION archive.references_merge(jsonb, text[], jsonb) IS
    'merged: the posts of a reference list whose key is not in removed, and those of added, as one reference list (newest first, undated last, then by key descending), NULL when none; posts: how many; span: their archive.span; dropped: the posts left out';

-- A page's references and reading path in one pass over its months.
CREATE FUNCTION archive.reading_refs_trans(internal, date, jsonb, text[], integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'archive_reading_refs_trans'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION archive.reading_refs_final(internal) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'archive_reading_refs_final'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION archive.reading_refs_trans(internal, date, jsonb, text[], integer) IS
    'Transition function of archive.reading_refs_agg';
COMMENT ON FUNCTION archive.reading_refs_final(internal) IS
    'Final function of archive.reading_refs_agg';

-- (no combine function: a topic's months are read in one place, and the state
-- holds each month's whole reference list, some 2 kB)
CREATE AGGREGATE archive.reading_refs_agg(month date, refs jsonb, strongest text[], max_refs integer) (
    SFUNC = archive.reading_refs_trans,
    STYPE = internal,
    SSPACE = 400000,
    FINALFUNC = archive.reading_refs_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE archive.reading_refs_agg(date, jsonb, text[], integer) IS
    'A topic''s page references (its first max_refs posts, without keys) and reading path (newest, central, oldest post) from its months'' reference lists, as a jsonb object';

-- A page keeps its topic's tag union: a refresh after the archive's tag counts
-- changed reads it for the topics whose months did not change.  (The first refresh
-- after this update is a full one, which writes it on every page.)
ALTER TABLE archive.page_records ADD COLUMN tags archive.termcounts;
COMMENT ON COLUMN archive.page_records.tags IS
    'Tag summary of the topic''s posts, its months'' merged as archive.page_figures merges them; NULL without posts. A refresh after a change of the archive''s tag counts reads it for the topics whose months did not change';

-- Page records: adjacent tags through archive.adjacent_tags, references and reading
-- path through archive.reading_refs_agg, the settled topics' figures from their pages.
-- Its signature changes (the settled topics, and the tag union among its columns).
DROP FUNCTION archive.page_figures(text[]);
CREATE FUNCTION archive.page_figures(only_topics text[] DEFAULT NULL, settled_topics text[] DEFAULT NULL)
    RETURNS TABLE (topic text, span archive.span, tags archive.termcounts, record jsonb)
    LANGUAGE sql STABLE PARALLEL SAFE
    -- A call assembles pages at a few milliseconds each: at the default cost (100) the
    -- planner ran the refresh's calls one after another rather than in parallel.
    COST 1000000
    SET search_path = pg_catalog, pg_temp
    -- A page's figures merge its months at the largest capacity: exact whenever the
    -- months are.  (At archive.summary_capacity the union of the biggest topics'
    -- tags pruned: on a million posts 18 topics, 90 adjacent-tag counts too low.)
    SET archive.summary_capacity = 1048576
    AS $$
    WITH all_topics AS MATERIALIZED (
        SELECT * FROM archive.topic_catalog
    ),
    catalog AS (
        SELECT * FROM all_topics AS c
        WHERE only_topics IS NULL OR c.topic = ANY (only_topics)
    ),
    -- Each month's summaries are read once: into the topic's span, its tags and its
    -- title motifs (archive.motif_figures_agg splits the months into the older and
    -- the newer half itself).  Months are merged in order: a summary that prunes
    -- depends on the order of its merges, and a page must not depend on the plan
    -- that read its months.  Each topic's months are read on their own, in the
    -- primary key's order: no sort, no hash of every month, whatever the estimates.
    -- A settled topic (its months as when its page was written) has them read from
    -- its page instead: span, tag union and the motifs of its record.
    figures AS (
        SELECT c.topic, m.*
        FROM catalog AS c
        CROSS JOIN LATERAL (
            SELECT archive.span_union_agg(tm.span) AS span,
                   archive.termcounts_union_agg(tm.tags ORDER BY tm.month) AS tag_summary,
                   archive.motif_figures_agg(tm.month, tm.posts, tm.titles, 6, 3) AS motifs
            FROM archive.topic_months AS tm
            WHERE tm.topic = c.topic) AS m
        WHERE NOT (c.topic = ANY (coalesce(settled_topics, '{}')))
           OR NOT EXISTS (SELECT 1 FROM archive.page_records AS p WHERE p.topic = c.topic)
        UNION ALL
        SELECT c.topic, p.span, p.tags,
               jsonb_build_object('title_motifs', p.record -> 'title_motifs', 'early_motifs', p.record -> 'early_motifs',
                                  'recent_motifs', p.record -> 'recent_motifs')
        FROM catalog AS c
        JOIN archive.page_records AS p ON p.topic = c.topic
        WHERE c.topic = ANY (settled_topics)
    ),
    -- Adjacent tags: strength = posts carrying the tag * ln(lift), lift = share in
    -- the topic / share in the whole archive; only tags with lift > 1 are neighbours.
    -- (archive.adjacent_tags reads the archive's summary once for all topics.  Its
    -- months are merged in order: past 2 x archive.summary_capacity tags the union
    -- prunes, and in the table's order an incremental refresh, which rewrites some
    -- months, gave other lifts than a full one.)
    adjacent AS MATERIALIZED (
        SELECT f.topic,
               jsonb_agg(jsonb_build_object(
                   'term', a.term, 'count', a.count, 'share', round(a.share::numeric, 4),
                   'lift', round(a.lift::numeric, 3), 'strength', round(a.strength::numeric, 3),
                   'url', (SELECT replace(current_setting('archive.topic_url', true), '{slug}', o.topic)
                           FROM all_topics AS o
                           WHERE current_setting('archive.topic_url', true) <> '' AND a.term = ANY (o.tags)
                           ORDER BY o.topic LIMIT 1)) ORDER BY a.rank) AS tags
        FROM figures AS f
        JOIN catalog AS c ON c.topic = f.topic
        CROSS JOIN LATERAL archive.adjacent_tags(
            f.tag_summary, (SELECT archive.termcounts_union_agg(am.tags ORDER BY am.month) FROM archive.archive_months AS am),
            c.tags, 5) WITH ORDINALITY AS a(term, count, share, lift, strength, rank)
        GROUP BY f.topic
    ),
    -- The references a page lists, the newest archive.page_references posts (undated
    -- ones last), and its reading path: the newest post, the most central one (carrying
    -- most of the three strongest adjacent tags, newest first on ties) and the oldest,
    -- read from the months' reference lists in one pass (archive.reading_refs_agg).
    strongest AS (
        SELECT a.topic, ARRAY(SELECT jsonb_array_elements_text(jsonb_path_query_array(a.tags, '$[0 to 2].term'))) AS tags
        FROM adjacent AS a
    ),
    -- A settled topic whose three strongest adjacent tags are those of its page keeps
    -- the page's references and reading path (kept): they depend on nothing else.
    reading AS (
        SELECT c.topic, st.tags AS strongest, k.record AS kept,
               -- (the setting in a subquery of its own: read once, not once per month;
               -- archive.settings() builds its jsonb from text, 11% of assembling pages)
               CASE WHEN k.record IS NULL THEN
                   (SELECT archive.reading_refs_agg(tm.month, tm.refs, st.tags,
                                                    (SELECT (archive.settings() ->> 'page_references')::integer))
                    FROM archive.topic_months AS tm
                    WHERE tm.topic = c.topic) END AS refs
        FROM catalog AS c
        LEFT JOIN strongest AS st ON st.topic = c.topic
        LEFT JOIN archive.page_records AS k
          ON k.topic = c.topic AND c.topic = ANY (settled_topics)
         AND k.adjacent_tags[1:3] = coalesce(st.tags, '{}')
    ),
    path AS (
        SELECT r.topic,
               -- (each topic's steps on their own: ordered in one sort of every topic's
               -- steps, with their references, the sort went to disk, 0.4 s of assembling
               -- 1,800 pages at a million posts)
               CASE WHEN r.kept IS NOT NULL THEN r.kept -> 'reading_path' ELSE
               (SELECT jsonb_agg(jsonb_build_object('role', s.role, 'title', x.ref -> 'title', 'url', x.ref -> 'url',
                                                    'published_at', x.ref -> 'published_at',
                                                    'shared_tags', to_jsonb(x.shared))
                                 ORDER BY s.ord)
                FROM (VALUES (1, 'newest'), (2, 'central'), (3, 'oldest')) AS s(ord, role)
                CROSS JOIN LATERAL (
                    SELECT r.refs -> s.role AS ref,
                           CASE WHEN s.role = 'central'
                                THEN ARRAY(SELECT t.tag FROM unnest(r.strongest) WITH ORDINALITY AS t(tag, rank)
                                           WHERE r.refs -> 'central' -> 'tags' ? t.tag ORDER BY t.rank)
                                ELSE '{}'::text[] END AS shared) AS x
                WHERE jsonb_typeof(x.ref) = 'object') END AS steps
        FROM reading AS r
    )
    SELECT c.topic, f.span, f.tag_summary,
           jsonb_build_object(
               'topic', c.topic, 'name', c.name, 'lens', c.lens, 'through_line', c.through_line,
               'advice', to_jsonb(c.advice), 'pitfalls', to_jsonb(c.pitfalls),
               'post_count', coalesce(archive.posts(f.span), 0),
               'undated_posts', coalesce(archive.undated_posts(f.span), 0),
               'first_published', archive.first_published(f.span),
               'last_published', archive.last_published(f.span),
               'posts_per_month', coalesce((SELECT jsonb_object_agg(to_char(pm.month, 'YYYY-MM'), pm.posts ORDER BY pm.month)
                                            FROM archive.posts_per_month(f.span) AS pm
                                            WHERE pm.month >= '0001-01-01'), '{}'),  -- "YYYY-MM": years AD
               'adjacent_tags', coalesce(a.tags, '[]'),
               'title_motifs', coalesce(f.motifs -> 'title_motifs', '[]'),
               'early_motifs', coalesce(f.motifs -> 'early_motifs', '[]'),
               'recent_motifs', coalesce(f.motifs -> 'recent_motifs', '[]'),
               'reading_path', coalesce(p.steps, '[]'),
               'references', coalesce(CASE WHEN r.kept IS NOT NULL THEN r.kept -> 'references'
                                           ELSE r.refs -> 'references' END, '[]'))
    FROM catalog AS c
    LEFT JOIN figures AS f ON f.topic = c.topic
    LEFT JOIN reading AS r ON r.topic = c.topic
    LEFT JOIN adjacent AS a ON a.topic = c.topic
    LEFT JOIN path AS p ON p.topic = c.topic
    $$;
COMMENT ON FUNCTION archive.page_figures(text[], text[]) IS
    'The page record (every figure, as jsonb) and tag summary of each topic, or of the given topics, assembled from topic_months and archive_months; the settled topics'' span, tag summary and motifs are read from their pages';

-- Memberships with their posts: a full refresh summarises them without joining the
-- posts again.  archive.topic_members reads this view, as its invoker (a role that
-- reads topic_members needs SELECT on it too; the changelog says so).
CREATE VIEW archive.topic_member_posts WITH (security_invoker) AS
SELECT c.topic, p.key AS post_key, p.url, p.slug, p.title, p.summary, p.published_at, p.tags, p.authors
FROM archive.public_posts AS p
CROSS JOIN LATERAL unnest(p.tags) WITH ORDINALITY AS pt(tag, n)
JOIN (SELECT t.topic, t.tags AS topic_tags, unnest(t.tags) AS tag FROM archive.topic_catalog AS t) AS c
  ON c.tag = pt.tag
-- Each membership once, without sorting them all to find the repeats (at a million
-- posts, a UNION sorted two million memberships: 5 s of a full refresh's 50): a post
-- counts at the first of its tags the topic has (a post's normalised tags are
-- distinct, and so are a topic's), and by its tags unless post_topics lists it too.
WHERE NOT EXISTS (SELECT 1 FROM unnest(p.tags) WITH ORDINALITY AS e(tag, n)
                  WHERE e.n < pt.n AND e.tag = ANY (c.topic_tags))
  AND NOT EXISTS (SELECT 1 FROM archive.post_topics AS x WHERE x.topic = c.topic AND x.post_key = p.key)
UNION ALL
SELECT pt.topic, p.key, p.url, p.slug, p.title, p.summary, p.published_at, p.tags, p.authors
FROM archive.post_topics AS pt
JOIN archive.public_posts AS p ON p.key = pt.post_key;
COMMENT ON VIEW archive.topic_member_posts IS
    'Which public posts belong to which topic, each membership once with the post''s columns as archive.public_posts has them';
COMMENT ON COLUMN archive.topic_member_posts.topic IS 'Slug of the topic';
COMMENT ON COLUMN archive.topic_member_posts.post_key IS 'Key of a public post that belongs to it';
COMMENT ON COLUMN archive.topic_member_posts.url IS 'Address of the post';
COMMENT ON COLUMN archive.topic_member_posts.slug IS 'The post''s slug';
COMMENT ON COLUMN archive.topic_member_posts.title IS 'Title of the post';
COMMENT ON COLUMN archive.topic_member_posts.summary IS 'Short summary of the post';
COMMENT ON COLUMN archive.topic_member_posts.published_at IS 'Publication time; NULL for an undated post';
COMMENT ON COLUMN archive.topic_member_posts.tags IS 'The post''s distinct normalised tags';
COMMENT ON COLUMN archive.topic_member_posts.authors IS 'Author names';

CREATE OR REPLACE VIEW archive.topic_members WITH (security_invoker) AS
SELECT m.topic, m.post_key FROM archive.topic_member_posts AS m;

-- Summaries of given memberships: what a refresh summarises again.
CREATE FUNCTION archive.topic_months_query(memberships text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
    -- The one query that summarises memberships into topic_months rows, for EXECUTE:
    -- memberships is a FROM item without an alias with the columns of
    -- archive.topic_member_posts, its memberships distinct and its posts public.
    -- (The posts come with the memberships: joined to archive.public_posts again, a full
    -- refresh hashed every post twice; at a million posts, in six alternated runs, the
    -- query took 17.4-19.1 s that way and 14.8-18.0 s this way.  Grouped by the topic in
    -- the C collation: the sort compares abbreviated keys, not strcoll, 4 s faster there;
    -- the groups are the same in every deterministic collation.  Sorted in a subquery of
    -- its own: from the view the planner guessed 40,000 groups of 292,017, hashed them
    -- and spilled, 22.8 s against 15.6 s.)
    SELECT 'SELECT m.topic, m.month, count(*)::integer,
                   archive.topic_span(m.published_at), archive.tag_counts_agg(m.tags),
                   archive.title_terms_agg(m.title),
                   archive.references_agg(m.post_key, m.title, m.url, m.summary, m.tags, m.published_at)
            FROM (SELECT m.topic COLLATE "C" AS topic, archive.month_of(m.published_at) AS month,
                         m.post_key, m.url, m.title, m.summary, m.published_at, m.tags
                  FROM ' || memberships || ' AS m
                  ORDER BY 1, 2) AS m
            GROUP BY 1, 2'
    $$;
COMMENT ON FUNCTION archive.topic_months_query(text) IS
    'The query (text, for EXECUTE) that summarises the memberships of a FROM item with the columns of archive.topic_member_posts into topic_months rows';

CREATE FUNCTION archive.summarize_memberships(topics text[], post_keys text[])
    RETURNS SETOF archive.topic_months
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        -- Summaries of the posts post_keys[i] as members of the topics topics[i], by topic
        -- and month; the pairs are distinct, and a post that is not public counts nowhere.
        -- EXECUTE plans the query with these arrays in hand.  A SQL function's body is
        -- planned without them: unnest was guessed at 10 rows, and the posts looked up
        -- one index probe at a time even for the two million memberships of a full
        -- refresh at a million posts, three times slower than hashing them.
        RETURN QUERY EXECUTE archive.topic_months_query(
                '(SELECT m.topic, p.key AS post_key, p.url, p.slug, p.title, p.summary, p.published_at, p.tags, p.authors
                  FROM unnest($1, $2) AS m(topic, post_key)
                  JOIN archive.public_posts AS p ON p.key = m.post_key)')
            USING topics, post_keys;
    END
    $$;
COMMENT ON FUNCTION archive.summarize_memberships(text[], text[]) IS
    'topic_months rows of the given distinct (topic, post) memberships: the refresh''s way of summarising only what changed';

-- Summaries of topic months, from the memberships with their posts.
CREATE OR REPLACE FUNCTION archive.summarize_topic_months(only_topics text[] DEFAULT NULL,
                                               only_months date[] DEFAULT NULL)
    RETURNS SETOF archive.topic_months
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        -- Summaries of the given (topic, month) pairs (only_topics[i], only_months[i]),
        -- of whole topics (only_months NULL), or of everything (only_topics NULL): the
        -- memberships with their posts, summarised as they are (gathered into arrays
        -- for archive.summarize_memberships, the posts were joined a second time).
        -- One filter per case: with the three cases in one filter (OR), the planner
        -- joined every membership and filtered them after.  At a million posts the
        -- largest topic took 4.9-5.6 s, now 1.9-2.0 s; three (topic, month) pairs
        -- 2.2 s, now 0.19 s.
        RETURN QUERY EXECUTE archive.topic_months_query(
                '(SELECT * FROM archive.topic_member_posts AS m'
                || CASE WHEN only_topics IS NULL THEN ''
                        WHEN only_months IS NULL THEN ' WHERE m.topic = ANY ($1)'
                        ELSE ' WHERE m.topic = ANY ($1)
                                 AND (m.topic, archive.month_of(m.published_at)) IN (SELECT * FROM unnest($1, $2))' END
                || ')')
            USING only_topics, only_months;
    END
    $$;

-- The refresh: pairs updated from the changed posts, archive months only where tags moved.
CREATE OR REPLACE FUNCTION archive.refresh(full boolean DEFAULT false)
    RETURNS TABLE (mode text, topics_recomputed integer, posts_read bigint, elapsed interval)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    -- The page queries' estimated costs pass the JIT thresholds whatever the archive's
    -- size, and compiling them takes seconds, many times what running them takes.
    SET jit = off
    -- An incremental refresh reads a few thousand posts and memberships by key from
    -- tables a serving database keeps in memory; at the default random_page_cost (4)
    -- the planner read and hashed every post instead, a second per query at a million.
    SET random_page_cost = 1.1
    AS $$
    DECLARE
        started constant timestamptz := clock_timestamp();
        settings constant jsonb := archive.settings() - 'refresh_wait' - 'max_markdown_bytes' - 'progress_after'
            -- a new version of the extension may render pages differently: rebuild them all
            || jsonb_build_object('extension_version', (SELECT e.extversion FROM pg_extension AS e WHERE e.extname = 'archive'));
        -- Progress: each phase is named in this backend's application_name, which other
        -- sessions see in archive.refresh_progress, and reported with a NOTICE once the
        -- refresh has run archive.progress_after milliseconds (-1: never). The caller's
        -- application_name is put back before returning (set_config(..., true) would
        -- otherwise last until the end of the caller's transaction; an error undoes it).
        notice_after constant interval := CASE WHEN (archive.settings() ->> 'progress_after')::integer >= 0
            THEN (archive.settings() ->> 'progress_after')::integer * interval '1 millisecond' END;
        caller_name constant text := current_setting('application_name');
        phase text;
        state archive.refresh_state;
        read_ids bigint[];
        upto bigint;
        pair_topics text[];
        pair_months date[];
        whole_topics text[];
        changed_keys text[];
        added_topics text[];
        added_keys text[];
        resummarised_topics text[];
        resummarised_keys text[];
        dirty_months date[];
        catalog_tags jsonb;
        catalog_changed boolean;
        old_archive_tags jsonb;
        archive_tags_changed boolean := false;
        affected text[];
        posts_summarized bigint := 0;
        recomputed integer;
        assembled_topics text[];
        settled_topics text[];
        processes integer;
        group_queries text[];
        group_start integer;
        group_end integer;
        caller_compression constant text := current_setting('default_toast_compression');
        recompute_all boolean := $1;  -- the parameter "full" is a keyword inside PL/pgSQL
    BEGIN
        -- One refresh at a time; archive.refresh_wait decides whether a second waits.
        PERFORM set_config('application_name', 'archive refresh 1/5: waiting for a running refresh', true);
        IF current_setting('archive.refresh_wait')::boolean THEN
            PERFORM pg_advisory_xact_lock('archive.page_records'::regclass::oid::integer, 0);
        ELSIF NOT pg_try_advisory_xact_lock('archive.page_records'::regclass::oid::integer, 0) THEN
            PERFORM set_config('application_name', caller_name, true);
            RETURN QUERY SELECT 'skipped: another refresh is running'::text, 0, 0::bigint,
                                clock_timestamp() - started;
            RETURN;
        END IF;
        phase := 'reading changes';
        PERFORM set_config('application_name', 'archive refresh 2/5: ' || phase, true);
        IF clock_timestamp() - started >= notice_after THEN
            RAISE NOTICE 'archive refresh, % s: %', round(extract(epoch FROM clock_timestamp() - started), 1), phase;
        END IF;
        PERFORM archive.ensure_source();
        SELECT * INTO state FROM archive.refresh_state;
        SELECT array_agg(c.change_id), max(c.change_id) INTO read_ids, upto FROM archive.changes AS c;
        -- The topics and their tags now, against those of the last refresh; the refresh
        -- reads the catalog from here (with no topics defined, each read of the view
        -- counts every post's tags).
        SELECT coalesce(jsonb_object_agg(t.topic, t.tags), '{}') INTO catalog_tags FROM archive.topic_catalog AS t;
        catalog_changed := catalog_tags IS DISTINCT FROM
            (SELECT coalesce(jsonb_object_agg(r.topic, r.tags), '{}') FROM archive.refresh_catalog AS r);
        recompute_all := recompute_all OR state IS NULL OR state.settings IS DISTINCT FROM settings
                OR EXISTS (SELECT 1 FROM archive.source)
                OR EXISTS (SELECT 1 FROM archive.changes AS c WHERE c.change_id = ANY (read_ids) AND c.everything);

        IF recompute_all THEN
            phase := format('summarising %s topics', (SELECT count(*) FROM jsonb_object_keys(catalog_tags)));
            PERFORM set_config('application_name', 'archive refresh 3/5: ' || phase, true);
            IF clock_timestamp() - started >= notice_after THEN
                RAISE NOTICE 'archive refresh, % s: %', round(extract(epoch FROM clock_timestamp() - started), 1), phase;
            END IF;
            -- Straight into the table: through archive.summarize_topic_months the rows
            -- (half a gigabyte at a million posts) went through two tuplestores on disk,
            -- 39 s against 27 s.
            DELETE FROM archive.topic_months;
            EXECUTE 'INSERT INTO archive.topic_months ' || archive.topic_months_query('archive.topic_member_posts');
            phase := 'summarising the archive by month';
            PERFORM set_config('application_name', 'archive refresh 4/5: ' || phase, true);
            IF clock_timestamp() - started >= notice_after THEN
                RAISE NOTICE 'archive refresh, % s: %', round(extract(epoch FROM clock_timestamp() - started), 1), phase;
            END IF;
            DELETE FROM archive.archive_months;
            INSERT INTO archive.archive_months SELECT * FROM archive.summarize_archive_months();
            affected := NULL;
        ELSE
            -- (topic, month) pairs a changed post version was in, through tags or memberships,
            -- and those of a changed membership: its topic in the month of the post now and in
            -- the months of the post's changed versions
            SELECT array_agg(p.topic), array_agg(p.month) INTO pair_topics, pair_months
            FROM (WITH read AS MATERIALIZED (
                      SELECT c.* FROM archive.changes AS c JOIN unnest(read_ids) AS r(id) ON r.id = c.change_id
                  )
                  -- (joined tag by tag: testing every change's tags against every
                  -- topic's with && took 7 s for 1% of a million posts)
                  SELECT t.topic, c.month
                  FROM read AS c
                  CROSS JOIN LATERAL unnest(c.post_tags) AS pt(tag)
                  JOIN (SELECT k.topic, jsonb_array_elements_text(k.tags) AS tag
                        FROM jsonb_each(catalog_tags) AS k(topic, tags)) AS t
                    ON t.tag = pt.tag
                  WHERE c.topic IS NULL
                  UNION
                  SELECT pt.topic, c.month
                  FROM read AS c
                  JOIN archive.post_topics AS pt ON pt.post_key = c.post_key
                  WHERE c.topic IS NULL
                  UNION
                  SELECT c.topic, archive.month_of(p.published_at)
                  FROM read AS c
                  JOIN archive.public_posts AS p ON p.key = c.post_key
                  WHERE c.topic IS NOT NULL
                  UNION
                  SELECT c.topic, v.month
                  FROM read AS c
                  JOIN read AS v ON v.post_key = c.post_key AND v.topic IS NULL
                  WHERE c.topic IS NOT NULL) AS p;
            -- whole topics: changed topics (definitions), and topics new to the catalog or
            -- whose tags changed since the last refresh (an implicit topic's slug passes to
            -- another tag when tags sharing a slug change sizes)
            SELECT array_agg(DISTINCT w.topic) INTO whole_topics
            FROM (SELECT c.topic FROM archive.changes AS c
                  WHERE c.change_id = ANY (read_ids) AND c.topic IS NOT NULL AND c.post_key IS NULL
                  UNION
                  SELECT k.topic FROM jsonb_each(catalog_tags) AS k(topic, tags)
                  WHERE NOT EXISTS (SELECT 1 FROM archive.page_records AS r WHERE r.topic = k.topic)
                     OR NOT EXISTS (SELECT 1 FROM archive.refresh_catalog AS r
                                    WHERE r.topic = k.topic AND to_jsonb(r.tags) = k.tags)) AS w;
            -- Posts whose versions or memberships changed, and their memberships now in the
            -- pairs (whole topics are summarised apart).
            SELECT array_agg(DISTINCT c.post_key) INTO changed_keys
            FROM archive.changes AS c WHERE c.change_id = ANY (read_ids) AND c.post_key IS NOT NULL;
            SELECT array_agg(m.topic), array_agg(m.post_key) INTO added_topics, added_keys
            FROM archive.topic_member_posts AS m
            WHERE m.post_key = ANY (changed_keys)
              AND (m.topic, archive.month_of(m.published_at)) IN (SELECT * FROM unnest(pair_topics, pair_months))
              AND NOT (m.topic = ANY (coalesce(whole_topics, '{}')));
            -- The archive's tags changed in the months of a post's versions unless every logged
            -- version of it has its tags and month now, and an even number were logged: a post
            -- public before and after logs an old and a new version per statement (one that
            -- turned public, or stopped being, logs one), so it was public before the first.
            SELECT array_agg(DISTINCT m.month) INTO dirty_months
            FROM (SELECT array_agg(v.month) AS months
                  FROM archive.changes AS v
                  LEFT JOIN archive.public_posts AS p ON p.key = v.post_key
                  WHERE v.change_id = ANY (read_ids) AND v.topic IS NULL AND v.post_key IS NOT NULL
                  GROUP BY v.post_key
                  HAVING count(*) % 2 = 1
                      OR bool_or(p.key IS NULL OR v.month IS DISTINCT FROM archive.month_of(p.published_at)
                                 OR v.post_tags IS DISTINCT FROM p.tags)) AS u
            CROSS JOIN LATERAL unnest(u.months) AS m(month);

            phase := format('summarising %s topic-months, %s topics',
                            coalesce(cardinality(pair_topics), 0), coalesce(cardinality(whole_topics), 0));
            -- (application_name holds 63 bytes; a longer one is cut with a NOTICE)
            PERFORM set_config('application_name', left('archive refresh 3/5: ' || phase, 63), true);
            IF clock_timestamp() - started >= notice_after THEN
                RAISE NOTICE 'archive refresh, % s: %', round(extract(epoch FROM clock_timestamp() - started), 1), phase;
            END IF;
            -- (topics gone from the catalog only when it changed: finding them reads every
            -- topic month, 0.3 s at a million posts, where the whole topics are looked up)
            IF catalog_changed THEN
                DELETE FROM archive.topic_months AS tm
                WHERE tm.topic = ANY (whole_topics) OR NOT catalog_tags ? tm.topic;
            ELSE
                DELETE FROM archive.topic_months AS tm WHERE tm.topic = ANY (whole_topics);
            END IF;
            -- A pair's row is updated from the changed posts alone: the posts it listed that
            -- did not change are members as they were (a topic whose tags changed is summarised
            -- whole), so the new row is the stored one less the changed posts' old versions
            -- (their references in it) plus the changed posts that are members now.  Where a
            -- summary pruned, that is not exact, and the pair's members are summarised again.
            WITH pairs AS (
                SELECT DISTINCT x.topic, x.month
                FROM unnest(pair_topics, pair_months) AS x(topic, month)
                WHERE NOT (x.topic = ANY (coalesce(whole_topics, '{}')))
            ),
            old AS (
                DELETE FROM archive.topic_months AS tm USING pairs AS x
                WHERE tm.topic = x.topic AND tm.month = x.month
                RETURNING tm.*
            ),
            -- references_merge gives the new list (kept and added posts), its count and span,
            -- and the stored references it dropped: the changed posts' old versions, whose
            -- summaries come out of the stored ones
            merged AS (
                SELECT coalesce(o.topic, a.topic) AS topic, coalesce(o.month, a.month) AS month,
                       r.posts, r.span, r.merged AS refs,
                       archive.termcounts_union(k.tags, a.tags) AS tags,
                       archive.termcounts_union(k.titles, a.titles) AS titles,
                       o.topic IS NULL OR (k.tags IS NOT NULL AND k.titles IS NOT NULL) AS exact
                FROM old AS o
                FULL JOIN archive.summarize_memberships(added_topics, added_keys) AS a
                  ON a.topic = o.topic AND a.month = o.month
                CROSS JOIN LATERAL archive.references_merge(o.refs, changed_keys, a.refs) AS r
                CROSS JOIN LATERAL (
                    SELECT CASE WHEN d.tags IS NULL THEN o.tags ELSE archive.termcounts_subtract(o.tags, d.tags) END AS tags,
                           CASE WHEN d.titles IS NULL THEN o.titles ELSE archive.termcounts_subtract(o.titles, d.titles) END AS titles
                    FROM (SELECT archive.tag_counts_agg(ARRAY(SELECT jsonb_array_elements_text(e.ref -> 'tags'))) AS tags,
                                 archive.title_terms_agg(e.ref ->> 'title') AS titles
                          FROM jsonb_array_elements(r.dropped) AS e(ref)) AS d
                    OFFSET 0  -- (each subtraction once: k's columns are read twice)
                ) AS k
            ),
            updated AS (
                INSERT INTO archive.topic_months
                SELECT m.topic, m.month, m.posts, m.span, m.tags, m.titles, m.refs
                FROM merged AS m WHERE m.exact AND m.posts > 0
                RETURNING topic, month
            ),
            -- The pairs left unwritten: no post is left, or the old posts could not be taken
            -- out exactly.  Their members now are summarised again: the stored posts that did
            -- not change, and the changed posts that are members now.  (Read from old and the
            -- memberships, not from merged: read twice, merged was kept whole, every month's
            -- new reference list, and spilled to disk, 12% of this step at a million posts.)
            unwritten AS (
                SELECT x.topic, x.month FROM pairs AS x
                WHERE NOT EXISTS (SELECT 1 FROM updated AS u WHERE u.topic = x.topic AND u.month = x.month)
            )
            SELECT array_agg(k.topic), array_agg(k.key) INTO resummarised_topics, resummarised_keys
            FROM (SELECT o.topic, e.ref ->> 'key' AS key
                  FROM unwritten AS w
                  JOIN old AS o ON o.topic = w.topic AND o.month = w.month
                  CROSS JOIN LATERAL jsonb_array_elements(o.refs) AS e(ref)
                  WHERE NOT (e.ref ->> 'key' = ANY (changed_keys))
                  UNION ALL
                  SELECT a.topic, a.key
                  FROM unnest(added_topics, added_keys) AS a(topic, key)
                  JOIN archive.public_posts AS p ON p.key = a.key
                  JOIN unwritten AS w ON w.topic = a.topic AND w.month = archive.month_of(p.published_at)) AS k;
            IF resummarised_topics IS NOT NULL THEN
                INSERT INTO archive.topic_months
                SELECT * FROM archive.summarize_memberships(resummarised_topics, resummarised_keys);
            END IF;
            IF whole_topics IS NOT NULL THEN
                EXECUTE 'INSERT INTO archive.topic_months '
                        || archive.topic_months_query('(SELECT * FROM archive.topic_member_posts AS m
                                                        WHERE m.topic = ANY ($1))')
                    USING whole_topics;
            END IF;
            phase := format('summarising %s archive months', coalesce(cardinality(dirty_months), 0));
            PERFORM set_config('application_name', 'archive refresh 4/5: ' || phase, true);
            IF clock_timestamp() - started >= notice_after THEN
                RAISE NOTICE 'archive refresh, % s: %', round(extract(epoch FROM clock_timestamp() - started), 1), phase;
            END IF;
            IF dirty_months IS NOT NULL THEN
                old_archive_tags := (SELECT coalesce(jsonb_object_agg(am.month, am.tags::text), '{}')
                                     FROM archive.archive_months AS am WHERE am.month = ANY (dirty_months));
                DELETE FROM archive.archive_months WHERE month = ANY (dirty_months);
                INSERT INTO archive.archive_months SELECT * FROM archive.summarize_archive_months(dirty_months);
                archive_tags_changed := old_archive_tags IS DISTINCT FROM
                    (SELECT coalesce(jsonb_object_agg(am.month, am.tags::text), '{}')
                     FROM archive.archive_months AS am WHERE am.month = ANY (dirty_months));
            END IF;
            -- lift depends on the whole archive's tags, and with archive.topic_url set an
            -- adjacent thread links to the topic that carries its tag: when either changed,
            -- every page is reassembled (changed titles alone touch only their topics)
            affected := CASE WHEN archive_tags_changed
                               OR (catalog_changed AND current_setting('archive.topic_url', true) <> '')
                             THEN NULL
                             ELSE coalesce(pair_topics, '{}') || coalesce(whole_topics, '{}') END;
        END IF;
        -- the posts read: those of the archive months summarised, and in other months those
        -- summarised into topic months (changed posts, pairs summarised again, whole topics)
        posts_summarized := (SELECT coalesce(sum(archive.rows(am.tags)), 0) FROM archive.archive_months AS am
                             WHERE recompute_all OR am.month = ANY (dirty_months))
            + CASE WHEN recompute_all THEN 0
                   ELSE (SELECT count(DISTINCT k.key)
                         FROM (SELECT p.key
                               FROM archive.public_posts AS p
                               WHERE p.key = ANY (added_keys || resummarised_keys)
                                 AND NOT (archive.month_of(p.published_at) = ANY (coalesce(dirty_months, '{}')))
                               UNION ALL
                               SELECT r.ref ->> 'key'
                               FROM archive.topic_months AS tm
                               CROSS JOIN LATERAL jsonb_array_elements(tm.refs) AS r(ref)
                               WHERE tm.topic = ANY (whole_topics)
                                 AND NOT (tm.month = ANY (coalesce(dirty_months, '{}')))) AS k) END;
        phase := format('assembling %s pages', CASE WHEN affected IS NULL
                                                    THEN (SELECT count(*) FROM jsonb_object_keys(catalog_tags))
                                                    ELSE (SELECT count(DISTINCT a) FROM unnest(affected) AS a) END);
        PERFORM set_config('application_name', 'archive refresh 5/5: ' || phase, true);
        IF clock_timestamp() - started >= notice_after THEN
            RAISE NOTICE 'archive refresh, % s: %', round(extract(epoch FROM clock_timestamp() - started), 1), phase;
        END IF;

        -- The pages are assembled and rendered in parallel: the topics, dealt largest first
        -- into one group per process (this backend and max_parallel_workers_per_gather
        -- workers, a process for ten pages at least), are one archive.page_figures call
        -- each, run side by side under a Parallel Append.  A statement that writes cannot
        -- run in parallel, but CREATE TABLE AS can: the pages go through a temporary
        -- table, compressed with lz4 where the server has it (a value keeps the compression
        -- it was first written with).  (Figures and rendering of 2,000 pages at a million
        -- posts: 7.8 s in one call, 4.7 s in two at once.)  A full refresh renders every
        -- page again (the renderer may have changed) but rewrites only the pages whose
        -- record, rendering or tag summary differs; an incremental one renders only the
        -- pages whose record or tag summary changed.
        SELECT coalesce(array_agg(k.topic ORDER BY coalesce(r.post_count, 0) DESC, k.topic), '{}')
        INTO assembled_topics
        FROM (SELECT DISTINCT a.topic
              FROM unnest(coalesce(affected, ARRAY(SELECT jsonb_object_keys(catalog_tags)))) AS a(topic)
              WHERE catalog_tags ? a.topic) AS k
        LEFT JOIN archive.page_records AS r ON r.topic = k.topic;
        -- A page whose topic's months did not change (the archive's tags did, or the topic
        -- pages it links to) takes their span, tag union and motifs from its stored page:
        -- merging every month of 2,000 topics took twice the time of the rest of their pages.
        settled_topics := CASE WHEN recompute_all OR affected IS NOT NULL THEN '{}'
                               ELSE ARRAY(SELECT t.topic FROM unnest(assembled_topics) AS t(topic)
                                          WHERE NOT (t.topic = ANY (coalesce(pair_topics, '{}') || coalesce(whole_topics, '{}')))) END;
        processes := greatest(1, least(current_setting('max_parallel_workers_per_gather')::integer + 1,
                                       ceil(cardinality(assembled_topics) / 10.0)::integer));
        -- group g: the topics g + 1, g + 1 + processes, ... of that order, ceil((n - g) / processes)
        assembled_topics := ARRAY(SELECT t.topic FROM unnest(assembled_topics) WITH ORDINALITY AS t(topic, n)
                                  ORDER BY (t.n - 1) % processes, t.n);
        group_queries := '{}';
        group_start := 1;
        FOR g IN 0 .. processes - 1 LOOP
            group_end := group_start + (cardinality(assembled_topics) - g + processes - 1) / processes - 1;
            group_queries := group_queries || format(
                'SELECT f.topic, f.span, f.tags, f.record, r.prose, r.markdown, r.html
                 FROM archive.page_figures($1[%s:%s], $3) AS f
                 LEFT JOIN archive.page_records AS old ON old.topic = f.topic
                 CROSS JOIN LATERAL archive.page_render(f.record) AS r
                 WHERE $2 OR old.record IS DISTINCT FROM f.record
                    OR archive.termcounts_send(old.tags) IS DISTINCT FROM archive.termcounts_send(f.tags)',
                group_start, group_end);
            group_start := group_end + 1;
        END LOOP;
        BEGIN
            PERFORM set_config('default_toast_compression', 'lz4', true);
        EXCEPTION WHEN invalid_parameter_value THEN
            NULL;  -- a server built without lz4 keeps its default
        END;
        EXECUTE 'CREATE TEMPORARY TABLE archive_assembled_pages ON COMMIT DROP AS '
                || array_to_string(group_queries, ' UNION ALL ')
            USING assembled_topics, recompute_all, settled_topics;
        PERFORM set_config('default_toast_compression', caller_compression, true);
        WITH upserted AS (
            INSERT INTO archive.page_records AS p
            SELECT c.topic, c.record ->> 'name', (c.record ->> 'post_count')::bigint,
                   (c.record ->> 'first_published')::timestamptz,
                   (c.record ->> 'last_published')::timestamptz,
                   c.span,
                   ARRAY(SELECT e ->> 'term' FROM jsonb_array_elements(c.record -> 'adjacent_tags') AS e),
                   c.record -> 'adjacent_tags',
                   ARRAY(SELECT e ->> 'term' FROM jsonb_array_elements(c.record -> 'title_motifs') AS e),
                   c.record -> 'title_motifs',
                   ARRAY(SELECT e ->> 'term' FROM jsonb_array_elements(c.record -> 'early_motifs') AS e),
                   ARRAY(SELECT e ->> 'term' FROM jsonb_array_elements(c.record -> 'recent_motifs') AS e),
                   c.prose -> 'reading_path',
                   c.record -> 'references',
                   c.prose ->> 'definition',
                   ARRAY(SELECT jsonb_array_elements_text(c.prose -> 'claims')),
                   ARRAY(SELECT jsonb_array_elements_text(c.prose -> 'advice')),
                   ARRAY(SELECT jsonb_array_elements_text(c.prose -> 'pitfalls')),
                   c.record,
                   c.markdown,
                   c.html,
                   started,
                   coalesce(upto, state.last_change_id, 0),
                   c.tags
            FROM pg_temp.archive_assembled_pages AS c
            LEFT JOIN archive.page_records AS old ON old.topic = c.topic
            WHERE old.record IS DISTINCT FROM c.record OR old.markdown IS DISTINCT FROM c.markdown
               OR old.html IS DISTINCT FROM c.html
               OR archive.termcounts_send(old.tags) IS DISTINCT FROM archive.termcounts_send(c.tags)
            ON CONFLICT (topic) DO UPDATE SET
                name = excluded.name, post_count = excluded.post_count,
                first_published = excluded.first_published, last_published = excluded.last_published,
                span = excluded.span, adjacent_tags = excluded.adjacent_tags,
                adjacent_scores = excluded.adjacent_scores, title_motifs = excluded.title_motifs,
                motif_scores = excluded.motif_scores, early_motifs = excluded.early_motifs,
                recent_motifs = excluded.recent_motifs, reading_path = excluded.reading_path,
                "references" = excluded."references", definition = excluded.definition,
                claims = excluded.claims, advice = excluded.advice, pitfalls = excluded.pitfalls,
                record = excluded.record, markdown = excluded.markdown, html = excluded.html,
                refreshed_at = excluded.refreshed_at, change_id = excluded.change_id, tags = excluded.tags
            RETURNING 1
        ),
        removed AS (
            DELETE FROM archive.page_records AS p
            WHERE NOT catalog_tags ? p.topic
        )
        SELECT count(*) INTO recomputed FROM upserted;
        DROP TABLE pg_temp.archive_assembled_pages;  -- (a failed refresh's goes with its rollback)

        DELETE FROM archive.changes AS c WHERE c.change_id = ANY (read_ids);
        IF catalog_changed THEN
            DELETE FROM archive.refresh_catalog;
            INSERT INTO archive.refresh_catalog (topic, tags)
            SELECT k.topic, ARRAY(SELECT jsonb_array_elements_text(k.tags)) FROM jsonb_each(catalog_tags) AS k(topic, tags);
        END IF;
        INSERT INTO archive.refresh_state AS s (last_change_id, settings, refreshed_at, mode)
        VALUES (coalesce(upto, state.last_change_id, 0), settings, started,
                CASE WHEN recompute_all THEN 'full' ELSE 'incremental' END)
        ON CONFLICT (singleton) DO UPDATE
            SET last_change_id = excluded.last_change_id, settings = excluded.settings,
                refreshed_at = excluded.refreshed_at, mode = excluded.mode;
        IF clock_timestamp() - started >= notice_after THEN
            RAISE NOTICE 'archive refresh, % s: done, % pages rewritten from % posts',
                round(extract(epoch FROM clock_timestamp() - started), 1), recomputed, posts_summarized;
        END IF;
        PERFORM set_config('application_name', caller_name, true);
        RETURN QUERY SELECT CASE WHEN recompute_all THEN 'full' ELSE 'incremental' END, recomputed,
                            posts_summarized, clock_timestamp() - started;
    END
    $$;

-- Every refresh writes the summaries and pages, and every page view reads one:
-- lz4 compresses several times faster than the default pglz and decompresses
-- faster too.  A server built without lz4 keeps its default.
DO $$
BEGIN
    ALTER TABLE archive.topic_months
        ALTER COLUMN tags SET COMPRESSION lz4, ALTER COLUMN titles SET COMPRESSION lz4,
        ALTER COLUMN refs SET COMPRESSION lz4;
    ALTER TABLE archive.archive_months ALTER COLUMN tags SET COMPRESSION lz4;
    ALTER TABLE archive.page_records
        ALTER COLUMN "references" SET COMPRESSION lz4, ALTER COLUMN record SET COMPRESSION lz4,
        ALTER COLUMN markdown SET COMPRESSION lz4, ALTER COLUMN html SET COMPRESSION lz4,
        ALTER COLUMN tags SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END
$$;
