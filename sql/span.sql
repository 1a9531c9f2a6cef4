--
-- span: archive.topic_span, archive.span_union_agg and the type archive.span
-- (text and binary forms, accessors, checks on input).
--
-- pg_regress runs with TimeZone PST8PDT; start from UTC so that the times
-- shown by the accessors read the same as the UTC text form.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

CREATE TEMP TABLE span_posts (
    id int PRIMARY KEY,
    topic text NOT NULL,
    published_at timestamptz
);
INSERT INTO span_posts VALUES
    -- go: three months with posts, one undated post
    (1, 'go', '2020-01-05 10:00:00+00'),
    (2, 'go', '2020-01-31 23:30:00+00'),
    (3, 'go', '2020-02-01 02:00:00+00'),    -- 2020-01-31 21:00 in New York, February in UTC
    (4, 'go', '2020-04-30 22:00:00-05'),    -- 2020-05-01 03:00 UTC: May, not April
    (5, 'go', NULL),
    -- db: every post in one month, fractional seconds kept
    (6, 'db', '2021-06-15 12:00:00+00'),
    (7, 'db', '2021-06-01 00:00:00.5+00'),
    (8, 'db', '2021-06-30 23:59:59.999999+00'),
    -- drafts: only undated posts
    (9, 'drafts', NULL),
    (10, 'drafts', NULL);

-- Expected by hand:
--   go:     5 posts, 1 undated, first 2020-01-05 10:00, last 2020-05-01 03:00 (post 4),
--           months 2020-01: 2 (posts 1, 2), 2020-02: 1 (post 3), 2020-05: 1 (post 4)
--   db:     3 posts, 0 undated, first 06-01 00:00:00.5, last 06-30 23:59:59.999999, 2021-06: 3
--   drafts: 2 posts, 2 undated, no first or last, no months
SELECT topic, archive.topic_span(published_at) AS span
FROM span_posts GROUP BY topic ORDER BY topic;

-- The accessors.
SELECT topic,
       archive.posts(s) AS posts,
       archive.undated_posts(s) AS undated,
       archive.first_published(s) AS first,
       archive.last_published(s) AS last
FROM (SELECT topic, archive.topic_span(published_at) AS s FROM span_posts GROUP BY topic) t
ORDER BY topic;

SELECT topic, m.month, m.posts
FROM (SELECT topic, archive.topic_span(published_at) AS s FROM span_posts GROUP BY topic) t,
     archive.posts_per_month(s) AS m
ORDER BY topic, m.month;

-- The months agree with plain SQL over the dated posts in UTC (no rows: no difference).
SELECT topic, month, posts FROM (
    SELECT topic, m.month, m.posts
    FROM (SELECT topic, archive.topic_span(published_at) AS s FROM span_posts GROUP BY topic) t,
         archive.posts_per_month(s) AS m
    EXCEPT
    SELECT topic, date_trunc('month', published_at AT TIME ZONE 'UTC')::date, count(*)
    FROM span_posts WHERE published_at IS NOT NULL GROUP BY 1, 2
) d;

-- A group of undated posts only: posts_per_month is empty, first and last NULL.
SELECT count(*) AS months
FROM archive.posts_per_month((SELECT archive.topic_span(published_at) FROM span_posts WHERE topic = 'drafts'));

-- No input rows at all: the aggregate is NULL, and so are the (strict) accessors.
SELECT archive.topic_span(published_at) IS NULL AS is_null,
       archive.posts(archive.topic_span(published_at)) AS posts
FROM span_posts WHERE false;
-- With GROUP BY there is simply no group.
SELECT topic, archive.topic_span(published_at) FROM span_posts WHERE false GROUP BY topic;

-- Months are UTC months whatever the session time zone: the spans are equal,
-- as text, to the ones computed in UTC.
CREATE TEMP TABLE span_utc AS
    SELECT topic, archive.topic_span(published_at)::text AS span FROM span_posts GROUP BY topic;
