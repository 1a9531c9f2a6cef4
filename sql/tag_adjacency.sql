--
-- tag_adjacency: archive.tag_adjacency, archive.tag_counts_agg, archive.normalize_tag
-- and the summary accessors (top_terms, terms, rows, max_error) over tags.
--
\pset null '(null)'
CREATE SCHEMA tagfix;

CREATE TABLE tagfix.topics (
    slug text PRIMARY KEY,
    own_tags text[]                 -- as an editor typed them: not normalised
);
INSERT INTO tagfix.topics VALUES
    ('databases', ARRAY['Postgres']),
    ('frontend', ARRAY['CSS', ' Design  Systems']);

CREATE TABLE tagfix.posts (
    id int PRIMARY KEY,
    tags text[]
);
INSERT INTO tagfix.posts VALUES
    (1, ARRAY['Postgres', 'performance', 'Go']),
    (2, ARRAY[' postgres ', 'Performance', 'indexes', 'PERFORMANCE']),   -- performance three times: once
    (3, ARRAY['postgres', 'indexes', NULL, '', '   ']),                  -- NULL and blank tags: none
    (4, ARRAY['Go', 'testing']),
    (5, NULL),                                                          -- no tag array
    (6, '{}'),                                                          -- empty tag array
    (7, ARRAY['css', 'design systems', 'accessibility']),
    (8, ARRAY['CSS', 'Accessibility ', 'performance']),
    (9, ARRAY[E'Design \t Systems', 'a11y', 'performance']),
    (10, ARRAY['  ', 'go']),
    (11, ARRAY['performance', 'Postgres']);

CREATE TABLE tagfix.post_topics (
    post_id int REFERENCES tagfix.posts,
    topic text REFERENCES tagfix.topics,
    PRIMARY KEY (post_id, topic)
);
INSERT INTO tagfix.post_topics VALUES
    (1, 'databases'), (2, 'databases'), (3, 'databases'), (4, 'databases'),
    (5, 'databases'), (6, 'databases'), (11, 'databases'),
    (7, 'frontend'), (8, 'frontend'), (9, 'frontend'), (10, 'frontend'), (11, 'frontend');

-- normalize_tag: trim, fold inner white space (blanks, tabs, newlines, other
-- control characters) to one space, fold case; NULL when blank.
SELECT t AS tag, archive.normalize_tag(t) AS normalised
FROM (VALUES ('Go'), ('  Design   Systems  '), (E'design\t\nsystems'), (E'\x01go\x7f'),
             ('C++'), ('ÉCLAIR Ünïcode'), (''), ('   '), (E'\t\n'), (NULL),
             (E'no\u00a0break')     -- U+00A0 is no ASCII blank: kept as it is
     ) v(t);

-- normalize_tags: the distinct normalised tags in order of first appearance.  An
-- array that is already that (few distinct normal tags, no NULL, lower bound 1)
-- comes back as it is; each case below that is not takes the long way, and both
-- ways give a plain array from 1.
SELECT a AS tags, archive.normalize_tags(a) AS normalised,
       array_lower(archive.normalize_tags(a), 1) AS lower_bound
FROM (VALUES (ARRAY['go', 'testing', 'design systems']),           -- already normal
             (ARRAY['go', 'testing', 'go']),                       -- a repeat
             (ARRAY['go', NULL, 'testing']),                       -- a NULL
             (ARRAY['Go', 'testing']),                             -- to fold
             (ARRAY['go', ' testing']),                            -- to trim
             ('[0:1]={go,testing}'::text[]),                       -- lower bound 0
             (ARRAY[]::text[]),
             (ARRAY(SELECT 't' || i FROM generate_series(1, 17) AS i)),  -- 17 tags
             (ARRAY(SELECT 't' || (i % 16) FROM generate_series(1, 17) AS i))
     ) AS v(a);

