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
-- The helper returns the value read, as text, or the error it raised:
-- SQLSTATE, message and detail.
CREATE FUNCTION pg_temp.span_recv_text(wire bytea) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text;
    state text;
    message text;
    detail text;
BEGIN
    CREATE TEMP TABLE span_recv_tmp (s archive.span);
    EXECUTE format('COPY (SELECT %L::bytea) TO PROGRAM %L WITH (FORMAT binary)',
                   wire, 'cat > /tmp/archive_regress_span_$PPID.bin');
    EXECUTE format('COPY span_recv_tmp FROM PROGRAM %L WITH (FORMAT binary)',
                   'exec 3< /tmp/archive_regress_span_$PPID.bin && rm -f /tmp/archive_regress_span_$PPID.bin && cat <&3');
    SELECT s::text INTO result FROM span_recv_tmp;
    DROP TABLE span_recv_tmp;
    RETURN result;
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
    RETURN format('ERROR %s: %s (%s)', state, message, detail);
END
$$;

-- Binary round trip of every group's span, and of far times; what is received
-- sends the very bytes it came from.
SELECT topic, pg_temp.span_recv_text(archive.span_send(s)) = s::text AS binary_round_trip,
       archive.span_send(pg_temp.span_recv_text(archive.span_send(s))::archive.span) = archive.span_send(s)
       AS sends_same_bytes
FROM (SELECT topic, archive.topic_span(published_at) AS s FROM span_posts GROUP BY topic) t
ORDER BY topic;
SELECT pg_temp.span_recv_text(archive.span_send(s)) = s::text AS binary_round_trip
FROM (SELECT archive.topic_span(t) AS s
      FROM (VALUES ('4713-11-24 00:00:00+00 BC'::timestamptz), ('0044-03-15 12:00:00+00 BC'),
                   ('294276-12-31 23:59:59.999999+00')) v(t)) x;

-- The binary form is the same on every server: integers in network byte order
-- (big-endian), whatever the server's own.  By hand, field by field: version
-- 2, posts 3, undated 1, first 2000-01-01 00:00:01 UTC (1000000 microseconds
-- after 2000-01-01: 0f4240), last 2000-02-01 (31 days: 26f9d14a000), two
-- months; each month its number (year * 12 + month - 1: 24000 is 5dc0) and its
-- posts.
SELECT encode(b, 'hex') AS wire,
       b = decode('02' || '0000000000000003' || '0000000000000001'
                  || '00000000000f4240' || '0000026f9d14a000' || '00000002'
                  || '00005dc0' || '0000000000000001' || '00005dc1' || '0000000000000001', 'hex') AS big_endian
FROM (SELECT archive.span_send('{"posts": 3, "undated": 1, "first": "2000-01-01T00:00:01Z",
                                 "last": "2000-02-01T00:00:00Z", "months": [["2000-01", 1], ["2000-02", 1]]}') AS b) t;
-- Undated posts only: first and last are 0, no month.
SELECT encode(archive.span_send('{"posts": 2, "undated": 2, "first": null, "last": null, "months": []}'), 'hex') AS wire;

-- Malformed binary input is refused with invalid_binary_representation (22P03),
-- never read as another value.  Layout (offsets from 0): 0 version, 1-8 posts,
-- 9-16 undated, 17-24 first, 25-32 last, 33-36 nmonths, then per month 4 bytes
-- month and 8 bytes posts (at 37, 49, 61 for go's three months): 73 bytes.
CREATE TEMP TABLE span_wire AS
    SELECT archive.span_send(archive.topic_span(published_at)) AS b FROM span_posts WHERE topic = 'go';
SELECT length(b) AS bytes FROM span_wire;
SELECT c.edit, pg_temp.span_recv_text(c.bytes) AS received
FROM span_wire, LATERAL (VALUES
    ('empty', '\x'::bytea),
    ('cut in the header', substr(b, 1, 36)),
    ('version 1 (the old native-order form)', set_byte(b, 0, 1)),
    ('version 3', set_byte(b, 0, 3)),
    ('a byte after the last month', b || '\x00'::bytea),
    ('cut inside a month', substr(b, 1, 72)),
    ('posts -1', overlay(b PLACING '\xffffffffffffffff' FROM 2 FOR 8)),
    ('posts in native order (5 little-endian)', overlay(b PLACING '\x0500000000000000' FROM 2 FOR 8)),
    ('undated -1', overlay(b PLACING '\xffffffffffffffff' FROM 10 FOR 8)),
    ('undated 5: no post dated, but months', overlay(b PLACING '\x0000000000000005' FROM 10 FOR 8)),
    ('nmonths -1', overlay(b PLACING '\xffffffff' FROM 34 FOR 4)),
    ('nmonths 2', overlay(b PLACING '\x00000002' FROM 34 FOR 4)),
    ('nmonths 4', overlay(b PLACING '\x00000004' FROM 34 FOR 4)),
    ('month posts -1', overlay(b PLACING '\xffffffffffffffff' FROM 42 FOR 8)),
    ('month posts 0', overlay(b PLACING '\x0000000000000000' FROM 42 FOR 8)),
    ('first is 2000-01-01', overlay(b PLACING '\x0000000000000000' FROM 18 FOR 8)),
    ('first before 4714 BC', overlay(b PLACING '\x8080808080808080' FROM 18 FOR 8)),
    ('first moved to last, out of the first month', overlay(b PLACING substr(b, 26, 8) FROM 18 FOR 8)),
    ('first month 2^31 - 1', overlay(b PLACING '\x7fffffff' FROM 38 FOR 4)),
    ('the last two months swapped', substr(b, 1, 49) || substr(b, 62, 12) || substr(b, 50, 12)),
    ('the first two months swapped', substr(b, 1, 37) || substr(b, 50, 12) || substr(b, 38, 12) || substr(b, 62)),
    ('the second month in place of the third', substr(b, 1, 49) || substr(b, 50, 12) || substr(b, 50, 12))
) AS c(edit, bytes);

RESET TimeZone;
RESET DateStyle;