SET TimeZone = 'America/New_York';
SELECT topic, s.span::text = u.span AS same_as_utc
FROM (SELECT topic, archive.topic_span(published_at) AS span FROM span_posts GROUP BY topic) s
JOIN span_utc u USING (topic) ORDER BY topic;
-- ... while a local-time date_trunc would put post 3 in January and post 4 in April.
SELECT id, date_trunc('month', published_at)::date AS local_month,
       date_trunc('month', published_at AT TIME ZONE 'UTC')::date AS utc_month
FROM span_posts WHERE id IN (3, 4) ORDER BY id;
SELECT m.month, m.posts
FROM archive.posts_per_month((SELECT archive.topic_span(published_at) FROM span_posts WHERE topic = 'go')) AS m;
SET TimeZone = 'Pacific/Kiritimati';    -- UTC+14
SELECT topic, s.span::text = u.span AS same_as_utc
FROM (SELECT topic, archive.topic_span(published_at) AS span FROM span_posts GROUP BY topic) s
JOIN span_utc u USING (topic) ORDER BY topic;
-- The text form is in UTC too; accessors return timestamptz, shown in the session's zone.
SELECT archive.first_published(s) AS first, archive.first_published(s) = '2020-01-05 10:00:00+00' AS same_instant
FROM (SELECT archive.topic_span(published_at) AS s FROM span_posts WHERE topic = 'go') t;
SET TimeZone = 'UTC';

-- Text output and input round trip.
SELECT topic, s::text::archive.span::text = s::text AS round_trip
FROM (SELECT topic, archive.topic_span(published_at) AS s FROM span_posts GROUP BY topic) t
ORDER BY topic;
-- Times far from today round trip too: BC times (the zone is written before
-- " BC"), and the ends of the timestamptz range.  Month keys count years
-- astronomically: "0000-12" is December 1 BC, "-043-03" is March 44 BC.
SELECT s, s::text::archive.span::text = s::text AS round_trip
FROM (SELECT archive.topic_span(t) AS s
      FROM (VALUES ('0044-03-15 12:00:00+00 BC'::timestamptz), ('0001-12-31 23:59:59.5+00 BC'),
                   ('0001-01-01 00:00:00+00')) v(t)) x;
SELECT s, s::text::archive.span::text = s::text AS round_trip
FROM (SELECT archive.topic_span(t) AS s
      FROM (VALUES ('4713-11-24 00:00:00+00 BC'::timestamptz), ('294276-12-31 23:59:59.999999+00')) v(t)) x;
-- Input is read as JSON: white space, key order and a time with another offset
-- are accepted, and the value is printed in the canonical form.
SELECT '{ "months": [["2020-01", 1], ["2020-03", 2]], "last": "2020-03-09T12:00:00+02:00",
          "first": "2020-01-02T00:00:00Z", "undated": 4, "posts": 7 }'::archive.span;

-- Invalid text input.
SELECT '{"posts": 1,'::archive.span;                         -- not JSON
SELECT '[1, 2]'::archive.span;                               -- not an object
SELECT '{"undated": 0, "first": null, "last": null, "months": []}'::archive.span;   -- posts missing
SELECT '{"posts": "2", "undated": 0, "first": null, "last": null, "months": []}'::archive.span;
SELECT '{"posts": 1.5, "undated": 0, "first": null, "last": null, "months": []}'::archive.span;
SELECT '{"posts": -1, "undated": 0, "first": null, "last": null, "months": []}'::archive.span;
SELECT '{"posts": 1, "undated": 2, "first": null, "last": null, "months": []}'::archive.span;
SELECT '{"posts": 1, "undated": 0, "first": 5, "last": null, "months": []}'::archive.span;
SELECT '{"posts": 1, "undated": 0, "first": "yesterday-ish", "last": "2020-01-05T00:00:00Z",
         "months": [["2020-01", 1]]}'::archive.span;
SELECT '{"posts": 1, "undated": 0, "first": "2020-01-05T00:00:00Z", "last": "2020-01-05T00:00:00Z"}'::archive.span;
-- months out of order (first and last in the right months)
SELECT '{"posts": 3, "undated": 0, "first": "2020-01-05T00:00:00Z", "last": "2020-02-01T00:00:00Z",
         "months": [["2020-01", 1], ["2020-03", 1], ["2020-02", 1]]}'::archive.span;