-- The analyst's query: each topic's neighbouring tags, leaving out its own.
-- By hand (own tags normalised: databases {postgres}, frontend {css, design systems}):
--   databases: posts 1, 2, 3, 4, 5, 6, 11 (7 rows, posts 5 and 6 without tags)
--     1 {performance, go} 2 {performance, indexes} 3 {indexes} 4 {go, testing} 11 {performance}
--     performance 3, go 2, indexes 2, testing 1; go before indexes on the tie (bytes)
--   frontend: posts 7, 8, 9, 10, 11 (5 rows)
--     7 {accessibility} 8 {accessibility, performance} 9 {a11y, performance} 10 {go}
--     11 {performance, postgres}
--     performance 3, accessibility 2, then a11y, go, postgres with 1: a11y wins the tie
-- share = count / rows of the group: 3/7, 2/7, 2/7 and 3/5, 2/5, 1/5.
SELECT pt.topic, r.rank, r.term, r.count, r.share
FROM (SELECT pt.topic, archive.tag_adjacency(p.tags, 3, t.own_tags) AS adj
      FROM tagfix.posts p
      JOIN tagfix.post_topics pt ON pt.post_id = p.id
      JOIN tagfix.topics t ON t.slug = pt.topic
      GROUP BY pt.topic) pt,
     unnest(pt.adj) WITH ORDINALITY AS r(term, count, share, rank)
ORDER BY pt.topic, r.rank;

-- The same as the whole array value.
SELECT pt.topic, archive.tag_adjacency(p.tags, 3, t.own_tags)
FROM tagfix.posts p
JOIN tagfix.post_topics pt ON pt.post_id = p.id
JOIN tagfix.topics t ON t.slug = pt.topic
GROUP BY pt.topic ORDER BY pt.topic;

-- Shares are count / rows, checked against plain counts of the posts per topic.
SELECT pt.topic, bool_and(r.share = r.count::float8 / n.posts) AS shares_ok
FROM (SELECT pt.topic, archive.tag_adjacency(p.tags, 3, t.own_tags) AS adj
      FROM tagfix.posts p
      JOIN tagfix.post_topics pt ON pt.post_id = p.id
      JOIN tagfix.topics t ON t.slug = pt.topic
      GROUP BY pt.topic) pt
JOIN (SELECT topic, count(*) AS posts FROM tagfix.post_topics GROUP BY topic) n USING (topic),
     unnest(pt.adj) AS r(term, count, share)
GROUP BY pt.topic ORDER BY pt.topic;

-- k = 2147483647 returns every neighbour: databases has 4, frontend 5.
SELECT pt.topic, cardinality(archive.tag_adjacency(p.tags, 2147483647, t.own_tags)) AS neighbours
FROM tagfix.posts p
JOIN tagfix.post_topics pt ON pt.post_id = p.id
JOIN tagfix.topics t ON t.slug = pt.topic
GROUP BY pt.topic ORDER BY pt.topic;

-- Without own tags (NULL or empty) nothing is left out: postgres (4 of 7) leads databases.
SELECT archive.tag_adjacency(p.tags, 2, NULL) AS own_null,
       archive.tag_adjacency(p.tags, 2, '{}') AS own_empty
FROM tagfix.posts p JOIN tagfix.post_topics pt ON pt.post_id = p.id
WHERE pt.topic = 'databases';
-- Own tags may hold NULL and blank elements, and several spellings of one tag.
SELECT archive.tag_adjacency(p.tags, 10, ARRAY[NULL, '', 'PERFORMANCE', ' performance', 'Go'])
FROM tagfix.posts p JOIN tagfix.post_topics pt ON pt.post_id = p.id
WHERE pt.topic = 'databases';

-- A group whose posts carry no tag: an empty ranking, not NULL; no rows at all: NULL.
SELECT archive.tag_adjacency(tags, 3, NULL) FROM tagfix.posts WHERE id IN (5, 6);
SELECT archive.tag_adjacency(tags, 3, NULL) IS NULL AS is_null FROM tagfix.posts WHERE false;

-- Ties are broken by the tag's bytes, not by a collation: "go" < "go kit" (space,
-- 0x20) < "go-kit" (0x2d) < "zebra" < "éclair" (0xc3), all with count 1.
SELECT archive.tag_adjacency(t, 10, NULL)
FROM (VALUES (ARRAY['éclair', 'go-kit']), (ARRAY['zebra', 'go kit', 'Go'])) v(t);

-- A tag of more than 1000 bytes is not counted; one of exactly 1000 is.
SELECT r.count, length(r.term) AS length
FROM unnest((SELECT archive.tag_adjacency(t, 10, NULL)
             FROM (VALUES (ARRAY[repeat('x', 1000), repeat('y', 1001)])) v(t))) AS r;

