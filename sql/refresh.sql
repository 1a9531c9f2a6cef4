--
-- refresh: keeping the topic pages fresh on the sample archive.  The change
-- log (archive.changes, filled by statement triggers), archive.refresh() in
-- its incremental and full modes, archive.refresh_status, a refresh that
-- fails half-way, and archive.schedule_refresh without pg_cron.
--
-- After every kind of change the incremental pages (and the topic_months
-- summaries behind them) are compared with a full recompute: nothing may
-- differ.  Times (elapsed, refreshed_at, staleness) are kept out of the
-- expected output.

-- A fresh install: earlier suites share this database and may have left posts,
-- topics, pages or objects built on the extension's types.
SET client_min_messages = warning;
DROP EXTENSION archive CASCADE;
CREATE EXTENSION archive;
RESET client_min_messages;

-- pg_regress runs psql from the repo root.
\set lines `cat sample/posts.jsonl`
\set topic_lines `cat sample/topics.jsonl`

-- One incremental (or full, when logged so) refresh: its mode, pages rewritten,
-- posts read, and which topics' pages it wrote (their change_id is the last
-- change it applied, their refreshed_at its start).
CREATE FUNCTION pg_temp.refresh_step(full boolean DEFAULT false)
    RETURNS TABLE (mode text, rewritten integer, posts_read bigint, pages_written text)
    LANGUAGE plpgsql AS $$
    DECLARE
        r record;
    BEGIN
        SELECT * INTO r FROM archive.refresh($1);
        RETURN QUERY
        SELECT r.mode, r.topics_recomputed, r.posts_read,
               (SELECT string_agg(p.topic, ', ' ORDER BY p.topic)
                FROM archive.page_records AS p, archive.refresh_state AS s
                WHERE p.refreshed_at = s.refreshed_at AND p.change_id = s.last_change_id);
    END $$;

-- Pages and summaries the incremental refresh left that a full recompute does
-- not give (side 'incremental'), and the other way round (side 'full').  The
-- full refresh rewrites only the pages that differ, so it must rewrite none.
CREATE FUNCTION pg_temp.differs_from_full()
    RETURNS TABLE (side text, topic text, what text)
    LANGUAGE plpgsql AS $$
    DECLARE
        rewritten integer;
    BEGIN
        CREATE TEMP TABLE incremental_pages AS
        SELECT p.topic, p.name, p.post_count, p.record, p.markdown, p.html, p.definition, p.claims,
               p.reading_path, p."references", p.tags::text AS tags
        FROM archive.page_records AS p;
        CREATE TEMP TABLE incremental_months AS
        SELECT tm.topic, tm.month, tm.posts, tm.span::text AS span, tm.tags::text AS tags,
               tm.titles::text AS titles, tm.refs
        FROM archive.topic_months AS tm;
        CREATE TEMP TABLE incremental_archive_months AS
        SELECT am.month, am.tags::text AS tags FROM archive.archive_months AS am;

        SELECT r.topics_recomputed INTO rewritten FROM archive.refresh(full => true) AS r;
        IF rewritten <> 0 THEN
            RETURN QUERY SELECT 'full'::text, NULL::text, format('the full refresh rewrote %s pages', rewritten);
        END IF;

        RETURN QUERY
        WITH full_pages AS (
            SELECT p.topic, p.name, p.post_count, p.record, p.markdown, p.html, p.definition, p.claims,
                   p.reading_path, p."references", p.tags::text AS tags
            FROM archive.page_records AS p
        ),
        full_months AS (
            SELECT tm.topic, tm.month, tm.posts, tm.span::text AS span, tm.tags::text AS tags,
                   tm.titles::text AS titles, tm.refs
            FROM archive.topic_months AS tm
        ),
        full_archive_months AS (
            SELECT am.month, am.tags::text AS tags FROM archive.archive_months AS am
        )
        SELECT 'incremental', d.topic, 'page' FROM (TABLE incremental_pages EXCEPT TABLE full_pages) AS d
        UNION ALL
        SELECT 'full', d.topic, 'page' FROM (TABLE full_pages EXCEPT TABLE incremental_pages) AS d
        UNION ALL
        SELECT 'incremental', d.topic, 'topic_months ' || d.month
        FROM (TABLE incremental_months EXCEPT TABLE full_months) AS d
        UNION ALL
        SELECT 'full', d.topic, 'topic_months ' || d.month
        FROM (TABLE full_months EXCEPT TABLE incremental_months) AS d
        UNION ALL
        SELECT 'incremental', NULL, 'archive_months ' || d.month
        FROM (TABLE incremental_archive_months EXCEPT TABLE full_archive_months) AS d
        UNION ALL
        SELECT 'full', NULL, 'archive_months ' || d.month
        FROM (TABLE full_archive_months EXCEPT TABLE incremental_archive_months) AS d
        ORDER BY 1, 2, 3;

        DROP TABLE incremental_pages, incremental_months, incremental_archive_months;
    END $$;