-- months out of order, so that first is not in the first of them
SELECT '{"posts": 2, "undated": 0, "first": "2020-01-05T00:00:00Z", "last": "2020-02-01T00:00:00Z",
         "months": [["2020-02", 1], ["2020-01", 1]]}'::archive.span;
-- the same month twice
SELECT '{"posts": 2, "undated": 0, "first": "2020-01-05T00:00:00Z", "last": "2020-01-06T00:00:00Z",
         "months": [["2020-01", 1], ["2020-01", 1]]}'::archive.span;
-- months sum to 2, but 3 posts are dated
SELECT '{"posts": 3, "undated": 0, "first": "2020-01-05T00:00:00Z", "last": "2020-02-01T00:00:00Z",
         "months": [["2020-01", 1], ["2020-02", 1]]}'::archive.span;
-- months sum to 3, but only 2 posts are dated
SELECT '{"posts": 3, "undated": 1, "first": "2020-01-05T00:00:00Z", "last": "2020-02-01T00:00:00Z",
         "months": [["2020-01", 2], ["2020-02", 1]]}'::archive.span;
-- first is not in the first month
SELECT '{"posts": 2, "undated": 0, "first": "2019-12-31T23:59:59Z", "last": "2020-02-01T00:00:00Z",
         "months": [["2020-01", 1], ["2020-02", 1]]}'::archive.span;
-- last is not in the last month
SELECT '{"posts": 2, "undated": 0, "first": "2020-01-05T00:00:00Z", "last": "2020-03-01T00:00:00Z",
         "months": [["2020-01", 1], ["2020-02", 1]]}'::archive.span;
-- first after last
SELECT '{"posts": 2, "undated": 0, "first": "2020-01-20T00:00:00Z", "last": "2020-01-10T00:00:00Z",
         "months": [["2020-01", 2]]}'::archive.span;
-- negative and zero month counts
SELECT '{"posts": 2, "undated": 0, "first": "2020-01-05T00:00:00Z", "last": "2020-02-01T00:00:00Z",
         "months": [["2020-01", -1], ["2020-02", 3]]}'::archive.span;
SELECT '{"posts": 1, "undated": 0, "first": "2020-01-05T00:00:00Z", "last": "2020-02-01T00:00:00Z",
         "months": [["2020-01", 1], ["2020-02", 0]]}'::archive.span;
-- malformed months
SELECT '{"posts": 1, "undated": 0, "first": "2020-01-05T00:00:00Z", "last": "2020-01-05T00:00:00Z",
         "months": [["2020-13", 1]]}'::archive.span;
SELECT '{"posts": 1, "undated": 0, "first": "2020-01-05T00:00:00Z", "last": "2020-01-05T00:00:00Z",
         "months": [["2020-01-05", 1]]}'::archive.span;
SELECT '{"posts": 1, "undated": 0, "first": "2020-01-05T00:00:00Z", "last": "2020-01-05T00:00:00Z",
         "months": [["2020-01", 1, 1]]}'::archive.span;
SELECT '{"posts": 1, "undated": 0, "first": "2020-01-05T00:00:00Z", "last": "2020-01-05T00:00:00Z",
         "months": [["2020-01", 1.5]]}'::archive.span;
-- dated posts but no months, undated posts only but a month
SELECT '{"posts": 1, "undated": 0, "first": "2020-01-05T00:00:00Z", "last": "2020-01-05T00:00:00Z",
         "months": []}'::archive.span;
SELECT '{"posts": 1, "undated": 1, "first": null, "last": null, "months": [["2020-01", 1]]}'::archive.span;
-- null first and last stand for "no post is dated" and nothing else
SELECT '{"posts": 1, "undated": 0, "first": null, "last": null, "months": [["2000-01", 1]]}'::archive.span;
SELECT '{"posts": 1, "undated": 1, "first": "2000-01-01T00:00:00Z", "last": null, "months": []}'::archive.span;
-- infinite times
SELECT '{"posts": 1, "undated": 0, "first": "-infinity", "last": "2020-01-05T00:00:00Z",
         "months": [["2020-01", 1]]}'::archive.span;
