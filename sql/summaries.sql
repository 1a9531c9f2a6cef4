--
-- summaries: the type archive.termcounts (text and binary forms, checks on
-- input), archive.termcounts_union_agg, and bounded (pruned) summaries.
--
SET DateStyle = 'ISO, YMD';
CREATE TEMP TABLE sum_posts (
    id int PRIMARY KEY,
    month date NOT NULL,
    title text,
    tags text[]
);
INSERT INTO sum_posts VALUES
    (1, '2024-01-01', 'Profiling Go Programs', ARRAY['go', 'performance']),
    (2, '2024-01-01', 'Faster Builds with Caching', ARRAY['builds', 'Performance']),
    (3, '2024-01-01', 'Go Modules in Practice', ARRAY['go', 'modules']),
    (4, '2024-01-01', NULL, NULL),
    (5, '2024-02-01', 'Profiling Databases', ARRAY['databases', 'performance']),
    (6, '2024-02-01', 'Module Mirrors', ARRAY['Go', 'modules', 'security']),
    (7, '2024-02-01', 'Caching, Again', ARRAY['performance']),
    (8, '2024-03-01', 'Go Security Releases', ARRAY['go', 'security']),
    (9, '2024-03-01', 'Build Caching', '{}'),
    (10, '2024-03-01', 'Profiles and Profiling', ARRAY['performance', ' GO ']);

-- By hand, tags over all 10 posts: go 5 (1, 3, 6, 8, 10), performance 5 (1, 2,
-- 5, 7, 10), modules 2 (3, 6), security 2 (6, 8), builds 1, databases 1.
-- Title stems (10 rows, title 4 NULL): cach 3 (caching in 2, 7, 9), go 3 (1, 3,
-- 8), profil 3 (profiling in 1 and 5; title 10 gives "profiles", its first word
-- of that stem), build 2 (builds, build), modul 2 (modules, module), and 1 each:
-- databas, faster, mirror, practic, program, releas, secur ("with", "in",
-- "again", "and" are stop words).
SELECT archive.tag_counts_agg(tags) FROM sum_posts;
SELECT archive.title_terms_agg(title) FROM sum_posts;

-- Text round trip, tags and motifs.
SELECT s::text::archive.termcounts::text = s::text AS tags_round_trip
FROM (SELECT archive.tag_counts_agg(tags) AS s FROM sum_posts) t;
SELECT s::text::archive.termcounts::text = s::text AS motifs_round_trip
FROM (SELECT archive.title_terms_agg(title) AS s FROM sum_posts) t;
-- Terms may come in any order and are printed in canonical order (count, then bytes).
SELECT '{"terms": [["b", 1], ["a", 1], ["c", 2]], "error": 0, "rows": 3,
         "capacity": 16, "kind": "tags"}'::archive.termcounts;
SELECT '{"kind": "motifs", "capacity": 16, "rows": 3, "error": 1,
         "terms": [["test", "tests", 1], ["test", "testing", 2]]}'::archive.termcounts;
-- Non-ASCII and escaped characters survive the round trip.
SELECT s, s::text::archive.termcounts::text = s::text AS round_trip
FROM (SELECT '{"kind": "tags", "capacity": 16, "rows": 2, "error": 0,
               "terms": [["café \"au\" lait", 2], ["back\\slash", 1]]}'::archive.termcounts AS s) t;

-- Invalid text input.
SELECT '{"kind": "tags", "capacity": 16,'::archive.termcounts;                    -- not JSON
SELECT '["tags"]'::archive.termcounts;                                            -- not an object
SELECT '{"kind": "words", "capacity": 16, "rows": 1, "error": 0, "terms": []}'::archive.termcounts;
SELECT '{"capacity": 16, "rows": 1, "error": 0, "terms": []}'::archive.termcounts;
SELECT '{"kind": "tags", "capacity": 15, "rows": 1, "error": 0, "terms": []}'::archive.termcounts;
SELECT '{"kind": "tags", "capacity": 1048577, "rows": 1, "error": 0, "terms": []}'::archive.termcounts;
SELECT '{"kind": "tags", "capacity": 16, "rows": 1, "error": 0, "terms": {}}'::archive.termcounts;
-- tags must be given normalised
SELECT '{"kind": "tags", "capacity": 16, "rows": 1, "error": 0, "terms": [["Go", 1]]}'::archive.termcounts;
SELECT '{"kind": "tags", "capacity": 16, "rows": 1, "error": 0, "terms": [[" go", 1]]}'::archive.termcounts;
SELECT '{"kind": "tags", "capacity": 16, "rows": 1, "error": 0, "terms": [["design  systems", 1]]}'::archive.termcounts;
SELECT '{"kind": "tags", "capacity": 16, "rows": 1, "error": 0, "terms": [["", 1]]}'::archive.termcounts;
-- a term repeated, with the same or with another count
SELECT '{"kind": "tags", "capacity": 16, "rows": 3, "error": 0, "terms": [["go", 1], ["go", 1]]}'::archive.termcounts;
SELECT '{"kind": "tags", "capacity": 16, "rows": 3, "error": 0, "terms": [["go", 2], ["go", 1]]}'::archive.termcounts;
SELECT '{"kind": "motifs", "capacity": 16, "rows": 3, "error": 0,
         "terms": [["go", "go", 1], ["go", "go", 2]]}'::archive.termcounts;