-- Pending changes and the last refresh, without times.
CREATE VIEW pg_temp.status AS
SELECT last_mode, pending_changes, oldest_pending IS NOT NULL AS has_oldest,
       staleness > interval '0' AS stale, pages
FROM archive.refresh_status;

-- The pages, briefly.
CREATE VIEW pg_temp.pages AS
SELECT topic, name, post_count, refreshed_through_change
FROM archive.topic_pages ORDER BY topic;

-- ---------------------------------------------------------------------------
-- The objects
-- ---------------------------------------------------------------------------

SELECT p.oid::regprocedure AS function, p.provolatile, p.prosecdef,
       obj_description(p.oid, 'pg_proc') IS NOT NULL AS has_comment
FROM pg_proc AS p
WHERE p.pronamespace = 'archive'::regnamespace
  AND p.proname IN ('refresh', 'schedule_refresh', 'unschedule_refresh', 'purge_refresh_runs', 'settings',
                    'log_post_changes', 'log_topic_changes', 'log_everything_changed')
ORDER BY p.oid::regprocedure::text;

SELECT c.relname, c.relkind, obj_description(c.oid, 'pg_class') IS NOT NULL AS has_comment
FROM pg_class AS c
WHERE c.relnamespace = 'archive'::regnamespace
  AND c.relname IN ('changes', 'refresh_state', 'refresh_catalog', 'refresh_status', 'topic_months',
                    'archive_months', 'page_records', 'topic_pages')
ORDER BY 1;

-- Statement triggers on every table the pages are made from.
SELECT tgrelid::regclass AS "table", tgname,
       pg_get_triggerdef(oid) ~ 'FOR EACH STATEMENT' AS per_statement
FROM pg_trigger
WHERE tgrelid IN ('archive.posts'::regclass, 'archive.topics'::regclass,
                  'archive.post_topics'::regclass, 'archive.filler_words'::regclass)
  AND NOT tgisinternal
ORDER BY tgrelid::regclass::text, tgname;

SHOW archive.refresh_wait;
SELECT archive.settings() ? 'refresh_wait' AS lists_refresh_wait;

-- ---------------------------------------------------------------------------
-- Before any refresh
-- ---------------------------------------------------------------------------

SELECT * FROM pg_temp.status;
SELECT count(*) AS pages FROM archive.page_records;

-- Loading logs every public post version (41 of the 44 are public) and every topic.
SELECT * FROM archive.load_jsonl(:'lines') ORDER BY 1;
SELECT * FROM archive.load_topics_jsonl(:'topic_lines');
SELECT count(*) FILTER (WHERE post_key IS NOT NULL) AS post_versions,
       count(*) FILTER (WHERE topic IS NOT NULL) AS topics,
       count(*) FILTER (WHERE everything) AS everything
FROM archive.changes;
SELECT * FROM pg_temp.status;

-- ---------------------------------------------------------------------------
-- The first refresh is full; one with no changes is incremental and writes nothing
-- ---------------------------------------------------------------------------

SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.status;
SELECT * FROM pg_temp.pages;
SELECT last_change_id = (SELECT max(change_id) FROM archive.page_records) AS through_last_change
FROM archive.refresh_state;

SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.status;
SELECT * FROM pg_temp.differs_from_full();

-- Loading the same file again changes nothing and logs nothing.
SELECT * FROM archive.load_jsonl(:'lines') ORDER BY 1;
SELECT * FROM pg_temp.status;

-- ---------------------------------------------------------------------------
-- An UPDATE of one post's title rewrites only the pages of its topics
-- ---------------------------------------------------------------------------

CREATE TEMP TABLE before_pages AS SELECT topic, change_id FROM archive.page_records;
UPDATE archive.posts SET title = 'Flaky Tests Are Everybody''s Problem'
WHERE slug = 'flaky-tests-are-a-team-problem';
-- the old and the new public version
SELECT post_key ~ 'flaky' AS the_post, post_tags, month FROM archive.changes ORDER BY change_id;
SELECT * FROM pg_temp.status;
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.status;
SELECT p.topic, p.refreshed_through_change > b.change_id AS advanced,
       p.refreshed_through_change = (SELECT last_change_id FROM archive.refresh_state) AS through_last
FROM archive.topic_pages AS p JOIN before_pages AS b USING (topic) ORDER BY 1;
SELECT topic, strpos(markdown, 'Everybody''s Problem') > 0 AS new_title,
       strpos(markdown, 'A Team Problem') > 0 AS old_title
FROM archive.page_records ORDER BY 1;
SELECT * FROM pg_temp.differs_from_full();

-- ---------------------------------------------------------------------------
-- INSERT, DELETE
-- ---------------------------------------------------------------------------

-- A new post changes the whole archive's tag shares, so the adjacent threads
-- (ranked by lift) of every page are reassembled: pages whose record changed
-- are rewritten, others are left alone.
INSERT INTO archive.posts (key, url, title, summary, published_at, tags)
VALUES ('https://fieldnotes.example/posts/screen-reader-testing-in-ci/',
        'https://fieldnotes.example/posts/screen-reader-testing-in-ci/',
        'Screen Reader Testing in CI', 'We run a screen reader against every pull request.',
        '2025-04-01', ARRAY['Accessibility', 'testing']);
SELECT * FROM pg_temp.status;
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.pages;
SELECT * FROM pg_temp.differs_from_full();

DELETE FROM archive.posts WHERE slug = 'on-call-without-the-dread';
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.pages;
SELECT * FROM pg_temp.differs_from_full();

-- A statement touching no public post logs nothing.
DELETE FROM archive.posts WHERE key = 'no such post';
UPDATE archive.posts SET summary = 'still a draft' WHERE visibility = 'draft';
SELECT * FROM pg_temp.status;
SELECT * FROM pg_temp.refresh_step();

-- ---------------------------------------------------------------------------
-- A tag change moves a post from one topic to another; the topic left with no
-- posts keeps an (empty) page
-- ---------------------------------------------------------------------------

UPDATE archive.posts SET tags = ARRAY['accessibility', 'onboarding']
WHERE slug = 'hiring-without-whiteboards';
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.pages;
SELECT topic, post_count, "references", reading_path, title_motifs FROM archive.topic_pages WHERE topic = 'hiring';
SELECT * FROM pg_temp.differs_from_full();

-- A new month and a date moved to another month.
UPDATE archive.posts SET published_at = '2011-01-15' WHERE slug = 'keyboard-navigation-is-a-feature';
SELECT * FROM pg_temp.refresh_step();
SELECT topic, first_published FROM archive.topic_pages WHERE topic = 'accessibility';
SELECT * FROM pg_temp.differs_from_full();

-- ---------------------------------------------------------------------------
-- public -> draft: its trace is gone everywhere; draft -> public brings it back
-- ---------------------------------------------------------------------------

