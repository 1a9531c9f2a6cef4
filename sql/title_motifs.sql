--
-- title_motifs: archive.title_motifs and archive.title_terms_agg: the title
-- tokeniser, filler and stop words, stemming, surface forms, ranking.
--
CREATE TEMP TABLE motif_titles (
    id int PRIMARY KEY,
    topic text NOT NULL,
    title text
);
INSERT INTO motif_titles VALUES
    (1, 'testing', 'Testing Go Code'),
    (2, 'testing', 'Tests in Go'),
    (3, 'testing', 'Writing Tests, Tests, Tests'),       -- "tests" once for this title
    (4, 'testing', 'Go’s Tests: More Patterns'),         -- U+2019 apostrophe; "more" is a stop word
    (5, 'testing', 'A Pattern for Generics'),
    (6, 'testing', 'Here''s Why Generics Actually Matter'),  -- filler: here's, actually; stop: why
    (7, 'testing', NULL),
    (8, 'testing', ''),
    (9, 'testing', '   '),
    (10, 'other', 'Gophers and Gophers');

-- By hand, topic testing (9 rows: titles 7, 8 and 9 have no words):
--   stem test:    titles 1 (testing), 2, 3, 4 (tests)  -> 4, shown as "tests" (3 of 4)
--   stem go:      titles 1, 2, 4 (Go's -> go)          -> 3
--   stem generic: titles 5, 6 (generics)               -> 2
--   stem pattern: titles 4 (patterns), 5 (pattern)     -> 2, forms tied 1-1: "pattern"
--                 is first in byte order
--   code, matter, writing: 1 each
-- Ranked by count, ties by the shown word's bytes: tests 4, go 3, generics 2,
-- pattern 2, code 1, matter 1, writing 1; share = count / 9.
SELECT topic, r.rank, r.term, r.count, r.share
FROM (SELECT topic, archive.title_motifs(title, 10) AS motifs FROM motif_titles GROUP BY topic) m,
     unnest(m.motifs) WITH ORDINALITY AS r(term, count, share, rank)
ORDER BY topic, r.rank;
SELECT archive.title_motifs(title, 3) FROM motif_titles WHERE topic = 'testing';

-- title_terms_agg keeps every (stem, surface word) pair with its count; rows
-- counts every title, NULL, empty and blank ones included.
SELECT archive.title_terms_agg(title) FROM motif_titles WHERE topic = 'testing';
SELECT archive.rows(s) AS rows, archive.max_error(s) AS max_error
FROM (SELECT archive.title_terms_agg(title) AS s FROM motif_titles WHERE topic = 'testing') t;
SELECT t.* FROM (SELECT archive.title_terms_agg(title) AS s FROM motif_titles WHERE topic = 'testing') x,
     archive.terms(x.s) AS t;
-- Titles without words: rows counted, no terms, an empty ranking.
SELECT archive.title_terms_agg(title), archive.title_motifs(title, 3)
FROM motif_titles WHERE id IN (7, 8, 9);
-- No rows: NULL.
SELECT archive.title_motifs(title, 3) IS NULL AS is_null FROM motif_titles WHERE false;

-- top_terms over a motif summary: exclusions match the shown word or the stem,
-- case folded: "GO" leaves out go, "test" (the stem) leaves out tests.
SELECT archive.top_terms(s, 3, ARRAY['GO', 'test']) AS without_go_and_test
FROM (SELECT archive.title_terms_agg(title) AS s FROM motif_titles WHERE topic = 'testing') t;
-- ... and a word that is only one of a stem's forms leaves out the whole stem.
SELECT archive.top_terms(s, 3, ARRAY['Testing']) AS without_testing
FROM (SELECT archive.title_terms_agg(title) AS s FROM motif_titles WHERE topic = 'testing') t;

-- The tokeniser, title by title: the words each title gives, as "word (stem)".
CREATE FUNCTION pg_temp.motif_words(title text, config regconfig DEFAULT 'english')
RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(t.term || CASE WHEN t.term <> t.stem THEN ' (' || t.stem || ')' ELSE '' END,
                               ', ' ORDER BY t.term COLLATE "C"), '')
    FROM archive.terms((SELECT archive.title_terms_agg(x, config) FROM (SELECT title) AS one(x))) AS t
