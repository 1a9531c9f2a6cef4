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
-- stems are whole: "test", "tests" and "tes" (stems that begin one another)
-- are three stems, each within rows; a second word of "test" puts it above
SELECT archive.rows('{"kind": "motifs", "capacity": 16, "rows": 3, "error": 0,
         "terms": [["test", "testing", 3], ["tests", "tests", 3], ["tes", "tes", 3]]}'::archive.termcounts);
SELECT archive.rows('{"kind": "motifs", "capacity": 16, "rows": 3, "error": 0,
         "terms": [["test", "testing", 2], ["tests", "tests", 3], ["tes", "tes", 3], ["test", "tested", 2]]}'::archive.termcounts);
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
-- The helper returns the value read, as text, or the error it raised: SQLSTATE,
-- message and detail.
CREATE FUNCTION pg_temp.termcounts_recv_text(wire bytea) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text;
    state text;
    message text;
    detail text;
BEGIN
    CREATE TEMP TABLE termcounts_recv_tmp (s archive.termcounts);
    EXECUTE format('COPY (SELECT %L::bytea) TO PROGRAM %L WITH (FORMAT binary)',
                   wire, 'cat > /tmp/archive_regress_termcounts_$PPID.bin');
    EXECUTE format('COPY termcounts_recv_tmp FROM PROGRAM %L WITH (FORMAT binary)',
                   'exec 3< /tmp/archive_regress_termcounts_$PPID.bin && rm -f /tmp/archive_regress_termcounts_$PPID.bin && cat <&3');
    SELECT s::text INTO result FROM termcounts_recv_tmp;
    DROP TABLE termcounts_recv_tmp;
    RETURN result;
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
    RETURN format('ERROR %s: %s (%s)', state, message, detail);
END
$$;
SELECT pg_temp.termcounts_recv_text(archive.termcounts_send(s)) = s::text AS tags_binary_round_trip
FROM (SELECT archive.tag_counts_agg(tags) AS s FROM sum_posts) t;
SELECT pg_temp.termcounts_recv_text(archive.termcounts_send(s)) = s::text AS motifs_binary_round_trip
FROM (SELECT archive.title_terms_agg(title) AS s FROM sum_posts) t;
-- A pruned summary too; and what is received sends the very bytes it came from.
SELECT archive.max_error(s) > 0 AS pruned,
       pg_temp.termcounts_recv_text(archive.termcounts_send(s)) = s::text AS pruned_binary_round_trip,
       archive.termcounts_send(pg_temp.termcounts_recv_text(archive.termcounts_send(s))::archive.termcounts)
       = archive.termcounts_send(s) AS sends_same_bytes
FROM sum_bounded;

-- The binary form is the same on every server: integers in network byte order
-- (big-endian), whatever the server's own.  By hand, field by field: version 2,
-- kind 1 (tags) or 2 (motifs), capacity 16 (00000010), rows 3, error 1, two
-- terms; each term its count, its key length, its key ("aa" 6161, "b" 62; a
-- motif key is stem, a NUL byte, word: "test" 74657374, 00, "tests").
SELECT encode(b, 'hex') AS wire,
       b = decode('02' || '01' || '00000010' || '0000000000000003' || '0000000000000001' || '00000002'
                  || '0000000000000002' || '00000002' || '6161'
                  || '0000000000000001' || '00000001' || '62', 'hex') AS big_endian