-- counts against rows: a count above rows, zero or negative; a stem whose
-- words add up to more than rows (each title counts a stem once)
SELECT '{"kind": "tags", "capacity": 16, "rows": 1, "error": 0, "terms": [["go", 2]]}'::archive.termcounts;
SELECT '{"kind": "tags", "capacity": 16, "rows": 1, "error": 0, "terms": [["go", 0]]}'::archive.termcounts;
SELECT '{"kind": "tags", "capacity": 16, "rows": 1, "error": 0, "terms": [["go", -1]]}'::archive.termcounts;
SELECT '{"kind": "motifs", "capacity": 16, "rows": 3, "error": 0,
         "terms": [["test", "tests", 2], ["test", "testing", 2]]}'::archive.termcounts;
-- error and rows out of range
SELECT '{"kind": "tags", "capacity": 16, "rows": 1, "error": 2, "terms": []}'::archive.termcounts;
SELECT '{"kind": "tags", "capacity": 16, "rows": 1, "error": -1, "terms": []}'::archive.termcounts;
SELECT '{"kind": "tags", "capacity": 16, "rows": -1, "error": 0, "terms": []}'::archive.termcounts;
-- numbers that are no int64
SELECT '{"kind": "tags", "capacity": 16, "rows": 1.5, "error": 0, "terms": []}'::archive.termcounts;
SELECT '{"kind": "tags", "capacity": 16, "rows": "1", "error": 0, "terms": []}'::archive.termcounts;
SELECT '{"kind": "tags", "capacity": 16, "rows": 1e30, "error": 0, "terms": []}'::archive.termcounts;
SELECT '{"kind": "tags", "capacity": 16, "rows": 9223372036854775808, "error": 0, "terms": []}'::archive.termcounts;
SELECT '{"kind": "tags", "capacity": 16, "rows": 1, "error": 0, "terms": [["go", true]]}'::archive.termcounts;
-- terms of the wrong shape
SELECT '{"kind": "tags", "capacity": 16, "rows": 1, "error": 0, "terms": [["go", "go", 1]]}'::archive.termcounts;
SELECT '{"kind": "motifs", "capacity": 16, "rows": 1, "error": 0, "terms": [["go", 1]]}'::archive.termcounts;
SELECT '{"kind": "motifs", "capacity": 16, "rows": 1, "error": 0, "terms": [["", "go", 1]]}'::archive.termcounts;
SELECT '{"kind": "motifs", "capacity": 16, "rows": 1, "error": 0, "terms": [["go", "", 1]]}'::archive.termcounts;
SELECT '{"kind": "tags", "capacity": 16, "rows": 1, "error": 0, "terms": [[1, 1]]}'::archive.termcounts;
-- at most 2 * capacity terms: 32 are accepted at capacity 16, 33 are not
SELECT archive.rows(format('{"kind": "tags", "capacity": 16, "rows": 40, "error": 0, "terms": [%s]}',
                           string_agg(format('["t%s", 1]', i), ', '))::archive.termcounts) AS rows_32_terms
FROM generate_series(1, 32) i;
SELECT format('{"kind": "tags", "capacity": 16, "rows": 40, "error": 0, "terms": [%s]}',
              string_agg(format('["t%s", 1]', i), ', '))::archive.termcounts
FROM generate_series(1, 33) i;
-- A rule broken in the text is invalid_text_representation (22P02), also the
-- rules checked on the decoded summary (those the binary input checks too): a
-- count above rows, a term repeated, a stem above rows, error above rows, a
-- motif without its word.
\set VERBOSITY sqlstate
SELECT '{"kind": "tags", "capacity": 16, "rows": 1, "error": 0, "terms": [["go", 2]]}'::archive.termcounts;
SELECT '{"kind": "tags", "capacity": 16, "rows": 3, "error": 0, "terms": [["go", 1], ["go", 1]]}'::archive.termcounts;
SELECT '{"kind": "motifs", "capacity": 16, "rows": 3, "error": 0,
         "terms": [["test", "tests", 2], ["test", "testing", 2]]}'::archive.termcounts;