$$;
SELECT title, pg_temp.motif_words(title) AS words
FROM (VALUES
    ('AI-Native Apps'),                         -- hyphen separates: ai, native
    ('Go''s Garbage Collector'),                -- possessive: go
    ('Go’s Garbage Collector'),                 -- the same with U+2019
    ('The Gophers'' Picnic'),                   -- a trailing apostrophe separates
    ('Rock’n’roll Concurrency'),                -- apostrophes split, the one-letter n is dropped
    ('Don''t Panic: It''s Just Errors'),        -- filler don't, it's, just
    ('Go 1.22 Released in 2024'),               -- numbers alone are dropped
    ('18F and HTTP2 Lessons'),                  -- words with digits are kept
    ('Café Culture, Naïve Code'),               -- non-ASCII words, case folded
    ('Go—Fast Builds'),                         -- an em dash separates
    ('Go — Fast — Builds'),
    ('C and R Bindings'),                       -- one-letter words are dropped
    ('À la carte'),                             -- a one-letter word of two bytes too
    ('Emoji 🚀 Launch ★ Day'),                  -- emoji and symbols separate
    ('日本語 Tokens'),                           -- CJK letters are word characters
    ('The And Of Why How'),                     -- stop words only
    ('Really Actually New Things')              -- filler only
) v(title);

-- A title counts each stem once, with the first of its words.
SELECT archive.title_terms_agg(t) FROM (VALUES ('Tests, tests, tests'), ('Testing the Tests')) v(t);

-- The filler list is a table editors extend: a new word takes effect in the next query.
SELECT archive.title_motifs(title, 2) FROM motif_titles WHERE topic = 'other';
INSERT INTO archive.filler_words (word) VALUES ('gophers');
SELECT archive.title_motifs(title, 2) FROM motif_titles WHERE topic = 'other';
SELECT pg_temp.motif_words('The Gophers'' Picnic');
DELETE FROM archive.filler_words WHERE word = 'gophers';
SELECT archive.title_motifs(title, 2) FROM motif_titles WHERE topic = 'other';
-- Only lower-case, trimmed words fit the list.
INSERT INTO archive.filler_words (word) VALUES ('Gophers');

-- Another configuration: 'simple' keeps stop words and does not stem.
SELECT archive.title_motifs(title, 6, 'simple') FROM motif_titles WHERE topic = 'testing';
SELECT pg_temp.motif_words('The And Of Why How', 'simple');
-- 'german': its own stop words (die, und, das) and stems (Häuser, Haus -> haus).
SELECT archive.title_motifs(t, 5, 'german')
FROM (VALUES ('Die Häuser und das Haus'), ('Häuser bauen'), ('Das Haus am See')) v(t);
SELECT pg_temp.motif_words('Die Häuser und das Haus', 'german');
-- The configuration must use the default parser, and must not be NULL.
SELECT archive.title_motifs(t, 5, NULL) FROM (VALUES ('Go')) v(t);

-- k must be positive, not NULL, and the same for every row of a group.
SELECT archive.title_motifs(title, 0) FROM motif_titles;
SELECT archive.title_motifs(title, -5) FROM motif_titles;
SELECT archive.title_motifs(title, NULL) FROM motif_titles;
SELECT archive.title_motifs(title, id ORDER BY id) FROM motif_titles;
SELECT cardinality(archive.title_motifs(title, 2147483647)) AS all_motifs
FROM motif_titles WHERE topic = 'testing';

-- The tie rule is deterministic: equal counts rank by the shown word's bytes
-- (here all 1: "apple" < "zebra" < "éclair"), and within a stem the most
-- frequent form wins, ties again by bytes ("pattern" before "patterns").
SELECT archive.title_motifs(t, 5)
FROM (VALUES ('Zebra'), ('Éclair'), ('Apple')) v(t);
SELECT archive.title_motifs(t, 5)
FROM (VALUES ('Patterns'), ('Pattern')) v(t);
SELECT archive.title_motifs(t, 5)
FROM (VALUES ('Patterns'), ('Pattern'), ('More Patterns')) v(t);
-- The input order does not matter.
SELECT (SELECT archive.title_motifs(title, 10 ORDER BY id) FROM motif_titles)::text
     = (SELECT archive.title_motifs(title, 10 ORDER BY id DESC) FROM motif_titles)::text AS order_independent;