UPDATE archive.posts SET visibility = 'draft' WHERE slug = 'testing-the-test-suite';
SELECT * FROM pg_temp.refresh_step();
SELECT (SELECT count(*) FROM archive.page_records
        WHERE record::text ~ 'testing-the-test-suite' OR markdown ~ 'testing-the-test-suite'
           OR html ~ 'testing-the-test-suite' OR "references"::text ~ 'Testing the Test Suite'
           OR reading_path::text ~ 'testing-the-test-suite') AS pages_with_it,
       (SELECT count(*) FROM archive.topic_months WHERE refs::text ~ 'testing-the-test-suite') AS months_with_it,
       (SELECT post_count FROM archive.topic_pages WHERE topic = 'testing') AS testing_posts;
SELECT * FROM pg_temp.differs_from_full();

UPDATE archive.posts SET visibility = 'public' WHERE slug = 'testing-the-test-suite';
SELECT * FROM pg_temp.refresh_step();
SELECT count(*) AS pages_with_it FROM archive.page_records WHERE markdown ~ 'testing-the-test-suite';
SELECT * FROM pg_temp.differs_from_full();

-- A private post made public, then deleted while public.
UPDATE archive.posts SET visibility = 'public' WHERE slug = 'incident-review-the-replica-lag-weekend';
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.pages;
SELECT * FROM pg_temp.differs_from_full();
DELETE FROM archive.posts WHERE slug = 'incident-review-the-replica-lag-weekend';
SELECT * FROM pg_temp.refresh_step();
SELECT count(*) AS pages_with_it FROM archive.page_records WHERE record::text ~ 'replica-lag';
SELECT * FROM pg_temp.differs_from_full();

-- ---------------------------------------------------------------------------
-- Explicit memberships (post_topics) and the topics' editorial text
-- ---------------------------------------------------------------------------

INSERT INTO archive.post_topics (topic, post_key)
SELECT 'hiring', key FROM archive.posts WHERE slug IN ('an-onboarding-doc-that-ages-well', 'remote-work-across-five-time-zones');
SELECT topic, post_key IS NULL AS no_post FROM archive.changes ORDER BY change_id;
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.pages;
SELECT * FROM pg_temp.differs_from_full();

DELETE FROM archive.post_topics WHERE post_key ~ 'remote-work';
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.differs_from_full();

-- A member post's title changes: the pages of its membership change too.
UPDATE archive.posts SET title = 'An Onboarding Doc That Ages Gracefully' WHERE slug = 'an-onboarding-doc-that-ages-well';
SELECT * FROM pg_temp.refresh_step();
SELECT strpos(markdown, 'Ages Gracefully') > 0 AS new_title FROM archive.page_records WHERE topic = 'hiring';
SELECT * FROM pg_temp.differs_from_full();

UPDATE archive.topics SET lens = 'people before puzzles',
                          advice = ARRAY['Pay candidates for the time a take-home exercise costs them.']
WHERE slug = 'hiring';
SELECT * FROM pg_temp.refresh_step();
SELECT definition, advice FROM archive.topic_pages WHERE topic = 'hiring';
SELECT * FROM pg_temp.differs_from_full();

-- A topic's tags change, a topic is added and one is removed.
UPDATE archive.topics SET tags = ARRAY['observability', 'incident-response', 'performance'] WHERE slug = 'observability';
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.differs_from_full();
INSERT INTO archive.topics (slug, name, tags) VALUES ('writing', 'Writing', ARRAY['writing']);
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.pages;
SELECT * FROM pg_temp.differs_from_full();
-- (a removed topic's page goes; no page is rewritten)
DELETE FROM archive.topics WHERE slug = 'writing';
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.pages;
SELECT * FROM pg_temp.differs_from_full();

-- A topic renamed (its slug changes; memberships follow by cascade).
UPDATE archive.topics SET slug = 'hiring-and-onboarding', name = 'Hiring & Onboarding' WHERE slug = 'hiring';
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.pages;
SELECT * FROM pg_temp.differs_from_full();

-- ---------------------------------------------------------------------------
-- A topic month is updated from its changed posts alone, unless a summary pruned
-- ---------------------------------------------------------------------------

-- A title edit takes the old title's words out of its topic months' summaries
-- and puts the new ones in: one post read.
UPDATE archive.posts SET title = 'Flaky Tests Are Still Everybody''s Problem'
WHERE slug = 'flaky-tests-are-a-team-problem';
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.differs_from_full();
-- At the smallest capacity (16: at most 32 terms kept) twelve posts of four
-- words of their own prune their month's title summary.  The words of an old
-- title cannot be taken out of it exactly, so a title edit there has the
-- month's twelve posts summarised again.  What a summary that prunes keeps
-- depends on the order it reads its posts in, which need not be a full
-- refresh's: the month's summary may differ from a full refresh's (within its
-- error bound), the pages may not.
SET archive.summary_capacity = 16;
INSERT INTO archive.posts (key, url, title, published_at, tags)
SELECT 'pruned-' || i, '/posts/pruned-' || i, format('Alpha%1$s Bravo%1$s Charlie%1$s Delta%1$s', i),
       timestamptz '2023-03-01 00:00+00' + i * interval '1 hour', '{testing}'