SELECT '{"kind": "tags", "capacity": 16, "rows": 1, "error": 2, "terms": []}'::archive.termcounts;
SELECT '{"kind": "motifs", "capacity": 16, "rows": 1, "error": 0, "terms": [["go", "", 1]]}'::archive.termcounts;
\set VERBOSITY default

-- Summaries per month, stored in a table, unioned: equal to one aggregate over
-- all rows, for tags and for title motifs.
CREATE TEMP TABLE sum_monthly AS
    SELECT month, archive.tag_counts_agg(tags) AS tag_summary, archive.title_terms_agg(title) AS title_summary
    FROM sum_posts GROUP BY month;
SELECT month, tag_summary FROM sum_monthly ORDER BY month;
SELECT (SELECT archive.termcounts_union_agg(tag_summary)::text FROM sum_monthly)
     = (SELECT archive.tag_counts_agg(tags)::text FROM sum_posts) AS tags_union_equal,
       (SELECT archive.termcounts_union_agg(title_summary)::text FROM sum_monthly)
     = (SELECT archive.title_terms_agg(title)::text FROM sum_posts) AS motifs_union_equal;
-- Rankings from the union equal the ranking aggregates over all rows.
SELECT (SELECT archive.top_terms(archive.termcounts_union_agg(title_summary), 5) FROM sum_monthly)::text
     = (SELECT archive.title_motifs(title, 5) FROM sum_posts)::text AS motif_ranking_equal,
       (SELECT archive.top_terms(archive.termcounts_union_agg(tag_summary), 5, ARRAY['go']) FROM sum_monthly)::text
     = (SELECT archive.tag_adjacency(tags, 5, ARRAY['go']) FROM sum_posts)::text
       AS tag_ranking_equal;
-- A union over NULLs only, or over no rows, is NULL; NULLs are skipped.
SELECT archive.termcounts_union_agg(s) IS NULL AS is_null FROM (VALUES (NULL::archive.termcounts)) v(s);
SELECT archive.termcounts_union_agg(tag_summary) IS NULL AS is_null FROM sum_monthly WHERE false;
SELECT archive.termcounts_union_agg(s)::text = (SELECT tag_summary::text FROM sum_monthly WHERE month = '2024-01-01')
FROM (SELECT NULL::archive.termcounts UNION ALL SELECT tag_summary FROM sum_monthly WHERE month = '2024-01-01') v(s);
-- A tag summary and a motif summary do not mix.
SELECT archive.termcounts_union_agg(s)
FROM (SELECT tag_summary FROM sum_monthly UNION ALL SELECT title_summary FROM sum_monthly) v(s);

-- A bounded summary.  At capacity 16 a summary prunes once it holds more than
-- 32 terms.  1200 posts: "hot-a" on every 2nd post (600), "hot-b" on every 3rd
-- (400), "hot-c" on every 5th (240), "mid-0" .. "mid-29" on every post in turn
-- (40 each) and a tag of its own on each post (1 each): 1233 distinct tags,
-- 600 + 400 + 240 + 1200 + 1200 = 3640 counts in all.
SHOW archive.summary_capacity;
SET archive.summary_capacity = 15;      -- below the minimum
SET archive.summary_capacity = 16;
CREATE TEMP TABLE sum_many AS
    SELECT i AS id,
           array_remove(ARRAY[CASE WHEN i % 2 = 0 THEN 'hot-a' END,
                              CASE WHEN i % 3 = 0 THEN 'hot-b' END,
                              CASE WHEN i % 5 = 0 THEN 'hot-c' END,
                              'mid-' || (i % 30),
                              'own-' || i], NULL) AS tags
    FROM generate_series(1, 1200) i;
CREATE TEMP TABLE sum_exact AS
    SELECT tag, count(*) AS count FROM sum_many, unnest(tags) AS tag GROUP BY tag;
CREATE TEMP TABLE sum_bounded AS SELECT archive.tag_counts_agg(tags) AS s FROM sum_many;
-- It pruned: max_error > 0, at most 2 * 16 terms are kept, and the error is
-- within the Misra-Gries bound (all counts) / (capacity + 1) = 3640 / 17 = 214.
SELECT archive.rows(s) AS rows,
       archive.max_error(s) > 0 AS pruned,
       archive.max_error(s) <= 3640 / 17 AS error_within_bound,
       (SELECT count(*) FROM archive.terms(s)) <= 32 AS terms_within_capacity,
       s::text LIKE '{"kind": "tags", "capacity": 16, %' AS capacity_kept