-- k must be positive, not NULL, and the same for every row of a group.
SELECT archive.tag_adjacency(tags, 0, NULL) FROM tagfix.posts;
SELECT archive.tag_adjacency(tags, -1, NULL) FROM tagfix.posts;
SELECT archive.tag_adjacency(tags, NULL, NULL) FROM tagfix.posts;
SELECT archive.tag_adjacency(tags, CASE WHEN id < 3 THEN 2 ELSE 3 END, NULL ORDER BY id) FROM tagfix.posts;
-- Tags are a one-dimensional array.
SELECT archive.tag_adjacency(t, 3, NULL) FROM (VALUES (ARRAY[['a', 'b'], ['c', 'd']])) v(t);

-- tag_counts_agg: the summary of the whole archive.
-- By hand over posts 1-11 (11 rows): performance 5 (1, 2, 8, 9, 11), postgres 4
-- (1, 2, 3, 11), go 3 (1, 4, 10), then 2 each: accessibility, css, design
-- systems, indexes, and 1 each: a11y, testing.
CREATE TABLE tagfix.whole AS SELECT archive.tag_counts_agg(tags) AS s FROM tagfix.posts;
SELECT s FROM tagfix.whole;
SELECT archive.rows(s) AS rows, archive.max_error(s) AS max_error FROM tagfix.whole;
SELECT t.* FROM tagfix.whole, archive.terms(s) AS t;
-- terms() agrees with an exact unnest + GROUP BY over distinct normalised tags.
SELECT term, count FROM (
    SELECT t.term, t.count FROM tagfix.whole, archive.terms(s) AS t
    EXCEPT ALL
    SELECT tag, count(*) FROM (SELECT DISTINCT p.id, archive.normalize_tag(u.tag) AS tag
                               FROM tagfix.posts p, unnest(p.tags) AS u(tag)) d
    WHERE tag IS NOT NULL GROUP BY tag
) diff;
-- top_terms: the k strongest, leaving out excluded tags given in any spelling.
SELECT archive.top_terms(s, 3) AS top3,
       archive.top_terms(s, 3, ARRAY[' PostGres', NULL, '']) AS top3_without_postgres
FROM tagfix.whole;
SELECT cardinality(archive.top_terms(s, 2147483647)) AS all_terms FROM tagfix.whole;
SELECT archive.top_terms(s, 0) FROM tagfix.whole;
SELECT archive.top_terms(s, NULL) IS NULL AS strict_null FROM tagfix.whole;
-- An empty summary (no rows seen) is no summary: the aggregate gives NULL.
SELECT archive.tag_counts_agg(tags) IS NULL AS is_null FROM tagfix.posts WHERE false;
-- Rows without tags still count as rows.
SELECT archive.tag_counts_agg(tags) FROM tagfix.posts WHERE id IN (5, 6);

-- Lift, as an analyst computes it from two summaries: a tag's share of the
-- topic's posts over its share of all posts.  By hand (whole archive: 11 posts):
--   databases (7 posts): postgres (4/7)/(4/11) = 11/7 = 1.571, indexes (2/7)/(2/11)
--     = 1.571, testing (1/7)/(1/11) = 1.571, go (2/7)/(3/11) = 22/21 = 1.048,
--     performance (3/7)/(5/11) = 33/35 = 0.943
--   frontend (5 posts): accessibility, css, design systems (2/5)/(2/11) = 2.2,
--     a11y (1/5)/(1/11) = 2.2, performance (3/5)/(5/11) = 1.32,
--     go (1/5)/(3/11) = 0.733, postgres (1/5)/(4/11) = 0.55
WITH per_topic AS (
    SELECT pt.topic, archive.tag_counts_agg(p.tags) AS s
    FROM tagfix.posts p JOIN tagfix.post_topics pt ON pt.post_id = p.id
    GROUP BY pt.topic
)
SELECT pt.topic, t.term, t.count,
       round((t.count::numeric / archive.rows(pt.s)) / (w.count::numeric / archive.rows(whole.s)), 3) AS lift
FROM per_topic pt
CROSS JOIN tagfix.whole AS whole
CROSS JOIN LATERAL archive.terms(pt.s) AS t
JOIN LATERAL archive.terms(whole.s) AS w ON w.term = t.term
ORDER BY pt.topic, lift DESC, t.term COLLATE "C";

