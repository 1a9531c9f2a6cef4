/*-------------------------------------------------------------------------
 *
 * archive--0.1.0--0.2.0.sql
 *	  Update of the archive extension from 0.1.0 to 0.2.0.
 *
 * 0.2.0 bounds a topic page: it lists the newest archive.page_references
 * posts (a new setting, 100 by default) and says how many there are, and
 * archive.topic_references() pages through all of them.  Page assembly
 * reads each month's titles once and finds the reading path's central
 * post in C (archive.reference_with_most_tags); archive.half_motifs moves
 * to C.  A refresh after titles alone changed reassembles only the topics
 * they touched.  The next refresh after the update is a full one (the
 * extension's version is part of the settings a refresh compares).
 *
 * Functions whose signature is unchanged are replaced in place (CREATE OR
 * REPLACE of the extension's own members, which keeps the views that use
 * them); test/suites/upgrade.sh checks that an updated database has
 * exactly the objects, definitions and comments of a new 0.2.0 install,
 * and the same pages.
 *
 *-------------------------------------------------------------------------
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION archive UPDATE TO '0.2.0'" to load this file. \quit

-- Title motifs of one half of a topic, now in C.
CREATE OR REPLACE FUNCTION archive.half_motifs(half archive.termcounts, other_half archive.termcounts,
                                    whole archive.termcounts, k integer)
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'archive_half_motifs'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- The reading path's central post, found in C over a month's stored references.
CREATE FUNCTION archive.reference_with_most_tags(refs jsonb, tags text[],
                                                skip_first boolean DEFAULT false, skip_last boolean DEFAULT false,
                                                OUT n integer, OUT shared integer)
    AS 'MODULE_PATHNAME', 'archive_reference_with_most_tags'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION archive.reference_with_most_tags(jsonb, text[], boolean, boolean) IS
    'Of a jsonb array of posts (each with a tags array), the first that carries most of the given tags (1-based) and how many; NULLs when none carries any. skip_first and skip_last leave out the first and last post';

-- month_of in C: no SQL function call per post, and still shipped to shards by postgres_fdw.
CREATE OR REPLACE FUNCTION archive.month_of(published_at timestamptz) RETURNS date
    AS 'MODULE_PATHNAME', 'archive_month_of'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- A membership change is logged as (topic, post): a refresh recomputes that topic's months
-- of the post, not the whole topic.
CREATE FUNCTION archive.log_membership_changes() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            INSERT INTO archive.changes (topic, post_key) SELECT DISTINCT o.topic, o.post_key FROM old_rows AS o;
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            INSERT INTO archive.changes (topic, post_key) SELECT DISTINCT n.topic, n.post_key FROM new_rows AS n;
        END IF;
        RETURN NULL;
    END
    $$;
COMMENT ON FUNCTION archive.log_membership_changes() IS 'Trigger: log the memberships (topic, post) a statement on archive.post_topics touched';
DROP TRIGGER log_inserts ON archive.post_topics;
DROP TRIGGER log_updates ON archive.post_topics;
DROP TRIGGER log_deletes ON archive.post_topics;
CREATE TRIGGER log_inserts AFTER INSERT ON archive.post_topics
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION archive.log_membership_changes();
CREATE TRIGGER log_updates AFTER UPDATE ON archive.post_topics
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION archive.log_membership_changes();
CREATE TRIGGER log_deletes AFTER DELETE ON archive.post_topics
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION archive.log_membership_changes();
COMMENT ON COLUMN archive.changes.post_key IS 'Key of a changed public post version, or of the post of a changed membership; NULL for a topic or whole-archive change';
COMMENT ON COLUMN archive.changes.topic IS 'Slug of a changed topic (its definition), or with post_key of a changed membership; NULL otherwise';

-- log_topic_changes serves archive.topics alone now: no column argument.
CREATE OR REPLACE FUNCTION archive.log_topic_changes() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            INSERT INTO archive.changes (topic) SELECT DISTINCT o.slug FROM old_rows AS o;
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            INSERT INTO archive.changes (topic) SELECT DISTINCT n.slug FROM new_rows AS n;
        END IF;
        RETURN NULL;
    END
    $$;
COMMENT ON FUNCTION archive.log_topic_changes() IS 'Trigger: log the topics a statement on archive.topics touched';
DROP TRIGGER log_inserts ON archive.topics;
DROP TRIGGER log_updates ON archive.topics;
DROP TRIGGER log_deletes ON archive.topics;
CREATE TRIGGER log_inserts AFTER INSERT ON archive.topics
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION archive.log_topic_changes();
CREATE TRIGGER log_updates AFTER UPDATE ON archive.topics
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION archive.log_topic_changes();
CREATE TRIGGER log_deletes AFTER DELETE ON archive.topics
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION archive.log_topic_changes();

-- Pages list the newest archive.page_references posts.
ALTER TABLE archive.page_records DROP CONSTRAINT page_records_check;
ALTER TABLE archive.page_records ADD CHECK (jsonb_array_length("references") <= post_count);
COMMENT ON COLUMN archive.topic_months.refs IS 'Those posts as references (key, title, url, summary, tags, published_at), newest first; archive.topic_references reads them';
COMMENT ON COLUMN archive.page_records."references" IS 'The newest archive.page_references posts of the topic (title, url, summary, tags, published_at), newest first, undated last (jsonb array); archive.topic_references lists them all';
COMMENT ON COLUMN archive.topic_pages."references" IS 'The newest archive.page_references posts of the topic (title, url, summary, tags, published_at), newest first, undated last (jsonb array); archive.topic_references lists them all';

CREATE OR REPLACE FUNCTION archive.page_figures(only_topics text[] DEFAULT NULL)
    RETURNS TABLE (topic text, span archive.span, record jsonb)
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
    WITH all_topics AS MATERIALIZED (
        SELECT * FROM archive.topic_catalog
    ),
    catalog AS (
        SELECT * FROM all_topics AS c
        WHERE only_topics IS NULL OR c.topic = ANY (only_topics)
    ),
    -- The older half of a topic is the months that begin before half its dated
    -- posts; undated posts are in neither half.  A month's references are listed
    -- when fewer than archive.page_references posts are newer (undated ones last).
    months AS MATERIALIZED (
        SELECT tm.*,
               coalesce(sum(tm.posts) FILTER (WHERE tm.month <> '-infinity')
                            OVER (PARTITION BY tm.topic ORDER BY tm.month
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS posts_before,
               sum(tm.posts) FILTER (WHERE tm.month <> '-infinity') OVER (PARTITION BY tm.topic) AS topic_posts,
               coalesce(sum(tm.posts) OVER (PARTITION BY tm.topic ORDER BY tm.month DESC
                                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS posts_newer,
               max(tm.month) FILTER (WHERE tm.month <> '-infinity') OVER (PARTITION BY tm.topic) AS newest_month,
               min(tm.month) FILTER (WHERE tm.month <> '-infinity') OVER (PARTITION BY tm.topic) AS oldest_month
        FROM archive.topic_months AS tm
        JOIN catalog AS c ON c.topic = tm.topic
    ),
    -- Each month's titles are read once: into the older half, the newer half or
    -- the undated posts; the whole topic is the union of those three.
    halves AS (
        SELECT m.topic,
               archive.span_union_agg(m.span) AS span,
               archive.termcounts_union_agg(m.tags) AS tag_summary,
               archive.termcounts_union_agg(m.titles) FILTER (WHERE m.month <> '-infinity' AND m.posts_before * 2 < m.topic_posts) AS early_summary,
               archive.termcounts_union_agg(m.titles) FILTER (WHERE m.month <> '-infinity' AND m.posts_before * 2 >= m.topic_posts) AS recent_summary,
               archive.termcounts_union_agg(m.titles) FILTER (WHERE m.month = '-infinity') AS undated_summary
        FROM months AS m
        GROUP BY m.topic
    ),
    figures AS (
        SELECT h.*,
               (SELECT archive.termcounts_union_agg(p.summary)
                FROM (VALUES (h.early_summary), (h.recent_summary), (h.undated_summary)) AS p(summary)) AS motif_summary
        FROM halves AS h
    ),
    -- The references a page lists: the newest archive.page_references posts,
    -- numbered newest first (undated ones last).
    refs AS (
        SELECT r.topic, jsonb_agg(r.ref - 'key' ORDER BY r.n) AS refs
        FROM (SELECT m.topic, e.ref, m.posts_newer + e.n AS n
              FROM months AS m
              CROSS JOIN LATERAL jsonb_array_elements(m.refs) WITH ORDINALITY AS e(ref, n)
              WHERE m.posts_newer < (archive.settings() ->> 'page_references')::integer) AS r
        WHERE r.n <= (archive.settings() ->> 'page_references')::integer
        GROUP BY r.topic
    ),
    whole AS MATERIALIZED (
        -- rows read once (OFFSET 0 keeps the subquery whole): per term, it would
        -- decode the whole summary again, quadratic in the archive's distinct tags
        SELECT t.term, t.count::float8 / greatest(s.rows, 1) AS share
        FROM (SELECT u.summary, archive.rows(u.summary) AS rows
              FROM (SELECT archive.termcounts_union_agg(am.tags) AS summary FROM archive.archive_months AS am) AS u
              OFFSET 0) AS s,
             archive.terms(s.summary) AS t
    ),
    -- Adjacent tags: strength = posts carrying the tag * ln(lift), lift = share in
    -- the topic / share in the whole archive; only tags with lift > 1 are neighbours.
    adjacent AS MATERIALIZED (
        SELECT f.topic,
               jsonb_agg(jsonb_build_object(
                   'term', a.term, 'count', a.count, 'share', round(a.share::numeric, 4),
                   'lift', round(a.lift::numeric, 3), 'strength', round(a.strength::numeric, 3),
                   'url', a.url) ORDER BY a.rank) AS tags
        FROM figures AS f
        JOIN catalog AS c ON c.topic = f.topic
        CROSS JOIN LATERAL (
            SELECT r.*, row_number() OVER (ORDER BY r.strength DESC, r.count DESC, r.term COLLATE "C") AS rank
            FROM (SELECT t.term, t.count, t.share, t.share / w.share AS lift,
                         t.count * ln(t.share / w.share) AS strength,
                         (SELECT replace(current_setting('archive.topic_url', true), '{slug}', o.topic)
                          FROM all_topics AS o
                          WHERE current_setting('archive.topic_url', true) <> '' AND t.term = ANY (o.tags)
                          ORDER BY o.topic LIMIT 1) AS url
                  FROM unnest(archive.top_terms(f.tag_summary, 2147483647, c.tags)) AS t
                  JOIN whole AS w ON w.term = t.term
                  WHERE t.share > w.share) AS r
        ) AS a
        WHERE a.rank <= 5
        GROUP BY f.topic
    ),
    -- Reading path: the newest post, the most central one (carrying most of the
    -- three strongest adjacent tags, newest first on ties), and the oldest.
    -- Newest and oldest are the first post of the newest month and the last of
    -- the oldest (dated months only); an undated post can only be the central one.
    ends AS (
        SELECT m.topic, 'newest' AS role, m.month, 1::bigint AS n, m.refs -> 0 AS ref
        FROM months AS m WHERE m.month = m.newest_month
        UNION ALL
        SELECT m.topic, 'oldest', m.month, m.posts::bigint, m.refs -> -1
        FROM months AS m WHERE m.month = m.oldest_month AND (m.month, m.posts) <> (m.newest_month, 1)
    ),
    strongest AS (
        SELECT a.topic, ARRAY(SELECT jsonb_array_elements_text(jsonb_path_query_array(a.tags, '$[0 to 2].term'))) AS tags
        FROM adjacent AS a
    ),
    central AS (
        SELECT DISTINCT ON (m.topic) m.topic, m.refs -> (b.n - 1) AS ref, st.tags
        FROM months AS m
        JOIN strongest AS st ON st.topic = m.topic
        CROSS JOIN LATERAL archive.reference_with_most_tags(m.refs, st.tags, m.month = m.newest_month,
                                                            m.month = m.oldest_month) AS b
        WHERE b.n IS NOT NULL
        ORDER BY m.topic, b.shared DESC, m.month DESC, b.n
    ),
    path AS (
        SELECT p.topic,
               jsonb_agg(jsonb_build_object('role', p.role, 'title', p.ref -> 'title', 'url', p.ref -> 'url',
                                            'published_at', p.ref -> 'published_at',
                                            'shared_tags', to_jsonb(p.shared))
                         ORDER BY p.ord) AS steps
        FROM (SELECT d.topic, CASE d.role WHEN 'newest' THEN 1 ELSE 3 END AS ord, d.role, d.ref, '{}'::text[] AS shared
              FROM ends AS d
              UNION ALL
              SELECT ce.topic, 2, 'central', ce.ref,
                     ARRAY(SELECT t.tag FROM unnest(ce.tags) WITH ORDINALITY AS t(tag, rank)
                           WHERE ce.ref -> 'tags' ? t.tag ORDER BY t.rank)
              FROM central AS ce) AS p
        GROUP BY p.topic
    )
    SELECT c.topic, f.span,
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
               'title_motifs', coalesce((SELECT jsonb_agg(to_jsonb(t)) FROM unnest(archive.top_terms(f.motif_summary, 6)) AS t
                                         WHERE t.count >= 2), '[]'),
               'early_motifs', coalesce(archive.half_motifs(f.early_summary, f.recent_summary, f.motif_summary, 3), '[]'),
               'recent_motifs', coalesce(archive.half_motifs(f.recent_summary, f.early_summary, f.motif_summary, 3), '[]'),
               'reading_path', coalesce(p.steps, '[]'),
               'references', coalesce(r.refs, '[]'))
    FROM catalog AS c
    LEFT JOIN figures AS f ON f.topic = c.topic
    LEFT JOIN refs AS r ON r.topic = c.topic
    LEFT JOIN adjacent AS a ON a.topic = c.topic
    LEFT JOIN path AS p ON p.topic = c.topic
    $$;

CREATE FUNCTION archive.topic_references(topic text, "offset" bigint DEFAULT 0, "limit" integer DEFAULT 100)
    RETURNS TABLE (n bigint, key text, title text, url text, summary text, tags text[], published_at timestamptz)
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
    -- The topic's posts as of the last refresh, numbered newest first (undated
    -- ones last, as on the page), from number "offset" + 1 on, at most "limit" of
    -- them; only the months that hold them are read.
    SELECT m.posts_newer + e.n, e.ref ->> 'key', e.ref ->> 'title', e.ref ->> 'url', e.ref ->> 'summary',
           ARRAY(SELECT jsonb_array_elements_text(e.ref -> 'tags')),
           (e.ref ->> 'published_at')::timestamptz
    FROM (SELECT tm.month, tm.posts, tm.refs,
                 coalesce(sum(tm.posts) OVER (ORDER BY tm.month DESC
                                              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS posts_newer
          FROM archive.topic_months AS tm
          WHERE tm.topic = $1) AS m
    CROSS JOIN LATERAL jsonb_array_elements(m.refs) WITH ORDINALITY AS e(ref, n)
    WHERE m.posts_newer < greatest($2, 0) + greatest($3, 0) AND m.posts_newer + m.posts > greatest($2, 0)
      AND m.posts_newer + e.n > greatest($2, 0) AND m.posts_newer + e.n <= greatest($2, 0) + greatest($3, 0)
    ORDER BY m.month DESC, e.n
    $$;
COMMENT ON FUNCTION archive.topic_references(text, bigint, integer) IS
    'A topic''s posts as of the last refresh, newest first, undated last: "limit" of them after the first "offset"; pages list only the newest archive.page_references';

CREATE OR REPLACE FUNCTION archive.refresh(full boolean DEFAULT false)
    RETURNS TABLE (mode text, topics_recomputed integer, posts_read bigint, elapsed interval)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    -- The page queries' estimated costs pass the JIT thresholds whatever the archive's
    -- size, and compiling them takes seconds, many times what running them takes.
    SET jit = off
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
        dirty_months date[];
        catalog_tags jsonb;
        catalog_changed boolean;
        old_archive_tags jsonb;
        archive_tags_changed boolean := false;
        affected text[];
        posts_summarized bigint := 0;
        recomputed integer;
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
        -- The topics and their tags now, against those of the last refresh.
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
            DELETE FROM archive.topic_months;
            INSERT INTO archive.topic_months SELECT * FROM archive.summarize_topic_months();
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
                  SELECT t.topic, c.month
                  FROM read AS c
                  JOIN archive.topic_catalog AS t ON t.tags && c.post_tags
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
            SELECT array_agg(DISTINCT c.month) INTO dirty_months
            FROM archive.changes AS c WHERE c.change_id = ANY (read_ids) AND c.month IS NOT NULL;

            phase := format('summarising %s topic-months, %s topics',
                            coalesce(cardinality(pair_topics), 0), coalesce(cardinality(whole_topics), 0));
            -- (application_name holds 63 bytes; a longer one is cut with a NOTICE)
            PERFORM set_config('application_name', left('archive refresh 3/5: ' || phase, 63), true);
            IF clock_timestamp() - started >= notice_after THEN
                RAISE NOTICE 'archive refresh, % s: %', round(extract(epoch FROM clock_timestamp() - started), 1), phase;
            END IF;
            DELETE FROM archive.topic_months AS tm
            WHERE tm.topic = ANY (whole_topics)
               OR (tm.topic, tm.month) IN (SELECT * FROM unnest(pair_topics, pair_months))
               OR NOT EXISTS (SELECT 1 FROM archive.topic_catalog AS t WHERE t.topic = tm.topic);
            IF pair_topics IS NOT NULL THEN
                INSERT INTO archive.topic_months
                SELECT * FROM archive.summarize_topic_months(pair_topics, pair_months)
                WHERE NOT (topic = ANY (coalesce(whole_topics, '{}')));
            END IF;
            IF whole_topics IS NOT NULL THEN
                INSERT INTO archive.topic_months
                SELECT * FROM archive.summarize_topic_months(whole_topics, NULL);
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
        posts_summarized := (SELECT coalesce(sum(archive.rows(am.tags)), 0) FROM archive.archive_months AS am
                             WHERE recompute_all OR am.month = ANY (dirty_months));
        phase := format('assembling %s pages', CASE WHEN affected IS NULL
                                                    THEN (SELECT count(*) FROM jsonb_object_keys(catalog_tags))
                                                    ELSE (SELECT count(DISTINCT a) FROM unnest(affected) AS a) END);
        PERFORM set_config('application_name', 'archive refresh 5/5: ' || phase, true);
        IF clock_timestamp() - started >= notice_after THEN
            RAISE NOTICE 'archive refresh, % s: %', round(extract(epoch FROM clock_timestamp() - started), 1), phase;
        END IF;

        WITH computed AS MATERIALIZED (
            SELECT f.topic, f.span, f.record
            FROM archive.page_figures(affected) AS f
            LEFT JOIN archive.page_records AS old ON old.topic = f.topic
            WHERE recompute_all OR old.record IS DISTINCT FROM f.record
        ),
        -- a full refresh renders every page again (the renderer may have changed)
        -- but rewrites only the pages whose record or rendering differs
        rendered AS MATERIALIZED (
            SELECT c.*, archive.page_prose(c.record) AS prose,
                   archive.page_markdown(c.record) AS markdown, archive.page_html(c.record) AS html
            FROM computed AS c
        ),
        upserted AS (
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
                   coalesce(upto, state.last_change_id, 0)
            FROM rendered AS c
            LEFT JOIN archive.page_records AS old ON old.topic = c.topic
            WHERE old.record IS DISTINCT FROM c.record OR old.markdown IS DISTINCT FROM c.markdown
               OR old.html IS DISTINCT FROM c.html
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
                refreshed_at = excluded.refreshed_at, change_id = excluded.change_id
            RETURNING 1
        ),
        removed AS (
            DELETE FROM archive.page_records AS p
            WHERE NOT EXISTS (SELECT 1 FROM archive.topic_catalog AS t WHERE t.topic = p.topic)
        )
        SELECT count(*) INTO recomputed FROM upserted;

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