-- A rule broken in the text is invalid_text_representation (22P02), also the
-- rules checked on the decoded span (those the binary input checks too):
-- undated above posts, months out of order, months that do not add up, first
-- outside the first month, an infinite time.
\set VERBOSITY sqlstate
SELECT '{"posts": 1, "undated": 2, "first": null, "last": null, "months": []}'::archive.span;
SELECT '{"posts": 3, "undated": 0, "first": "2020-01-05T00:00:00Z", "last": "2020-02-01T00:00:00Z",
         "months": [["2020-01", 1], ["2020-03", 1], ["2020-02", 1]]}'::archive.span;
SELECT '{"posts": 3, "undated": 0, "first": "2020-01-05T00:00:00Z", "last": "2020-02-01T00:00:00Z",
         "months": [["2020-01", 1], ["2020-02", 1]]}'::archive.span;
SELECT '{"posts": 2, "undated": 0, "first": "2019-12-31T23:59:59Z", "last": "2020-02-01T00:00:00Z",
         "months": [["2020-01", 1], ["2020-02", 1]]}'::archive.span;
SELECT '{"posts": 1, "undated": 0, "first": "-infinity", "last": "2020-01-05T00:00:00Z",
         "months": [["2020-01", 1]]}'::archive.span;
\set VERBOSITY default

-- Infinite publication times are refused by the aggregate.
SELECT archive.topic_span(t) FROM (VALUES ('2020-01-01 00:00+00'::timestamptz), ('infinity')) v(t);
SELECT archive.topic_span(t) FROM (VALUES ('-infinity'::timestamptz)) v(t);

-- span_union_agg over the spans of separate groups equals topic_span over all rows.
-- By hand: 10 posts, 3 undated (go 1, db 0, drafts 2); first is go's first,
-- last is db's last; the months are go's three, then db's one.
SELECT archive.span_union_agg(s) AS union_of_groups
FROM (SELECT archive.topic_span(published_at) AS s FROM span_posts GROUP BY topic) t;
SELECT (SELECT archive.span_union_agg(s)::text
        FROM (SELECT archive.topic_span(published_at) AS s FROM span_posts GROUP BY topic) t)
     = (SELECT archive.topic_span(published_at)::text FROM span_posts) AS union_equals_all;
-- Groups overlapping in a month add up in that month: split go by odd and even id.
SELECT (SELECT archive.span_union_agg(s)::text
        FROM (SELECT archive.topic_span(published_at) AS s FROM span_posts
              WHERE topic = 'go' GROUP BY id % 2) t)
     = (SELECT archive.topic_span(published_at)::text FROM span_posts WHERE topic = 'go') AS union_equals_go;
-- NULL spans are skipped; a union of nothing or of NULLs only is NULL.
SELECT archive.span_union_agg(s) FROM (VALUES (NULL::archive.span)) v(s);
SELECT archive.span_union_agg(s)::text = (SELECT archive.topic_span(published_at)::text FROM span_posts WHERE topic = 'db')
FROM (VALUES (NULL::archive.span),
             ((SELECT archive.topic_span(published_at) FROM span_posts WHERE topic = 'db'))) v(s);
