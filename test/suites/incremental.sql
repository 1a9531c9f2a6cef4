-- test/suites/incremental.sql: helpers of test/suites/incremental.sh, created in its scratch
-- database (schema "suite").
--   suite.create_topics()       the three explicit topics the suite starts with (and restores)
--   suite.mutate(round)         one seeded, deterministic batch of changes: inserts, updates,
--                               deletes, and (when topics are defined) topic and membership changes
--   suite.save_incremental()    keeps the pages and summaries the incremental refresh left
--   suite.differences()         after a full refresh: what differs from the saved ones
-- Every change is its own statement, so the statement triggers see batches of one and of many.

CREATE SCHEMA suite;

CREATE FUNCTION suite.create_topics() RETURNS void LANGUAGE sql AS $$
    INSERT INTO archive.topics (slug, name, lens, through_line, advice, pitfalls, tags) VALUES
        ('concurrency', 'Concurrency & Tools', 'share memory by communicating', NULL,
         ARRAY['Start with the race detector.'], '{}', ARRAY['concurrency', 'tools', 'context']),
        ('releases', 'Releases', NULL, 'Every release keeps the Go 1 promise.',
         '{}', ARRAY['Skipping the release notes.'], ARRAY['release', 'go1', 'versioning']),
        ('community', 'Community', NULL, NULL, '{}', '{}', ARRAY['community', 'conference', 'gopher']);
    -- explicit memberships on top of the tags
    INSERT INTO archive.post_topics (topic, post_key)
    SELECT t.slug, p.key
    FROM (VALUES ('concurrency', 3), ('releases', 5), ('community', 7)) AS t(slug, step),
         LATERAL (SELECT key FROM archive.posts ORDER BY key OFFSET t.step * 11 LIMIT 2) AS p;
$$;

-- A key of an existing post, picked at random (deterministic under setseed).
CREATE FUNCTION suite.random_key() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT key FROM archive.posts ORDER BY key
    OFFSET floor(random() * (SELECT count(*) FROM archive.posts)) LIMIT 1
$$;

-- An element of an array, picked at random.
CREATE FUNCTION suite.pick(items text[]) RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT items[1 + floor(random() * cardinality(items))::int]
$$;

-- A publication time between 2010 and 2026, at midnight UTC, or now and then none.
CREATE FUNCTION suite.random_date() RETURNS timestamptz LANGUAGE sql VOLATILE AS $$
    SELECT CASE WHEN random() < 0.08 THEN NULL
                ELSE (date '2010-01-01' + floor(random() * 6000)::int)::timestamp AT TIME ZONE 'UTC' END
$$;

-- 1 to 3 tags: existing ones (sometimes spelt differently), now and then new or colliding ones.
CREATE FUNCTION suite.random_tags(tags text[]) RETURNS text[] LANGUAGE plpgsql VOLATILE AS $$
    DECLARE
        result text[] := '{}';
        tag text;
    BEGIN
        FOR i IN 1 .. 1 + floor(random() * 3)::int LOOP
            -- ci/cd, ci-cd and "ci cd" share the slug ci-cd: the most used gets it
            tag := CASE WHEN random() < 0.25 THEN suite.pick(ARRAY['ci/cd', 'ci-cd', 'CI CD', 'wasm', 'fuzzing'])
                        ELSE suite.pick(tags) END;
            tag := CASE floor(random() * 8)::int WHEN 0 THEN upper(tag) WHEN 1 THEN ' ' || tag || ' ' ELSE tag END;
            result := result || tag;
        END LOOP;
        RETURN result;
    END
$$;

-- A title of 3 to 6 words taken from existing titles.
CREATE FUNCTION suite.random_title(words text[]) RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT initcap(string_agg(suite.pick(words), ' ')) FROM generate_series(1, 3 + floor(random() * 4)::int)
$$;