FROM generate_series(1, 12) AS i;
SELECT mode, rewritten FROM pg_temp.refresh_step();
SELECT topic, posts, archive.max_error(titles) > 0 AS pruned
FROM archive.topic_months WHERE month = '2023-03-01' ORDER BY topic;
UPDATE archive.posts SET title = 'Alpha1 Replaced Entirely' WHERE key = 'pruned-1';
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.differs_from_full() WHERE what NOT LIKE 'topic_months %';
-- The whole archive's tag summary, which lift divides by, is the union of its
-- months'.  They are summarised at the largest capacity, whatever
-- archive.summary_capacity says, so that the union stays exact: here past the 32
-- tags a summary at capacity 16 keeps.  (At that capacity the union pruned, and
-- every lift was measured against counts too low.  It is merged in month order
-- all the same: past 2,097,152 tags it prunes, and then the table's order, which
-- an incremental refresh changes, must not decide what it keeps.)
INSERT INTO archive.posts (key, url, title, published_at, tags)
SELECT 'spread-' || i, '/posts/spread-' || i, 'Spread ' || i,
       timestamptz '2020-01-01 00:00+00' + (i % 12) * interval '1 month',
       ARRAY['testing', 'spread-' || (i % 40), 'wide-' || (i % 7)]
FROM generate_series(1, 240) AS i;
SELECT mode, rewritten FROM pg_temp.refresh_step();
SELECT count(*) AS months, bool_and(archive.max_error(tags) = 0) AS each_exact,
       archive.max_error(archive.termcounts_union_agg(tags ORDER BY month)) = 0 AS union_exact,
       (SELECT count(*) FROM archive.terms(archive.termcounts_union_agg(tags))) AS tags