FROM sum_bounded;
-- Every kept count is at most the true count and at least true count - max_error;
-- every tag not kept occurs at most max_error times.  (No rows: no violation.)
SELECT e.tag, e.count AS true_count, t.count AS kept_count, archive.max_error(b.s) AS max_error
FROM sum_bounded b CROSS JOIN sum_exact e
LEFT JOIN LATERAL archive.terms(b.s) AS t ON t.term = e.tag
WHERE CASE WHEN t.term IS NULL THEN e.count > archive.max_error(b.s)
           ELSE NOT (t.count <= e.count AND e.count <= t.count + archive.max_error(b.s)) END;
-- The frequent tags are still found, in the right order: each of hot-a, hot-b
-- and hot-c occurs more than 214 times, so it cannot be pruned away.
SELECT r.term FROM sum_bounded, unnest(archive.top_terms(s, 3)) AS r;
-- Summaries of parts stay within the bounds when unioned (error adds up).
CREATE TEMP TABLE sum_bounded_parts AS
    SELECT archive.tag_counts_agg(tags) AS s FROM sum_many GROUP BY id % 4;
CREATE TEMP TABLE sum_bounded_union AS
    SELECT archive.termcounts_union_agg(s) AS s FROM sum_bounded_parts;
SELECT archive.rows(u.s) AS rows,
       archive.max_error(u.s) > 0 AS pruned,
       archive.max_error(u.s) <= (SELECT sum(archive.max_error(s)) FROM sum_bounded_parts) + 3640 / 17
           AS error_within_bound
FROM sum_bounded_union u;
SELECT e.tag, e.count AS true_count, t.count AS kept_count, archive.max_error(u.s) AS max_error
FROM sum_bounded_union u CROSS JOIN sum_exact e
LEFT JOIN LATERAL archive.terms(u.s) AS t ON t.term = e.tag
WHERE CASE WHEN t.term IS NULL THEN e.count > archive.max_error(u.s)
           ELSE NOT (t.count <= e.count AND e.count <= t.count + archive.max_error(u.s)) END;
SELECT r.term FROM sum_bounded_union, unnest(archive.top_terms(s, 3)) AS r;
-- A bounded summary's text form reads back equal.
SELECT s::text::archive.termcounts::text = s::text AS round_trip FROM sum_bounded;
RESET archive.summary_capacity;
SHOW archive.summary_capacity;
-- Unbounded again: exact, error 0, every count equal to the true count.
SELECT archive.max_error(s) AS max_error,
       (SELECT count(*) FROM sum_exact) = (SELECT count(*) FROM archive.terms(s)) AS all_kept
FROM (SELECT archive.tag_counts_agg(tags) AS s FROM sum_many) t;

-- Binary form.  archive.termcounts_send is an ordinary function; termcounts_recv
-- is reached through COPY ... FORMAT binary (see the span test): a bytea written
-- with COPY TO is the binary input of a termcounts column read back with COPY FROM.
CREATE FUNCTION pg_temp.termcounts_recv_text(flat bytea) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    CREATE TEMP TABLE termcounts_recv_tmp (s archive.termcounts);
    EXECUTE format('COPY (SELECT %L::bytea) TO PROGRAM %L WITH (FORMAT binary)',
                   flat, 'cat > /tmp/archive_regress_termcounts_$PPID.bin');
    EXECUTE format('COPY termcounts_recv_tmp FROM PROGRAM %L WITH (FORMAT binary)',
                   'exec 3< /tmp/archive_regress_termcounts_$PPID.bin && rm -f /tmp/archive_regress_termcounts_$PPID.bin && cat <&3');
    SELECT s::text INTO result FROM termcounts_recv_tmp;
    DROP TABLE termcounts_recv_tmp;
    RETURN result;
END
$$;
\set SHOW_CONTEXT never
SELECT pg_temp.termcounts_recv_text(archive.termcounts_send(s)) = s::text AS tags_binary_round_trip
FROM (SELECT archive.tag_counts_agg(tags) AS s FROM sum_posts) t;
SELECT pg_temp.termcounts_recv_text(archive.termcounts_send(s)) = s::text AS motifs_binary_round_trip
FROM (SELECT archive.title_terms_agg(title) AS s FROM sum_posts) t;