CREATE FUNCTION suite.mutate(round integer) RETURNS text LANGUAGE plpgsql AS $$
    DECLARE
        words text[];
        all_tags text[];
        topic_slugs text[];
        explicit boolean;
        k text;
        keys text[];
        chosen text;
        inserted integer := 0;
        updated integer := 0;
        deleted integer := 0;
        topic_changes integer := 0;
        member_changes integer := 0;
    BEGIN
        PERFORM setseed(round / 64.0);
        words := ARRAY(SELECT DISTINCT lower(w) FROM archive.posts, regexp_split_to_table(title, '[^[:alnum:]'']+') AS w
                       WHERE length(w) > 1 ORDER BY 1);
        all_tags := ARRAY(SELECT DISTINCT t FROM archive.posts AS p, unnest(archive.normalize_tags(p.tags)) AS t ORDER BY 1);
        explicit := EXISTS (SELECT 1 FROM archive.topics);

        -- inserts: one statement per post, and now and then one statement of several
        FOR i IN 1 .. 1 + floor(random() * 3)::int LOOP
            INSERT INTO archive.posts (key, url, slug, title, summary, published_at, tags, visibility)
            VALUES (format('https://suite.example/r%s/p%s', round, i), format('https://suite.example/r%s/p%s', round, i),
                    format('r%s-p%s', round, i), suite.random_title(words), 'A post made up by the suite.',
                    suite.random_date(), suite.random_tags(all_tags),
                    CASE WHEN random() < 0.15 THEN 'draft' ELSE 'public' END::archive.visibility);
            inserted := inserted + 1;
        END LOOP;
        IF random() < 0.5 THEN
            INSERT INTO archive.posts (key, url, title, published_at, tags)
            SELECT format('https://suite.example/r%s/batch%s', round, g), format('https://suite.example/r%s/batch%s', round, g),
                   suite.random_title(words), suite.random_date(), suite.random_tags(all_tags)
            FROM generate_series(1, 3) AS g;
            inserted := inserted + 3;
        END IF;

        -- updates of single posts
        FOR i IN 1 .. 3 + floor(random() * 5)::int LOOP
            k := suite.random_key();
            CASE floor(random() * 7)::int
                WHEN 0 THEN UPDATE archive.posts SET title = suite.random_title(words) WHERE key = k;
                WHEN 1 THEN UPDATE archive.posts SET tags = suite.random_tags(all_tags) WHERE key = k;
                WHEN 2 THEN UPDATE archive.posts SET tags = archive.posts.tags || suite.random_tags(all_tags) WHERE key = k;
                WHEN 3 THEN UPDATE archive.posts SET tags = archive.posts.tags[2:] WHERE key = k;
                WHEN 4 THEN UPDATE archive.posts SET published_at = suite.random_date() WHERE key = k;
                WHEN 5 THEN UPDATE archive.posts
                            SET visibility = CASE visibility WHEN 'public' THEN suite.pick(ARRAY['draft', 'private'])
                                                             ELSE 'public' END::archive.visibility
                            WHERE key = k;
                ELSE UPDATE archive.posts
                     SET title = suite.random_title(words), tags = suite.random_tags(all_tags),
                         published_at = suite.random_date(), summary = 'Rewritten by the suite.'
                     WHERE key = k;
            END CASE;
            updated := updated + 1;
        END LOOP;
        -- one statement updating several posts, and now and then a post's key
        -- (random picks go through variables: in a WHERE clause a volatile call runs per row)
        keys := ARRAY[suite.random_key(), suite.random_key(), suite.random_key()];
        UPDATE archive.posts SET title = title || ' (revisited)' WHERE key = ANY (keys);
        updated := updated + 3;
        IF random() < 0.3 THEN
            k := suite.random_key();
            UPDATE archive.posts SET key = key || '#moved', url = url || '#moved' WHERE key = k;
            updated := updated + 1;
        END IF;

        -- deletes
        FOR i IN 1 .. floor(random() * 3)::int LOOP
            k := suite.random_key();
            DELETE FROM archive.posts WHERE key = k;
            deleted := deleted + 1;
        END LOOP;

        -- topics and memberships, when topics are defined
        IF explicit THEN
            topic_slugs := ARRAY(SELECT t.slug FROM archive.topics AS t ORDER BY 1);
            IF random() < 0.6 THEN
                chosen := suite.pick(topic_slugs);
                UPDATE archive.topics AS t SET lens = suite.random_title(words), advice = advice || suite.random_title(words)
                WHERE t.slug = chosen;
                topic_changes := topic_changes + 1;
            END IF;
            IF random() < 0.4 THEN
                chosen := suite.pick(topic_slugs);
                k := suite.pick(all_tags);
                UPDATE archive.topics AS t SET tags = t.tags || k WHERE t.slug = chosen;
                topic_changes := topic_changes + 1;
            END IF;
            IF random() < 0.3 THEN
                chosen := suite.pick(topic_slugs);
                UPDATE archive.topics AS t SET tags = t.tags[2:] WHERE t.slug = chosen AND cardinality(t.tags) > 1;
                topic_changes := topic_changes + 1;
            END IF;
            IF random() < 0.25 THEN
                IF EXISTS (SELECT 1 FROM archive.topics AS t WHERE t.slug = 'extra') THEN
                    DELETE FROM archive.topics AS t WHERE t.slug = 'extra';
                ELSE
                    INSERT INTO archive.topics (slug, name, tags) VALUES ('extra', 'Extra', ARRAY[suite.pick(all_tags), suite.pick(all_tags)]);
                END IF;
                topic_changes := topic_changes + 1;
            END IF;
            FOR i IN 1 .. floor(random() * 3)::int LOOP
                INSERT INTO archive.post_topics (topic, post_key)
                VALUES (suite.pick(topic_slugs), suite.random_key()) ON CONFLICT DO NOTHING;
                member_changes := member_changes + 1;
            END LOOP;
            IF random() < 0.5 THEN
                DELETE FROM archive.post_topics
                WHERE (topic, post_key) = (SELECT topic, post_key FROM archive.post_topics ORDER BY 1, 2
                                           OFFSET floor(random() * (SELECT count(*) FROM archive.post_topics)) LIMIT 1);
                member_changes := member_changes + 1;
            END IF;
        END IF;

        RETURN format('%s inserts, %s updates, %s deletes, %s topic and %s membership changes',
                      inserted, updated, deleted, topic_changes, member_changes);
    END