FROM (SELECT archive.termcounts_send('{"kind": "tags", "capacity": 16, "rows": 3, "error": 1,
                                      "terms": [["aa", 2], ["b", 1]]}') AS b) t;
SELECT encode(b, 'hex') AS wire,
       b = decode('02' || '02' || '00000010' || '0000000000000002' || '0000000000000000' || '00000001'
                  || '0000000000000002' || '0000000a' || '74657374' || '00' || '7465737473', 'hex') AS big_endian
FROM (SELECT archive.termcounts_send('{"kind": "motifs", "capacity": 16, "rows": 2, "error": 0,
                                      "terms": [["test", "tests", 2]]}') AS b) t;

-- Malformed binary input is refused with invalid_binary_representation (22P03),
-- never read as another value.  Layout (offsets from 0): 0 version, 1 kind,
-- 2-5 capacity, 6-13 rows, 14-21 error, 22-25 nterms, then per term 8 bytes
-- count, 4 bytes key length, the key.  The base: rows 3, terms "aa" 2, "ab" 1,
-- "ac" 1, each 14 bytes (at offsets 26, 40, 54; keys at 38, 52, 66): 68 bytes.
CREATE TEMP TABLE sum_wire AS
    SELECT archive.termcounts_send('{"kind": "tags", "capacity": 16, "rows": 3, "error": 0,
                                     "terms": [["aa", 2], ["ab", 1], ["ac", 1]]}') AS b;
SELECT length(b) AS bytes, pg_temp.termcounts_recv_text(b) AS base FROM sum_wire;
SELECT c.edit, pg_temp.termcounts_recv_text(c.bytes) AS received
FROM sum_wire, LATERAL (VALUES
    ('empty', '\x'::bytea),
    ('cut in the header', substr(b, 1, 25)),
    ('version 1 (the old native-order form)', set_byte(b, 0, 1)),
    ('version 3', set_byte(b, 0, 3)),
    ('kind 3', set_byte(b, 1, 3)),
    ('tags read as motifs', set_byte(b, 1, 2)),
    ('capacity -1', overlay(b PLACING '\xffffffff' FROM 3 FOR 4)),
    ('capacity 15', overlay(b PLACING '\x0000000f' FROM 3 FOR 4)),
    ('capacity 2^31 - 1', overlay(b PLACING '\x7fffffff' FROM 3 FOR 4)),
    ('capacity in native order (16 little-endian)', overlay(b PLACING '\x10000000' FROM 3 FOR 4)),
    ('rows -1', overlay(b PLACING '\xffffffffffffffff' FROM 7 FOR 8)),
    ('rows 0', overlay(b PLACING '\x0000000000000000' FROM 7 FOR 8)),
    ('error -1', overlay(b PLACING '\xffffffffffffffff' FROM 15 FOR 8)),
    ('error 4, above rows', overlay(b PLACING '\x0000000000000004' FROM 15 FOR 8)),
    ('nterms -1', overlay(b PLACING '\xffffffff' FROM 23 FOR 4)),
    ('nterms 2^31 - 1', overlay(b PLACING '\x7fffffff' FROM 23 FOR 4)),
    ('nterms 4', overlay(b PLACING '\x00000004' FROM 23 FOR 4)),
    ('nterms 2', overlay(b PLACING '\x00000002' FROM 23 FOR 4)),
    ('nterms 0', overlay(b PLACING '\x00000000' FROM 23 FOR 4)),
    ('last key cut', substr(b, 1, length(b) - 1)),
    ('a byte after the last term', b || '\x00'::bytea),
    ('count -1', overlay(b PLACING '\xffffffffffffffff' FROM 27 FOR 8)),
    ('count 4, above rows', overlay(b PLACING '\x0000000000000004' FROM 27 FOR 8)),
    ('key length 2^32 - 1', overlay(b PLACING '\xffffffff' FROM 35 FOR 4)),
    ('key length 0', overlay(b PLACING '\x00000000' FROM 35 FOR 4)),
    ('key length 3', overlay(b PLACING '\x00000003' FROM 35 FOR 4)),
    ('NUL in a tag', set_byte(b, 38, 0)),
    ('not UTF-8', set_byte(b, 38, 255)),
    ('upper case', set_byte(b, 38, ascii('A'))),
    ('ab -> ac: ac twice, same count', set_byte(b, 53, ascii('c'))),
    ('ab -> aa: aa twice, other counts', set_byte(b, 53, ascii('a'))),
    ('the two terms of count 1 swapped', substr(b, 1, 40) || substr(b, 55, 14) || substr(b, 41, 14))
) AS c(edit, bytes);
-- A motif term on the wire: stem, NUL, word ("go" NUL "going" at offsets
-- 38-45); a byte above ASCII sends the key to the encoding check, so a
-- word with one that is valid reads back as it was.
CREATE TEMP TABLE motif_wire AS
    SELECT archive.termcounts_send('{"kind": "motifs", "capacity": 16, "rows": 1, "error": 0,
                                     "terms": [["go", "going", 1]]}') AS b;
SELECT c.edit, pg_temp.termcounts_recv_text(c.bytes) AS received
FROM motif_wire, LATERAL (VALUES
    ('as sent', b),
    ('a second NUL in the word', set_byte(b, 43, 0)),
    ('NUL first', set_byte(b, 38, 0)),
    ('stem not UTF-8', set_byte(b, 38, 255)),
    ('word not UTF-8', set_byte(b, 45, 255))
) AS c(edit, bytes);
SELECT pg_temp.termcounts_recv_text(archive.termcounts_send(s)) = s::text AS non_ascii_round_trip
FROM (VALUES ('{"kind": "motifs", "capacity": 16, "rows": 1, "error": 0, "terms": [["caf\u00e9", "caf\u00e9s", 1]]}'::archive.termcounts),
             ('{"kind": "tags", "capacity": 16, "rows": 1, "error": 0, "terms": [["caf\u00e9", 1]]}'::archive.termcounts)) AS v(s);
RESET DateStyle;

-- termcounts_subtract: the inverse of a union, where it is exact.  Taking a
-- part out of the union gives the other part, term for term (a term whose
-- count falls to 0 leaves); a removed summary that is not part of the first,
-- or a pruned summary on either side, gives NULL; kinds never mix.
WITH parts AS (
    SELECT archive.tag_counts_agg(t) FILTER (WHERE n <= 2) AS a,
           archive.tag_counts_agg(t) FILTER (WHERE n > 2) AS b
    FROM (VALUES (1, '{go,db}'::text[]), (2, '{go}'), (3, '{go,web}'), (4, '{}')) AS v(n, t)
)
SELECT archive.termcounts_subtract(u, b)::text = a::text AS union_less_b_is_a,
       archive.termcounts_subtract(u, a)::text = b::text AS union_less_a_is_b,
       archive.termcounts_subtract(u, a)::text AS b,
       archive.termcounts_subtract(a, b) IS NULL AS not_a_part,
       archive.termcounts_subtract(u, u)::text AS nothing_left
FROM parts, LATERAL (SELECT archive.termcounts_union_agg(x) FROM (VALUES (a), (b)) AS s(x)) AS un(u);
SELECT archive.termcounts_subtract(archive.title_terms_agg(t),
                                   (SELECT archive.title_terms_agg('Testing the Tests')))::text AS motifs_left
FROM (VALUES ('Testing the Tests'), ('Tests that run')) AS v(t);
SET archive.summary_capacity = 16;
SELECT archive.max_error(s) > 0 AS pruned,
       archive.termcounts_subtract(s, (SELECT archive.tag_counts_agg(ARRAY['t1']))) IS NULL AS pruned_gives_null
FROM (SELECT archive.tag_counts_agg(ARRAY['t' || i]) AS s FROM generate_series(1, 40) AS i) AS p;
RESET archive.summary_capacity;
SELECT archive.termcounts_subtract(archive.tag_counts_agg(ARRAY['go']), archive.title_terms_agg('go'));
-- Rows taken out that were not part of the summary can pass the term by term
-- test and still leave a term counted in more rows than are left: NULL, not a
-- summary that could not be read back.
SELECT archive.termcounts_subtract(archive.tag_counts_agg(t),
                                   (SELECT archive.tag_counts_agg(x) FROM (VALUES ('{go}'::text[]), ('{}')) AS v(x))) IS NULL AS tags_not_a_part,
       archive.termcounts_subtract(archive.title_terms_agg(t[1]),
                                   (SELECT archive.title_terms_agg(x) FROM (VALUES ('Go'), ('The')) AS v(x))) IS NULL AS titles_not_a_part
FROM (VALUES ('{go}'::text[]), ('{go}'), ('{Go}')) AS p(t);

-- termcounts_union: what termcounts_union_agg gives over a then b, a NULL one
-- left out; nested, what it gives over three.  At capacity 16, on parts of
-- sum_many, the unions prune (the order of merges then matters).
SET archive.summary_capacity = 16;
CREATE TEMP TABLE union_parts AS
    SELECT id % 3 AS part, archive.tag_counts_agg(tags) AS s FROM sum_many GROUP BY 1;
SELECT bool_and(archive.termcounts_union(a.s, b.s)::text =
                (SELECT archive.termcounts_union_agg(v.x)::text FROM (VALUES (a.s), (b.s)) AS v(x))) AS pairs_as_union_agg,
       bool_and(archive.max_error(archive.termcounts_union(a.s, b.s)) > 0) AS pruned,
       count(*) AS pairs
FROM union_parts AS a CROSS JOIN union_parts AS b;
SELECT archive.termcounts_union(archive.termcounts_union(p0.s, p1.s), p2.s)::text =
       (SELECT archive.termcounts_union_agg(v.x)::text FROM (VALUES (p0.s), (p1.s), (p2.s)) AS v(x)) AS three_as_union_agg,
       archive.termcounts_union(p0.s, NULL)::text = (SELECT archive.termcounts_union_agg(v.x) FROM (VALUES (p0.s)) AS v(x))::text AS null_b_left_out,
       archive.termcounts_union(NULL, p1.s)::text = (SELECT archive.termcounts_union_agg(v.x) FROM (VALUES (p1.s)) AS v(x))::text AS null_a_left_out,
       archive.termcounts_union(NULL, NULL) IS NULL AS both_null
FROM union_parts AS p0, union_parts AS p1, union_parts AS p2
WHERE p0.part = 0 AND p1.part = 1 AND p2.part = 2;
RESET archive.summary_capacity;
SELECT archive.termcounts_union(archive.tag_counts_agg(ARRAY['go', 'db']), archive.tag_counts_agg(ARRAY['go']))::text AS exact;
SELECT archive.termcounts_union(archive.tag_counts_agg(ARRAY['go']), archive.title_terms_agg('go'));
-- A union that does not prune is made in one pass over the larger summary,
-- sorting only the terms the smaller one touches; it must give the bytes of
-- termcounts_union_agg all the same: every pair of five parts of sum_many,
-- tags and title words, a summary with itself; at capacity 16, the largest
-- union that does not prune (32 terms) and the smallest that does (33).
CREATE TEMP TABLE exact_parts AS
    SELECT id % 5 AS part, archive.tag_counts_agg(tags) AS tags,
           archive.title_terms_agg(format('Testing %s tests, %s runs and run %s', id % 7, id % 11, id)) AS titles
    FROM sum_many GROUP BY 1;
SELECT bool_and(archive.termcounts_union(a.tags, b.tags)::text =
                (SELECT archive.termcounts_union_agg(v.x)::text FROM (VALUES (a.tags), (b.tags)) AS v(x))) AS tag_pairs_as_union_agg,
       bool_and(archive.termcounts_union(a.titles, b.titles)::text =
                (SELECT archive.termcounts_union_agg(v.x)::text FROM (VALUES (a.titles), (b.titles)) AS v(x))) AS title_pairs_as_union_agg,
       bool_and(archive.max_error(archive.termcounts_union(a.tags, b.tags)) = 0
                AND archive.max_error(archive.termcounts_union(a.titles, b.titles)) = 0) AS exact,
       count(*) AS pairs
FROM exact_parts AS a CROSS JOIN exact_parts AS b;
-- (and termcounts_subtract, in the same pass: a part taken out of the union of
-- all five is the union of the other four)
SELECT bool_and(archive.termcounts_subtract(w.tags, p.tags)::text =
                (SELECT archive.termcounts_union_agg(o.tags)::text FROM exact_parts AS o WHERE o.part <> p.part)) AS tags_less_a_part,
       bool_and(archive.termcounts_subtract(w.titles, p.titles)::text =
                (SELECT archive.termcounts_union_agg(o.titles)::text FROM exact_parts AS o WHERE o.part <> p.part)) AS titles_less_a_part
FROM exact_parts AS p,
     (SELECT archive.termcounts_union_agg(tags) AS tags, archive.termcounts_union_agg(titles) AS titles FROM exact_parts) AS w;
SET archive.summary_capacity = 16;
SELECT n_b, archive.max_error(u) AS error, jsonb_array_length(u::text::jsonb -> 'terms') AS terms,
       u::text = (SELECT archive.termcounts_union_agg(v.x)::text FROM (VALUES (a), (b)) AS v(x)) AS as_union_agg
FROM (VALUES (16), (17)) AS n(n_b),
     LATERAL (SELECT archive.tag_counts_agg(ARRAY['a' || i, 'shared']) AS a FROM generate_series(1, 15) AS i) AS pa,
     LATERAL (SELECT archive.tag_counts_agg(ARRAY['b' || i] || CASE WHEN i = 1 THEN ARRAY['shared'] END) AS b
              FROM generate_series(1, n.n_b) AS i) AS pb,
     LATERAL (SELECT archive.termcounts_union(pa.a, pb.b) AS u) AS un
ORDER BY n_b;
RESET archive.summary_capacity;

-- archive.motif_figures_agg: a topic's title motifs from its months' title
-- summaries, the same jsonb as the SQL way (each half's months unioned in month
-- order, archive.top_terms and archive.half_motifs over the unions), whatever
-- order the months come in; at capacity 16 too, where the unions prune.
CREATE TEMP TABLE motif_posts AS
SELECT 'topic-' || (i % 3) AS topic,
       CASE WHEN i % 11 = 0 THEN NULL ELSE timestamptz '2020-01-01 00:00:00+00' + (i % 37) * interval '20 days' END AS at,
       (ARRAY['Testing', 'Generics', 'Modules', 'Fuzzing', 'Errors'])[1 + i % 5] || ' ' ||
       (ARRAY['in practice', 'revisited', 'for beginners', 'at scale'])[1 + (i / 5) % 4] || ' ' ||
       CASE WHEN i % 37 > 20 THEN 'workspaces' ELSE 'tooling' END || ' word' || (i % 40) AS title
FROM generate_series(1, 240) AS i;
CREATE TEMP VIEW motif_figures_both AS
WITH months AS (
    SELECT topic, archive.month_of(at) AS month, count(*)::integer AS posts, archive.title_terms_agg(title) AS titles
    FROM motif_posts GROUP BY 1, 2
),
windowed AS (
    SELECT m.*, coalesce(sum(posts) FILTER (WHERE month <> '-infinity')
                             OVER (PARTITION BY topic ORDER BY month ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before,
           sum(posts) FILTER (WHERE month <> '-infinity') OVER (PARTITION BY topic) AS dated
    FROM months AS m
),
halves AS (
    SELECT topic,
           archive.termcounts_union_agg(titles ORDER BY month) FILTER (WHERE month <> '-infinity' AND before * 2 < dated) AS e,
           archive.termcounts_union_agg(titles ORDER BY month) FILTER (WHERE month <> '-infinity' AND before * 2 >= dated) AS r,
           archive.termcounts_union_agg(titles) FILTER (WHERE month = '-infinity') AS u
    FROM windowed GROUP BY topic
),
plain AS (
    SELECT h.topic, jsonb_build_object(
               'title_motifs', coalesce((SELECT jsonb_agg(to_jsonb(t)) FROM unnest(archive.top_terms(w.whole, 6)) AS t
                                         WHERE t.count >= 2), '[]'),
               'early_motifs', coalesce(archive.half_motifs(h.e, h.r, w.whole, 3), '[]'),
               'recent_motifs', coalesce(archive.half_motifs(h.r, h.e, w.whole, 3), '[]')) AS figures,
           archive.max_error(w.whole) > 0 AS pruned
    FROM halves AS h, LATERAL (SELECT archive.termcounts_union(archive.termcounts_union(h.e, h.r), h.u) AS whole) AS w
),
built AS (
    SELECT topic, archive.motif_figures_agg(month, posts, titles, 6, 3 ORDER BY random()) AS figures
    FROM months GROUP BY topic
)
SELECT p.topic, b.figures, p.figures AS plain, p.pruned FROM plain AS p JOIN built AS b USING (topic);
SELECT topic, figures = plain AS same_as_sql, pruned,
       jsonb_array_length(figures -> 'title_motifs') AS motifs,
       jsonb_array_length(figures -> 'early_motifs') AS early, jsonb_array_length(figures -> 'recent_motifs') AS recent
FROM motif_figures_both ORDER BY topic;
SELECT figures FROM motif_figures_both WHERE topic = 'topic-0';
SET archive.summary_capacity = 16;
SELECT topic, figures = plain AS same_as_sql_at_16, pruned FROM motif_figures_both ORDER BY topic;
RESET archive.summary_capacity;
-- undated posts only: no halves; rows with a NULL are left out; no rows: NULL
SELECT archive.motif_figures_agg('-infinity', 2, s, 6, 3)::text AS undated_only
FROM (SELECT archive.title_terms_agg(t) AS s FROM (VALUES ('Fuzzing at scale'), ('Fuzzing in practice')) AS v(t)) AS x;
SELECT archive.motif_figures_agg(m, p, s, 6, 3)::text AS nulls_left_out
FROM (VALUES (NULL::date, 2, (SELECT archive.title_terms_agg('Fuzzing'))),
             ('2020-01-01', NULL, (SELECT archive.title_terms_agg('Fuzzing'))),
             ('2020-01-01', 2, NULL),
             ('2020-02-01', 2, (SELECT archive.title_terms_agg(t) FROM (VALUES ('Generics'), ('Generics again')) AS w(t)))) AS v(m, p, s);
SELECT archive.motif_figures_agg(current_date, 1, (SELECT archive.title_terms_agg('x')), 6, 3) IS NULL AS no_rows_null WHERE false;
SELECT archive.motif_figures_agg(current_date, 1, (SELECT archive.tag_counts_agg(ARRAY['go'])), 6, 3);
SELECT archive.motif_figures_agg(current_date, 1, (SELECT archive.title_terms_agg('x')), 0, 3);
SELECT archive.motif_figures_agg(current_date, 1, (SELECT archive.title_terms_agg('x')), 6, NULL);

-- archive.references_agg: the reference lists of archive.topic_months, the
-- same jsonb as the plain-SQL way, in any time zone, with NULL fields, ties
-- on the date (key descending) and undated posts (last).
CREATE TEMP TABLE ref_posts (key text, title text, url text, summary text, tags text[], published_at timestamptz);
INSERT INTO ref_posts VALUES
    ('b', 'Second', 'https://example.org/b', 'Same day as c.', ARRAY['go', 'tools'], '2024-01-05 10:00+00'),
    ('c', 'Third', 'https://example.org/c', NULL, ARRAY['go'], '2024-01-05 10:00+00'),
    ('a', 'Fïrst "quoted"', NULL, 'Oldest.', '{}', '2023-12-31 23:59:59.5+00'),
    ('d', NULL, 'https://example.org/d', 'Undated.', ARRAY['go', NULL], NULL),
    ('e', 'Untagged', 'https://example.org/e', 'No tags.', NULL, NULL);
SELECT jsonb_pretty(archive.references_agg(key, title, url, summary, tags, published_at)) FROM ref_posts;
CREATE TEMP VIEW plain_refs AS
SELECT jsonb_agg(jsonb_build_object('key', key, 'title', title, 'url', url, 'summary', summary,
                                    'tags', to_jsonb(tags), 'published_at', published_at)
                 ORDER BY published_at DESC NULLS LAST, key DESC) AS plain,
       archive.references_agg(key, title, url, summary, tags, published_at) AS built
FROM ref_posts;
SELECT built = plain AS same_as_plain_sql, built::text = plain::text AS same_text,
       built -> 0 ->> 'title' AS newest_title, built -> 2 -> 'tags' AS oldest_tags FROM plain_refs;
SET TimeZone = 'Asia/Kolkata';
SELECT built = plain AS same_as_plain_sql_in_kolkata, built -> 2 ->> 'published_at' AS oldest_published_at FROM plain_refs;
RESET TimeZone;
-- as a window aggregate, the final function runs on each growing frame
SELECT key, jsonb_path_query_array(archive.references_agg(key, title, url, summary, tags, published_at)
                                        OVER (ORDER BY key), '$[*].key') AS frame_keys_newest_first
FROM ref_posts ORDER BY key;
SELECT archive.references_agg(key, title, url, summary, tags, published_at) IS NULL AS no_rows_null
FROM ref_posts WHERE false;
SELECT archive.references_agg('k', 't', 'u', 's', ARRAY[['a'], ['b']], now());

-- archive.reading_refs_agg: a page's references and reading path from its
-- months' lists (built by archive.references_agg), whatever order the months
-- come in.
CREATE TEMP TABLE ref_months AS
SELECT coalesce(date_trunc('month', published_at AT TIME ZONE 'UTC')::date, '-infinity') AS month,
       archive.references_agg(key, title, url, summary, tags, published_at) AS refs
FROM ref_posts GROUP BY 1;
SELECT month, jsonb_path_query_array(refs, '$[*].key') AS keys FROM ref_months ORDER BY month;
SELECT r -> 'newest' ->> 'key' AS newest, r -> 'central' ->> 'key' AS central, r -> 'oldest' ->> 'key' AS oldest,
       jsonb_path_query_array(r -> 'references', '$[*].title') AS references_titles,
       jsonb_path_query_array(r -> 'references', '$[*].key') AS references_keys
FROM (SELECT archive.reading_refs_agg(month, refs, ARRAY['tools', 'go'], 4 ORDER BY random()) AS r FROM ref_months) AS a;
-- the newest and oldest are never the central post; without tags sought, or
-- none carried, there is none
SELECT r -> 'central' ->> 'key' AS central_tools_only
FROM (SELECT archive.reading_refs_agg(month, refs, ARRAY['tools'], 10) AS r FROM ref_months) AS a;
SELECT r -> 'central' AS central_none_sought, jsonb_array_length(r -> 'references') AS listed
FROM (SELECT archive.reading_refs_agg(month, refs, NULL, 0) AS r FROM ref_months) AS a;
SELECT r -> 'central' AS central_none_carried
FROM (SELECT archive.reading_refs_agg(month, refs, ARRAY['rust'], 10) AS r FROM ref_months) AS a;
-- one dated post: it is the newest, and there is no oldest; undated posts only:
-- no newest, no oldest
SELECT r -> 'newest' ->> 'key' AS newest, r -> 'oldest' AS oldest, r -> 'central' ->> 'key' AS central
FROM (SELECT archive.reading_refs_agg(month, refs, ARRAY['go'], 10) AS r
      FROM ref_months WHERE month IN ('2023-12-01', '-infinity')) AS a;
SELECT r -> 'newest' AS newest, r -> 'oldest' AS oldest, r -> 'central' ->> 'key' AS central
FROM (SELECT archive.reading_refs_agg(month, refs, ARRAY['go'], 10) AS r
      FROM ref_months WHERE month = '-infinity') AS a;
-- as a window aggregate, the final function runs on each growing frame
SELECT month, r -> 'newest' ->> 'key' AS newest, r -> 'central' ->> 'key' AS central,
       r -> 'oldest' ->> 'key' AS oldest
FROM (SELECT month, archive.reading_refs_agg(month, refs, ARRAY['go'], 10) OVER (ORDER BY month) AS r
      FROM ref_months) AS w
ORDER BY month;
SELECT archive.reading_refs_agg(month, refs, NULL, -1) FROM ref_months;

-- archive.references_merge: a list less some keys plus another list, in list
-- order, the same as sorting the elements in SQL; with its count and span (as
-- archive.topic_span gives it) and the posts it dropped.
CREATE TEMP TABLE ref_lists AS
SELECT archive.references_agg(key, title, url, summary, tags, published_at) FILTER (WHERE key IN ('a', 'b', 'e')) AS refs,
       archive.references_agg(key, title || ' (new)', url, summary, tags, published_at + interval '1 day')
           FILTER (WHERE key IN ('b', 'c', 'd')) AS added
FROM ref_posts;
SELECT jsonb_path_query_array(m.merged, '$[*].title') AS merged_titles, m.posts,
       jsonb_path_query_array(m.dropped, '$[*].key') AS dropped_keys
FROM ref_lists, archive.references_merge(refs, ARRAY['b', 'x'], added) AS m;
SELECT m.merged = (SELECT jsonb_agg(e.ref ORDER BY (e.ref ->> 'published_at')::timestamptz DESC NULLS LAST, e.ref ->> 'key' DESC)
                   FROM (SELECT r FROM jsonb_array_elements(refs) AS r WHERE r ->> 'key' <> 'b'
                         UNION ALL SELECT jsonb_array_elements(added)) AS e(ref)) AS same_as_plain_sql,
       m.posts = jsonb_array_length(m.merged) AS posts_counted,
       m.span::text = (SELECT archive.topic_span((e.ref ->> 'published_at')::timestamptz)::text
                       FROM jsonb_array_elements(m.merged) AS e(ref)) AS span_as_topic_span,
       m.dropped = (SELECT jsonb_agg(r) FROM jsonb_array_elements(refs) AS r WHERE r ->> 'key' = 'b') AS dropped_as_listed
FROM ref_lists, archive.references_merge(refs, ARRAY['b'], added) AS m;
SELECT (archive.references_merge(refs, NULL, NULL)).merged = refs AS nothing_removed_nothing_added,
       (archive.references_merge(refs, NULL, NULL)).dropped IS NULL AS nothing_dropped,
       (archive.references_merge(NULL, NULL, added)).merged = added AS only_added,
       (archive.references_merge(refs, ARRAY['a', 'b', 'e'], NULL)).merged IS NULL AS all_removed_null,
       (archive.references_merge(refs, ARRAY['a', 'b', 'e'], NULL)).posts AS all_removed_posts,
       (archive.references_merge(refs, ARRAY['a', 'b', 'e'], NULL)).span IS NULL AS all_removed_no_span,
       jsonb_array_length((archive.references_merge(refs, ARRAY['a', 'b', 'e'], NULL)).dropped) AS all_dropped
FROM ref_lists;
SELECT archive.references_merge('[{"key": "k", "published_at": 20240101}]', NULL, NULL);
-- A reference's time, in the form to_jsonb gives a timestamptz (read directly)
-- and in others the cast reads (read by the cast), sorts and spans as SQL reads
-- it: offsets east and west, fractions, leap days, the years' ends, and forms
-- left to the cast (a space, Z, no offset, seven digits of fraction, an offset
-- of 15 hours, 24:00:00).
CREATE TEMP TABLE ref_times AS
SELECT 'k' || lpad(n::text, 2, '0') AS key, t
FROM unnest(ARRAY['2024-02-29T23:59:59.999999+00:00', '2024-03-01T05:29:59.5+05:30',
                  '2024-02-29T14:00:00-09:30', '2024-03-01 00:00:01 UTC', '2024-03-01T00:00:02Z',
                  '2000-01-01T00:00:00+14:00', '1999-12-31T10:00:00.000001-00:00',
                  '0001-01-01T00:00:00+00:00', '9999-12-31T23:59:59+00:00',
                  '2024-03-01T00:00:03.1234567+00:00', '2024-06-01T12:00:00+15:00',
                  '2024-06-01T24:00:00+00:00', '2024-03-02T00:00:00', '1970-01-01T00:00:00.25-12:45'])
     WITH ORDINALITY AS x(t, n);
SELECT jsonb_path_query_array(m.merged, '$[*].key') =
           (SELECT jsonb_agg(key ORDER BY t::timestamptz DESC, key DESC) FROM ref_times) AS sorted_as_sql,
       m.span::text = (SELECT archive.topic_span(t::timestamptz)::text FROM ref_times) AS span_as_sql,
       archive.first_published(m.span) = (SELECT min(t::timestamptz) FROM ref_times) AS first_as_sql
FROM (SELECT jsonb_agg(jsonb_build_object('key', key, 'published_at', t)) AS refs FROM ref_times) AS r,
     archive.references_merge(r.refs, NULL, NULL) AS m;
SELECT archive.references_merge('[{"key": "k", "published_at": "2023-02-29T00:00:00+00:00"}]', NULL, NULL);