-- An undated-only span merged with a dated one keeps the dated first and last.
SELECT archive.span_union_agg(s)
FROM (VALUES ('{"posts": 2, "undated": 2, "first": null, "last": null, "months": []}'::archive.span),
             ('{"posts": 1, "undated": 0, "first": "2022-02-02T00:00:00Z", "last": "2022-02-02T00:00:00Z",
                "months": [["2022-02", 1]]}')) v(s);

-- Binary form.  archive.span_send is an ordinary function; span_recv is reached
-- through COPY ... FORMAT binary: a bytea written with COPY TO is, field for
-- field, the binary input of a span column read back with COPY FROM.  The file
-- is named after the backend's pid ($PPID of the shell) and removed on reading.
CREATE FUNCTION pg_temp.span_recv_text(flat bytea) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    CREATE TEMP TABLE span_recv_tmp (s archive.span);
    EXECUTE format('COPY (SELECT %L::bytea) TO PROGRAM %L WITH (FORMAT binary)',
                   flat, 'cat > /tmp/archive_regress_span_$PPID.bin');
    EXECUTE format('COPY span_recv_tmp FROM PROGRAM %L WITH (FORMAT binary)',
                   'exec 3< /tmp/archive_regress_span_$PPID.bin && rm -f /tmp/archive_regress_span_$PPID.bin && cat <&3');
    SELECT s::text INTO result FROM span_recv_tmp;
    DROP TABLE span_recv_tmp;
    RETURN result;
END
$$;
\set SHOW_CONTEXT never

-- Binary round trip of every group's span.
SELECT topic, pg_temp.span_recv_text(archive.span_send(s)) = s::text AS binary_round_trip
FROM (SELECT topic, archive.topic_span(published_at) AS s FROM span_posts GROUP BY topic) t
ORDER BY topic;
-- The flat form: 40 header bytes and 12 per month (go: 3 months).
SELECT length(archive.span_send(s)) AS bytes
FROM (SELECT archive.topic_span(published_at) AS s FROM span_posts WHERE topic = 'go') t;

-- Corrupted binary input is refused (all edits are the same on either byte order).
-- Layout: 0 version, 1-3 reserved, 4-7 nmonths, 8-15 posts, 16-23 undated,
-- 24-31 first, 32-39 last, then per month 4 bytes month and 8 bytes posts.
CREATE TEMP TABLE span_flat AS
    SELECT archive.span_send(archive.topic_span(published_at)) AS b FROM span_posts WHERE topic = 'go';
SELECT pg_temp.span_recv_text(substr(b, 1, 39)) FROM span_flat;                       -- too short
SELECT pg_temp.span_recv_text(set_byte(b, 0, 2)) FROM span_flat;                      -- version
SELECT pg_temp.span_recv_text(set_byte(b, 2, 1)) FROM span_flat;                      -- reserved byte
SELECT pg_temp.span_recv_text(b || '\x00'::bytea) FROM span_flat;                     -- trailing byte
SELECT pg_temp.span_recv_text(substr(b, 1, 51)) FROM span_flat;                       -- cut inside a month
SELECT pg_temp.span_recv_text(overlay(b PLACING '\xffffffffffffffff' FROM 9 FOR 8)) FROM span_flat;   -- posts -1
SELECT pg_temp.span_recv_text(overlay(b PLACING '\xffffffffffffffff' FROM 17 FOR 8)) FROM span_flat;  -- undated -1
SELECT pg_temp.span_recv_text(overlay(b PLACING '\xffffffff' FROM 5 FOR 4)) FROM span_flat;           -- nmonths -1
SELECT pg_temp.span_recv_text(overlay(b PLACING '\xffffffffffffffff' FROM 45 FOR 8)) FROM span_flat;  -- month posts -1
SELECT pg_temp.span_recv_text(overlay(b PLACING '\x0000000000000000' FROM 45 FOR 8)) FROM span_flat;  -- month posts 0
SELECT pg_temp.span_recv_text(overlay(b PLACING '\x0000000000000000' FROM 25 FOR 8)) FROM span_flat;  -- first is 2000-01-01
SELECT pg_temp.span_recv_text(overlay(b PLACING '\x8080808080808080' FROM 25 FOR 8)) FROM span_flat;  -- first before 4714 BC
-- the last two months swapped (2020-05 before 2020-02)
SELECT pg_temp.span_recv_text(substr(b, 1, 52) || substr(b, 65, 12) || substr(b, 53, 12)) FROM span_flat;
-- the first two months swapped: first (in 2020-01) is not in the first month (2020-02)
SELECT pg_temp.span_recv_text(substr(b, 1, 40) || substr(b, 53, 12) || substr(b, 41, 12) || substr(b, 65))
FROM span_flat;
-- the second month repeated in place of the third
SELECT pg_temp.span_recv_text(substr(b, 1, 52) || substr(b, 53, 12) || substr(b, 53, 12)) FROM span_flat;
\set SHOW_CONTEXT errors

RESET TimeZone;
RESET DateStyle;