$$;

-- The pages and summaries as the incremental refresh left them.
CREATE TABLE suite.inc_pages AS SELECT topic, record, markdown, html, tags::text AS tags FROM archive.page_records WITH NO DATA;
CREATE TABLE suite.inc_months AS
SELECT topic, month, posts, span::text AS span, tags::text AS tags, titles::text AS titles, refs
FROM archive.topic_months WITH NO DATA;
CREATE TABLE suite.inc_archive_months AS SELECT month, tags::text AS tags FROM archive.archive_months WITH NO DATA;

CREATE FUNCTION suite.save_incremental() RETURNS void LANGUAGE sql AS $$
    TRUNCATE suite.inc_pages, suite.inc_months, suite.inc_archive_months;
    INSERT INTO suite.inc_pages SELECT topic, record, markdown, html, tags::text FROM archive.page_records;
    INSERT INTO suite.inc_months
    SELECT topic, month, posts, span::text, tags::text, titles::text, refs FROM archive.topic_months;
    INSERT INTO suite.inc_archive_months SELECT month, tags::text FROM archive.archive_months;
$$;

-- After a full refresh: the topics whose page (record, markdown, html or tag summary) differs, and the
-- topic_months and archive_months rows that differ, one line each.
CREATE FUNCTION suite.differences() RETURNS TABLE (kind text, what text) LANGUAGE sql AS $$
    WITH full_pages AS (SELECT topic, record, markdown, html, tags::text AS tags FROM archive.page_records),
    full_months AS (
        SELECT topic, month, posts, span::text AS span, tags::text AS tags, titles::text AS titles, refs
        FROM archive.topic_months
    ),
    full_archive_months AS (SELECT month, tags::text AS tags FROM archive.archive_months),
    pages AS (
        SELECT topic FROM (TABLE suite.inc_pages EXCEPT TABLE full_pages) AS d
        UNION
        SELECT topic FROM (TABLE full_pages EXCEPT TABLE suite.inc_pages) AS d
    ),
    months AS (
        SELECT topic, month FROM (TABLE suite.inc_months EXCEPT TABLE full_months) AS d
        UNION
        SELECT topic, month FROM (TABLE full_months EXCEPT TABLE suite.inc_months) AS d
    ),
    archive_months AS (
        SELECT month FROM (TABLE suite.inc_archive_months EXCEPT TABLE full_archive_months) AS d
        UNION
        SELECT month FROM (TABLE full_archive_months EXCEPT TABLE suite.inc_archive_months) AS d
    )
    SELECT 'page', topic FROM pages
    UNION ALL
    SELECT 'topic_month', topic || ' ' || month FROM months
    UNION ALL
    SELECT 'archive_month', month::text FROM archive_months
    ORDER BY 1, 2
$$;
