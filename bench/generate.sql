-- bench/generate.sql: the deterministic synthetic archive of the benchmark, in plain SQL.
-- Run by bench/run with psql -v scale=<posts>. Every value comes from hashint8extended of the
-- row number and a fixed seed, so the same scale always gives the same archive.
--
--   bench.posts(id, title, published_at, tags)  scale posts over 16 years (2009-2024, UTC), in
--                                                date order; titles of 4 to 10 words (a Zipf
--                                                vocabulary of 3,000 words with plural, -ing and
--                                                -ed forms, stop words, filler words, numbers,
--                                                Title Case, 3% with a non-ASCII word); 3 to 6
--                                                distinct tags, Zipf over scale / 50 tags
--   bench.topics(id, slug)                       scale / 500 topics, named after the top tags
--   bench.post_topics(post_id, topic)            1 to 3 Zipf-distributed topics per post
--
-- bench.synthetic_posts(first_id, how_many, ntags, ntopics) also makes the posts the incremental
-- refresh adds and feeds the memory measurement (bench/run), which aggregates its rows with no
-- table in between.
--
-- Speed: every function is a single SQL expression, so the planner inlines it; it only does so
-- when a parameter used more than once is given something cheap, so synthetic_posts first
-- draws numbers (word and tag codes) in an inner query and spells them in an outer one.

\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;

-- A uniform number in [0, 1) from a row number and a seed.
CREATE FUNCTION bench.u(n bigint, seed bigint) RETURNS float8
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (hashint8extended(n, seed) & 9007199254740991)::float8 / 9007199254740992.0 $$;

-- A Zipf (s = 1) rank in [1, size]: log-uniform, so rank r has probability ~ 1 / (r ln size).
CREATE FUNCTION bench.zipf(n bigint, seed bigint, size integer) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT least(size, floor(exp(bench.u(n, seed) * ln(size + 1.0))))::integer $$;