FROM archive.archive_months;
-- Every page's adjacent tags against plain SQL's: tags with a lift above 1
-- (share in the topic / share in the archive), not the topic's own, ranked by
-- posts * ln(lift), then posts, then bytes.  A page merges its months at the
-- largest capacity too, so its figures are exact while its months are (each
-- one's 28 tags or fewer here).
WITH public_tags AS (
    SELECT t.tag, count(*) AS posts
    FROM archive.public_posts AS p, unnest(archive.normalize_tags(p.tags)) AS t(tag)
    GROUP BY t.tag
),
topic_tags AS (
    SELECT m.topic, t.tag, count(*) AS posts
    FROM archive.topic_members AS m
    JOIN archive.public_posts AS p ON p.key = m.post_key
    CROSS JOIN LATERAL unnest(archive.normalize_tags(p.tags)) AS t(tag)
    GROUP BY m.topic, t.tag
),
lifts AS (
    SELECT tt.topic, tt.tag, tt.posts,
           (tt.posts::float8 / r.post_count)
           / (x.posts::float8 / (SELECT count(*) FROM archive.public_posts)) AS lift
    FROM topic_tags AS tt
    JOIN archive.page_records AS r ON r.topic = tt.topic
    JOIN public_tags AS x ON x.tag = tt.tag
    JOIN archive.topic_catalog AS c ON c.topic = tt.topic
    WHERE NOT tt.tag = ANY (c.tags)
),
plain AS (
    SELECT l.topic, (array_agg(l.tag ORDER BY l.posts * ln(l.lift) DESC, l.posts DESC, l.tag COLLATE "C"))[1:5] AS tags
    FROM lifts AS l
    WHERE l.lift > 1
    GROUP BY l.topic
)
SELECT count(*) AS pages,
       count(*) FILTER (WHERE r.adjacent_tags = coalesce(pl.tags, '{}')) AS adjacent_as_plain_sql,
       sum(cardinality(r.adjacent_tags)) AS adjacent_tags
FROM archive.page_records AS r
LEFT JOIN plain AS pl ON pl.topic = r.topic;
UPDATE archive.posts SET tags = tags || ARRAY['late'] WHERE key = 'spread-12';
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.differs_from_full() WHERE what NOT LIKE 'topic_months %';
DELETE FROM archive.posts WHERE key LIKE 'pruned-%' OR key LIKE 'spread-%';
RESET archive.summary_capacity;
SELECT mode, rewritten FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.differs_from_full();

-- ---------------------------------------------------------------------------
-- Logged as everything: TRUNCATE, filler words, and the settings the pages
-- were built with
-- ---------------------------------------------------------------------------

TRUNCATE archive.post_topics;
SELECT everything, post_key IS NULL AND topic IS NULL AS bare FROM archive.changes;
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.pages;
SELECT * FROM pg_temp.differs_from_full();

SELECT topic, title_motifs FROM archive.topic_pages WHERE topic = 'testing';
INSERT INTO archive.filler_words (word) VALUES ('tests');
SELECT * FROM pg_temp.refresh_step();
SELECT topic, title_motifs FROM archive.topic_pages WHERE topic = 'testing';
SELECT * FROM pg_temp.differs_from_full();
DELETE FROM archive.filler_words WHERE word = 'tests';
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.differs_from_full();

-- A setting the pages depend on: the next refresh is full.
SET archive.topic_url = '/topics/{slug}.html';
SELECT * FROM pg_temp.refresh_step();
SELECT topic, adjacent_scores -> 0 ->> 'term' AS term, adjacent_scores -> 0 ->> 'url' AS url
FROM archive.topic_pages ORDER BY 1;
SELECT * FROM pg_temp.differs_from_full();
-- With links on, a topic's tags decide where other pages' adjacent threads link:
-- observability gives up performance, so the databases page's link goes.
UPDATE archive.topics SET tags = ARRAY['observability', 'incident-response'] WHERE slug = 'observability';
SELECT * FROM pg_temp.refresh_step();
SELECT topic, adjacent_scores -> 0 ->> 'term' AS term, adjacent_scores -> 0 ->> 'url' AS url
FROM archive.topic_pages ORDER BY 1;
SELECT * FROM pg_temp.differs_from_full();
RESET archive.topic_url;
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.differs_from_full();
-- archive.refresh_wait is not among the page settings.
SET archive.refresh_wait = off;
SELECT * FROM pg_temp.refresh_step();
RESET archive.refresh_wait;

-- ---------------------------------------------------------------------------
-- Implicit topics (no rows in archive.topics): tags of at least
-- archive.min_topic_posts public posts
-- ---------------------------------------------------------------------------

DELETE FROM archive.topics;
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.pages;
SELECT * FROM pg_temp.differs_from_full();

-- A tag reaching the threshold becomes a topic (security: 2 -> 4 posts); one
-- falling below it goes (design-systems: 4 -> 2).
UPDATE archive.posts SET tags = tags || ARRAY['security']
WHERE slug IN ('alt-text-is-part-of-the-content', 'partial-indexes-are-really-underrated');
UPDATE archive.posts SET tags = array_remove(tags, 'design-systems')
WHERE slug IN ('accessible-forms-one-label-at-a-time', 'disclosure-widgets-without-the-javascript');
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.pages;
SELECT * FROM pg_temp.differs_from_full();

-- Two tags with one slug: the larger gets it, the other "-2"; when their
-- sizes swap, so do their slugs.
INSERT INTO archive.posts (key, title, published_at, tags)
SELECT 'ci-' || i, 'Pipelines part ' || i, timestamptz '2020-01-01' + i * interval '40 days',
       CASE WHEN i <= 4 THEN ARRAY['ci/cd'] ELSE ARRAY['ci-cd'] END
FROM generate_series(1, 7) AS i;
SELECT * FROM pg_temp.refresh_step();
SELECT topic, name, post_count FROM archive.topic_pages WHERE topic ~ '^ci' ORDER BY 1;
SELECT * FROM pg_temp.differs_from_full();
INSERT INTO archive.posts (key, title, published_at, tags)
SELECT 'ci-' || i, 'Pipelines part ' || i, timestamptz '2024-01-01' + i * interval '1 day', ARRAY['ci-cd']
FROM generate_series(8, 9) AS i;
SELECT * FROM pg_temp.refresh_step();
SELECT topic, name, post_count FROM archive.topic_pages WHERE topic ~ '^ci' ORDER BY 1;
SELECT * FROM pg_temp.differs_from_full();
-- A third tag whose own slug is "ci-cd-2": the smaller "ci/cd" gets "ci-cd--2".
INSERT INTO archive.posts (key, title, published_at, tags)
SELECT 'ci-' || i, 'Pipelines part ' || i, timestamptz '2024-06-01' + i * interval '1 day', ARRAY['CI-CD-2']
FROM generate_series(10, 12) AS i;
SELECT topic, name, tags FROM archive.topic_catalog WHERE topic ~ '^ci' ORDER BY 1;
SELECT * FROM pg_temp.refresh_step();
SELECT topic, name, post_count FROM archive.topic_pages WHERE topic ~ '^ci' ORDER BY 1;
SELECT * FROM pg_temp.differs_from_full();
DELETE FROM archive.posts WHERE key ~ '^ci-';
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.differs_from_full();

-- The topics come back.
SELECT * FROM archive.load_topics_jsonl(:'topic_lines');
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.pages;
SELECT * FROM pg_temp.differs_from_full();

-- ---------------------------------------------------------------------------
-- A refresh that fails half-way leaves the previous pages and the pending
-- changes in place
-- ---------------------------------------------------------------------------

CREATE TEMP TABLE pages_before AS SELECT topic, record, markdown, change_id FROM archive.page_records;
ALTER TABLE archive.page_records ADD CONSTRAINT no_exclamations CHECK (name !~ '!');
UPDATE archive.topics SET name = 'Testing!' WHERE slug = 'testing';
UPDATE archive.posts SET title = 'Fuzzing a Parser' WHERE slug = 'fuzzing-a-parser-heres-what-fell-out';
SELECT * FROM pg_temp.status;
\set VERBOSITY terse
SELECT * FROM archive.refresh();
\set VERBOSITY default
SELECT * FROM pg_temp.status;
SELECT count(*) AS pages_changed
FROM (SELECT topic, record, markdown, change_id FROM archive.page_records
      EXCEPT SELECT * FROM pages_before) AS d;
SELECT count(*) AS pending FROM archive.changes;
-- A full refresh fails the same way.
\set VERBOSITY terse
SELECT * FROM archive.refresh(full => true);
\set VERBOSITY default
SELECT * FROM pg_temp.status;
ALTER TABLE archive.page_records DROP CONSTRAINT no_exclamations;
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.status;
SELECT name FROM archive.topic_pages WHERE topic = 'testing';
SELECT * FROM pg_temp.differs_from_full();

-- archive.summarize_topic_months gives the rows the refresh stored: every one,
-- those of whole topics, and those of (topic, month) pairs.
CREATE TEMP VIEW stored_months AS
SELECT topic, month, posts, span::text AS span, tags::text AS tags, titles::text AS titles, refs
FROM archive.topic_months;
CREATE FUNCTION pg_temp.summarized_months(topics text[], months date[])
    RETURNS TABLE (topic text, month date, posts integer, span text, tags text, titles text, refs jsonb)
    LANGUAGE sql AS $$
    SELECT s.topic, s.month, s.posts, s.span::text, s.tags::text, s.titles::text, s.refs
    FROM archive.summarize_topic_months(topics, months) AS s
    $$;
SELECT w.what, c.rows,
       NOT EXISTS (SELECT * FROM pg_temp.summarized_months(w.topics, w.months)
                   EXCEPT SELECT * FROM stored_months AS m
                   WHERE w.topics IS NULL
                      OR (w.months IS NULL AND m.topic = ANY (w.topics))
                      OR (m.topic, m.month) IN (SELECT * FROM unnest(w.topics, w.months)))
       AND NOT EXISTS (SELECT * FROM stored_months AS m
                       WHERE w.topics IS NULL
                          OR (w.months IS NULL AND m.topic = ANY (w.topics))
                          OR (m.topic, m.month) IN (SELECT * FROM unnest(w.topics, w.months))
                       EXCEPT SELECT * FROM pg_temp.summarized_months(w.topics, w.months)) AS same_as_stored
FROM (SELECT 'everything' AS what, NULL::text[] AS topics, NULL::date[] AS months
      UNION ALL SELECT 'whole topics', ARRAY['testing', 'databases'], NULL
      UNION ALL SELECT 'pairs', array_agg(m.topic ORDER BY m.topic, m.month), array_agg(m.month ORDER BY m.topic, m.month)
                FROM (SELECT topic, month FROM archive.topic_months ORDER BY month DESC, topic LIMIT 3) AS m) AS w
CROSS JOIN LATERAL (SELECT count(*) AS rows FROM pg_temp.summarized_months(w.topics, w.months)) AS c(rows);
DROP VIEW stored_months;

-- A refresh inside a transaction that rolls back leaves the changes pending.
-- A second refresh in the same transaction finds nothing left to do (the
-- first dropped its temporary table of assembled pages).
BEGIN;
UPDATE archive.topics SET name = 'Testing' WHERE slug = 'testing';
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.refresh_step();
ROLLBACK;
SELECT * FROM pg_temp.status;
SELECT name FROM archive.topic_pages WHERE topic = 'testing';

-- A post in no topic moves only the archive's tag counts: every page is assembled
-- again for its lifts, but a topic whose months did not change takes its span, tag
-- summary and motifs from its page.  Shown with one page's stored tag summary
-- emptied: the incremental refresh then finds no adjacent tags for it, and a full
-- refresh puts them back.
UPDATE archive.page_records SET tags = NULL WHERE topic = 'databases';
INSERT INTO archive.posts (key, url, title, published_at, tags)
VALUES ('lonely', 'https://example.org/lonely', 'A Lonely Post', '2024-03-05', ARRAY['lonely-tag']);
SELECT mode, rewritten FROM pg_temp.refresh_step();
SELECT cardinality(adjacent_tags) AS adjacent_tags FROM archive.page_records WHERE topic = 'databases';
SELECT mode, rewritten FROM pg_temp.refresh_step(true);
SELECT cardinality(adjacent_tags) AS adjacent_tags FROM archive.page_records WHERE topic = 'databases';
DELETE FROM archive.posts WHERE key = 'lonely';
SELECT mode, rewritten FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.differs_from_full();

-- ---------------------------------------------------------------------------
-- Scheduling needs pg_cron, which this database does not have
-- ---------------------------------------------------------------------------

SELECT count(*) AS pg_cron FROM pg_extension WHERE extname = 'pg_cron';
\set SHOW_CONTEXT never
SELECT archive.schedule_refresh();
SELECT archive.schedule_refresh('*/5 * * * *');
SELECT archive.unschedule_refresh();
SELECT archive.purge_refresh_runs();
\set SHOW_CONTEXT errors

-- Clean up for later suites.
TRUNCATE archive.posts, archive.topics, archive.post_topics;
SELECT * FROM pg_temp.refresh_step();
SELECT * FROM pg_temp.status;