-- Corrupted binary input is refused (all edits are the same on either byte order).
-- Layout: 0 version, 1 kind, 2-3 reserved, 4-7 capacity, 8-15 rows, 16-23 error,
-- 24-27 nterms, then per term 8 bytes count, 4 bytes key length, the key.
-- The base: rows 3, terms "aa" 2, "ab" 1, "ac" 1, each 14 bytes (at offsets 28,
-- 42, 56; keys at 40, 54, 68): 70 bytes.
CREATE TEMP TABLE sum_flat AS
    SELECT archive.termcounts_send('{"kind": "tags", "capacity": 16, "rows": 3, "error": 0,
                                     "terms": [["aa", 2], ["ab", 1], ["ac", 1]]}') AS b;
SELECT length(b) AS bytes, pg_temp.termcounts_recv_text(b) AS base FROM sum_flat;
SELECT pg_temp.termcounts_recv_text(substr(b, 1, 27)) FROM sum_flat;                 -- too short
SELECT pg_temp.termcounts_recv_text(set_byte(b, 0, 2)) FROM sum_flat;                -- version
SELECT pg_temp.termcounts_recv_text(set_byte(b, 1, 3)) FROM sum_flat;                -- kind
SELECT pg_temp.termcounts_recv_text(set_byte(b, 1, 2)) FROM sum_flat;                -- tags read as motifs
SELECT pg_temp.termcounts_recv_text(set_byte(b, 3, 1)) FROM sum_flat;                -- reserved byte
SELECT pg_temp.termcounts_recv_text(overlay(b PLACING '\xffffffff' FROM 5 FOR 4)) FROM sum_flat;           -- capacity -1
SELECT pg_temp.termcounts_recv_text(overlay(b PLACING '\x7f7f7f7f' FROM 5 FOR 4)) FROM sum_flat;           -- capacity huge
SELECT pg_temp.termcounts_recv_text(overlay(b PLACING '\xffffffffffffffff' FROM 9 FOR 8)) FROM sum_flat;   -- rows -1
SELECT pg_temp.termcounts_recv_text(overlay(b PLACING '\x0000000000000000' FROM 9 FOR 8)) FROM sum_flat;   -- rows 0
SELECT pg_temp.termcounts_recv_text(overlay(b PLACING '\xffffffffffffffff' FROM 17 FOR 8)) FROM sum_flat;  -- error -1
SELECT pg_temp.termcounts_recv_text(overlay(b PLACING '\xffffffff' FROM 25 FOR 4)) FROM sum_flat;          -- nterms -1
SELECT pg_temp.termcounts_recv_text(overlay(b PLACING '\x7f7f7f7f' FROM 25 FOR 4)) FROM sum_flat;          -- nterms huge
SELECT pg_temp.termcounts_recv_text(overlay(b PLACING '\x00000000' FROM 25 FOR 4)) FROM sum_flat;          -- nterms 0
SELECT pg_temp.termcounts_recv_text(substr(b, 1, length(b) - 1)) FROM sum_flat;      -- last key cut
SELECT pg_temp.termcounts_recv_text(b || '\x00'::bytea) FROM sum_flat;               -- trailing byte
SELECT pg_temp.termcounts_recv_text(overlay(b PLACING '\xffffffffffffffff' FROM 29 FOR 8)) FROM sum_flat;  -- count -1
SELECT pg_temp.termcounts_recv_text(overlay(b PLACING '\xffffffff' FROM 37 FOR 4)) FROM sum_flat;          -- key length huge
SELECT pg_temp.termcounts_recv_text(overlay(b PLACING '\x00000000' FROM 37 FOR 4)) FROM sum_flat;          -- key length 0
SELECT pg_temp.termcounts_recv_text(set_byte(b, 41, 0)) FROM sum_flat;               -- NUL in a tag
SELECT pg_temp.termcounts_recv_text(set_byte(b, 41, 255)) FROM sum_flat;             -- not UTF-8
SELECT pg_temp.termcounts_recv_text(set_byte(b, 55, ascii('c'))) FROM sum_flat;      -- ab -> ac: ac twice, same count
SELECT pg_temp.termcounts_recv_text(set_byte(b, 55, ascii('a'))) FROM sum_flat;      -- ab -> aa: aa twice, other counts
-- the two terms of count 1 swapped (ac before ab)
SELECT pg_temp.termcounts_recv_text(substr(b, 1, 42) || substr(b, 57, 14) || substr(b, 43, 14)) FROM sum_flat;
\set SHOW_CONTEXT errors
RESET DateStyle;