-- archive.adjacent_tags: a topic's tags ranked by strength = count * ln(lift),
-- lift > 1 only, its own tags left out; the same rows as computing it in SQL.
WITH per_topic AS (
    SELECT pt.topic, t.own_tags, archive.tag_counts_agg(p.tags) AS s
    FROM tagfix.posts p JOIN tagfix.post_topics pt ON pt.post_id = p.id
    JOIN tagfix.topics t ON t.slug = pt.topic
    GROUP BY pt.topic, t.own_tags
)
SELECT pt.topic, a.term, a.count, round(a.share::numeric, 4) AS share, round(a.lift::numeric, 3) AS lift,
       round(a.strength::numeric, 3) AS strength
FROM per_topic AS pt
CROSS JOIN tagfix.whole AS whole
CROSS JOIN LATERAL archive.adjacent_tags(pt.s, whole.s, pt.own_tags, 3) AS a
ORDER BY pt.topic;
WITH per_topic AS (
    SELECT pt.topic, t.own_tags, archive.tag_counts_agg(p.tags) AS s
    FROM tagfix.posts p JOIN tagfix.post_topics pt ON pt.post_id = p.id
    JOIN tagfix.topics t ON t.slug = pt.topic
    GROUP BY pt.topic, t.own_tags
),
plain AS (
    SELECT pt.topic, t.term, t.count, t.share, t.share / w.share AS lift, t.count * ln(t.share / w.share) AS strength,
           row_number() OVER (PARTITION BY pt.topic ORDER BY t.count * ln(t.share / w.share) DESC, t.count DESC,
                                                           t.term COLLATE "C") AS rank
    FROM per_topic AS pt
    CROSS JOIN tagfix.whole AS whole
    CROSS JOIN LATERAL unnest(archive.top_terms(pt.s, 1000, pt.own_tags)) AS t
    JOIN (SELECT w.term, w.count::float8 / archive.rows(whole.s) AS share
          FROM tagfix.whole AS whole, archive.terms(whole.s) AS w) AS w ON w.term = t.term
    WHERE t.share > w.share
)
SELECT count(*) AS plain_rows,
       count(*) FILTER (WHERE (p.term, p.count, p.share, p.lift, p.strength) = (a.term, a.count, a.share, a.lift, a.strength))
           AS same_rows
FROM plain AS p
JOIN per_topic AS pt ON pt.topic = p.topic
CROSS JOIN tagfix.whole AS whole
LEFT JOIN LATERAL archive.adjacent_tags(pt.s, whole.s, pt.own_tags, 1000) WITH ORDINALITY
    AS a(term, count, share, lift, strength, rank) ON a.rank = p.rank;
-- The archive's summary is read once, and again whenever it changes from row
-- to row: the same topic against archives 1, 2 and 1 again.
CREATE TABLE tagfix.archives AS
SELECT n, archive.tag_counts_agg(t) AS s
FROM (VALUES (1, ARRAY['go', 'rust']), (1, ARRAY['c']), (1, ARRAY['go']),
             (2, ARRAY['go', 'rust']), (2, ARRAY['c']), (2, ARRAY['rust']),
             (3, ARRAY['go', 'rust']), (3, ARRAY['c']), (3, ARRAY['go'])) AS x(n, t)
GROUP BY n ORDER BY n;
SELECT w.n, a.term, a.count, round(a.lift::numeric, 3) AS lift
FROM tagfix.archives AS w
CROSS JOIN LATERAL archive.adjacent_tags(
    (SELECT archive.tag_counts_agg(t) FROM (VALUES (ARRAY['go', 'rust']), (ARRAY['rust'])) AS x(t)), w.s, '{}', 5) AS a
ORDER BY w.n, a.strength DESC;
SELECT count(*) AS no_rows FROM archive.adjacent_tags(NULL, (SELECT s FROM tagfix.whole), '{}', 5);
SELECT * FROM archive.adjacent_tags((SELECT s FROM tagfix.whole), (SELECT s FROM tagfix.whole), NULL, 0);
SELECT * FROM archive.adjacent_tags((SELECT s FROM tagfix.whole), (SELECT s FROM tagfix.whole), NULL, NULL);
SELECT * FROM archive.adjacent_tags((SELECT archive.title_terms_agg('Go')), (SELECT s FROM tagfix.whole), NULL, 5);
SELECT * FROM archive.adjacent_tags((SELECT s FROM tagfix.whole), (SELECT archive.title_terms_agg('Go')), NULL, 5);

DROP SCHEMA tagfix CASCADE;
\pset null ''