-- Number i (below 810,000) spelled in base 30 from 30 syllables joined by sep: unique as
-- long as the syllables are (and, with an empty sep, all of one length).
CREATE FUNCTION bench.spell(i integer, syllables text[], sep text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT syllables[1 + i % 30] || sep || syllables[1 + (i / 30) % 30]
           || CASE WHEN i >= 900 THEN sep || syllables[1 + (i / 900) % 30] ELSE '' END
           || CASE WHEN i >= 27000 THEN sep || syllables[1 + (i / 27000) % 30] ELSE '' END
    $$;

-- The name of tag number i ("go-ux"); tags 0 .. ntopics - 1 are also the topics' slugs.
CREATE FUNCTION bench.tag_name(i integer) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT bench.spell(i, '{go,ux,ai,db,os,js,ml,qa,ci,ops,api,web,sql,net,dev,sec,app,kit,log,sys,io,ar,vr,iot,cli,css,seo,ios,orm,ide}', '-')
    $$;

-- The code of word m of the titles (m = post * 16 + position): -1 .. -20 a stop word,
-- -21 .. -32 a filler word, -33 .. -72 a number, else 4 * vocabulary rank (Zipf over 3,000)
-- + form (0 plain, 1 plural, 2 -ing, 3 -ed).
CREATE FUNCTION bench.word_code(m bigint, seed bigint) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN bench.u(m, seed + 4) < 0.22 THEN -1 - ((hashint8extended(m, seed + 2) & 1023) % 20)::integer
                WHEN bench.u(m, seed + 4) < 0.30 THEN -21 - ((hashint8extended(m, seed + 2) & 1023) % 12)::integer
                WHEN bench.u(m, seed + 4) < 0.32 THEN -33 - ((hashint8extended(m, seed + 2) & 1023) % 40)::integer
                ELSE 4 * (bench.zipf(m, seed + 3, 3000) - 1)
                     + CASE WHEN bench.u(m, seed + 5) < 0.25 THEN 1
                            WHEN bench.u(m, seed + 5) < 0.33 THEN 2
                            WHEN bench.u(m, seed + 5) < 0.38 THEN 3 ELSE 0 END
           END
    $$;

-- The lower-case word of a word code (NULL for NULL).
CREATE FUNCTION bench.word_lower(code integer) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN code >= 0
                THEN bench.spell(code / 4, '{ka,lo,me,ri,ta,no,vi,su,de,pa,ro,mi,le,to,ga,ne,bu,fa,si,co,ma,te,di,ho,ru,ze,pi,la,vo,ki}', '')
                     || ('{"",s,ing,ed}'::text[])[1 + code % 4]
                WHEN code >= -20
                THEN ('{the,a,of,to,in,for,and,with,on,how,why,your,is,from,at,by,an,what,when,you}'::text[])[-code]
                WHEN code >= -32
                THEN ('{really,new,using,things,just,actually,simply,way,get,introducing,update,lot}'::text[])[-20 - code]
                ELSE (-32 - code)::text
           END
    $$;

-- The word of a word code, capitalised when cap (only one branch of a CASE is evaluated).
CREATE FUNCTION bench.word(code integer, cap boolean) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN cap THEN initcap(bench.word_lower(code)) ELSE bench.word_lower(code) END $$;

-- Topic rank j (1-based) of post n, Zipf over ntopics.
CREATE FUNCTION bench.topic_of(n bigint, j integer, ntopics integer) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT bench.zipf(n * 4 + j, 31, ntopics) $$;

-- Tag s (0-based, below 6) of post n, as a tag number: a Zipf draw among the tags whose
-- number is congruent to (b + s) mod 6, b = the tag number of n's first topic, so the tags of
-- a post are distinct by construction.  With topics, half of the draws lean towards the first
-- topic: its own tag (s = 0) or one of 50 tags near it.
CREATE FUNCTION bench.tag_draw(n bigint, s integer, seed bigint, ntags integer, ntopics integer)
    RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT ((bench.topic_of(n, 1, greatest(ntopics, 1)) - 1 + s) % 6)
           + 6 * CASE WHEN ntopics = 0 OR bench.u(n * 16 + s, seed + 1) < 0.5
                      THEN bench.zipf(n * 16 + s, seed + 2, ntags / 6) - 1
                      WHEN s = 0 THEN (bench.topic_of(n, 1, ntopics) - 1) / 6
                      ELSE ((bench.topic_of(n, 1, ntopics) - 1) / 6 + bench.zipf(n * 16 + s, seed + 3, 50))
                           % (ntags / 6)
                 END
    $$;

-- Posts first_id .. first_id + how_many - 1 (id, title, tags), streamed (generate_series in a
-- select list is not materialised).  The inner query draws the codes: title length (4 to 10
-- words), Title Case or only the first word capitalised (half each), a non-ASCII last word
-- (3%), and 3 to 6 tags; OFFSET 0 keeps the codes plain columns for the outer one.
CREATE FUNCTION bench.synthetic_posts(first_id bigint, how_many bigint, ntags integer, ntopics integer)
    RETURNS TABLE (id bigint, title text, tags text[])
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT c.n,
           concat_ws(' ', bench.word(c.w1, true), bench.word(c.w2, c.tc), bench.word(c.w3, c.tc),
                     bench.word(c.w4, c.tc), bench.word(c.w5, c.tc), bench.word(c.w6, c.tc),
                     bench.word(c.w7, c.tc), bench.word(c.w8, c.tc), bench.word(c.w9, c.tc),
                     bench.word(c.w10, c.tc),
                     ('{Café,Naïve,Über,Résumé,Señor,Zürich,Ångström,Straße,Façade,Crème}'::text[])[c.accent]),
           array_remove(ARRAY[bench.tag_name(c.t0), bench.tag_name(c.t1), bench.tag_name(c.t2),
                              bench.tag_name(c.t3), bench.tag_name(c.t4), bench.tag_name(c.t5)], NULL)
    FROM (SELECT g.n,
                 bench.u(g.n, 1008) < 0.5 AS tc,
                 CASE WHEN bench.u(g.n, 1006) < 0.03 THEN 1 + ((hashint8extended(g.n, 1007) & 1023) % 10)::integer END AS accent,
                 bench.word_code(g.n * 16 + 1, 1000) AS w1, bench.word_code(g.n * 16 + 2, 1000) AS w2,
                 bench.word_code(g.n * 16 + 3, 1000) AS w3, bench.word_code(g.n * 16 + 4, 1000) AS w4,
                 CASE WHEN g.len >= 5 THEN bench.word_code(g.n * 16 + 5, 1000) END AS w5,
                 CASE WHEN g.len >= 6 THEN bench.word_code(g.n * 16 + 6, 1000) END AS w6,
                 CASE WHEN g.len >= 7 THEN bench.word_code(g.n * 16 + 7, 1000) END AS w7,
                 CASE WHEN g.len >= 8 THEN bench.word_code(g.n * 16 + 8, 1000) END AS w8,
                 CASE WHEN g.len >= 9 THEN bench.word_code(g.n * 16 + 9, 1000) END AS w9,
                 CASE WHEN g.len >= 10 THEN bench.word_code(g.n * 16 + 10, 1000) END AS w10,
                 bench.tag_draw(g.n, 0, 2000, ntags, ntopics) AS t0,
                 bench.tag_draw(g.n, 1, 2000, ntags, ntopics) AS t1,
                 bench.tag_draw(g.n, 2, 2000, ntags, ntopics) AS t2,
                 CASE WHEN g.ntag >= 4 THEN bench.tag_draw(g.n, 3, 2000, ntags, ntopics) END AS t3,
                 CASE WHEN g.ntag >= 5 THEN bench.tag_draw(g.n, 4, 2000, ntags, ntopics) END AS t4,
                 CASE WHEN g.ntag >= 6 THEN bench.tag_draw(g.n, 5, 2000, ntags, ntopics) END AS t5
          FROM (SELECT s.n, 4 + ((hashint8extended(s.n, 1000) & 1023) % 7)::integer AS len,
                       3 + ((hashint8extended(s.n, 2000) & 1023) % 4)::integer AS ntag
                FROM (SELECT generate_series(first_id, first_id + how_many - 1) AS n OFFSET 0) AS s
                OFFSET 0) AS g
          OFFSET 0) AS c
    $$;

-- The publication time of post n of scale: dates rise with the id (a site's archive grows in
-- order), spread evenly over 2009-2024 (UTC).
CREATE FUNCTION bench.published(n bigint, scale bigint) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT timestamptz '2009-01-01 00:00:00+00'
           + ((n - 1 + bench.u(n, 7)) / scale * (timestamptz '2025-01-01 00:00:00+00'
                                                 - timestamptz '2009-01-01 00:00:00+00'))
    $$;

CREATE TABLE bench.posts (
    id bigint PRIMARY KEY,
    title text NOT NULL,
    published_at timestamptz NOT NULL,
    tags text[] NOT NULL
);
CREATE TABLE bench.topics (id integer PRIMARY KEY, slug text NOT NULL UNIQUE);
CREATE TABLE bench.post_topics (post_id bigint NOT NULL, topic text NOT NULL);

SELECT greatest(20, :scale / 500) AS ntopics, greatest(200, :scale / 50) AS ntags \gset

INSERT INTO bench.topics SELECT j, bench.tag_name(j - 1) FROM generate_series(1, :ntopics) AS j;

INSERT INTO bench.posts
SELECT p.id, p.title, bench.published(p.id, :scale), p.tags
FROM bench.synthetic_posts(1, :scale, :ntags, :ntopics) AS p;

INSERT INTO bench.post_topics
SELECT DISTINCT n, bench.tag_name(bench.topic_of(n, j, :ntopics) - 1)
FROM generate_series(1, :scale) AS n,
     generate_series(1, 1 + ((hashint8extended(n, 3000) & 1023) % 3)::integer) AS j;
CREATE INDEX ON bench.post_topics (post_id);

VACUUM (ANALYZE) bench.posts, bench.topics, bench.post_topics;
