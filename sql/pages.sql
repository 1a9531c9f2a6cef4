--
-- pages: the post store, the loaders and archive.refresh() end to end, on the
-- sample archive (sample/posts.jsonl, sample/topics.jsonl) and on small
-- fixtures added here: the loader's report, every topic page record, whole
-- pages as Markdown, edge cases (no posts, no other tags, one month, no title
-- motif, undated posts, drafts, explicit memberships), implicit topics, topic
-- links, an external source table, and hostile text in every field.
--
-- It runs in a database of its own (created and dropped here), so that the
-- store starts empty whatever other suites leave in theirs, and with the C
-- collation, so that text sorts the same everywhere.  Times are shown
-- in UTC; the session keeps pg_regress's time zone (America/Los_Angeles),
-- and the pages' months and days must be the UTC ones all the same.

SELECT current_database() AS regress_db \gset
SET client_min_messages = warning;
DROP DATABASE IF EXISTS archive_pages_regress;
CREATE DATABASE archive_pages_regress TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C';
\c archive_pages_regress
SET client_min_messages = warning;
-- JIT would compile the checking queries below for far longer than they run.
SET jit = off;
SET DateStyle = 'ISO, YMD';
SHOW TimeZone;
CREATE EXTENSION archive;

-- How a page record reads, one topic at a time (with \x): every figure, the
-- scores behind each list, the prose.  Times in UTC.
CREATE VIEW page_view AS
SELECT topic, name, post_count,
       to_char(first_published AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS first_published_utc,
       to_char(last_published AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS last_published_utc,
       array_to_string(adjacent_tags, ', ') AS adjacent_tags,
       (SELECT string_agg(format('%s: count %s, share %s, lift %s, strength %s%s',
                                 e ->> 'term', e ->> 'count', e ->> 'share', e ->> 'lift', e ->> 'strength',
                                 coalesce(', links to ' || (e ->> 'url'), '')), E'\n' ORDER BY n)
        FROM jsonb_array_elements(adjacent_scores) WITH ORDINALITY AS a(e, n)) AS adjacent_scores,
       array_to_string(title_motifs, ', ') AS title_motifs,
       (SELECT string_agg(format('%s: count %s, share %s', e ->> 'term', e ->> 'count',
                                 round((e ->> 'share')::numeric, 4)), E'\n' ORDER BY n)
        FROM jsonb_array_elements(motif_scores) WITH ORDINALITY AS a(e, n)) AS motif_scores,
       array_to_string(early_motifs, ', ') AS early_motifs,
       array_to_string(recent_motifs, ', ') AS recent_motifs,
       (SELECT string_agg(format('%s. %s <%s>: %s', n, e ->> 'title', coalesce(e ->> 'url', 'no link'), e ->> 'why'),
                          E'\n' ORDER BY n)
        FROM jsonb_array_elements(reading_path) WITH ORDINALITY AS a(e, n)) AS reading_path,
       (SELECT string_agg(format('%s (%s)', e ->> 'title',
                                 coalesce(to_char((e ->> 'published_at')::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                                          'undated')), E'\n' ORDER BY n)
        FROM jsonb_array_elements("references") WITH ORDINALITY AS a(e, n)) AS "references",
       definition,
       array_to_string(claims, E'\n') AS claims,
       array_to_string(advice, E'\n') AS advice,
       array_to_string(pitfalls, E'\n') AS pitfalls
FROM archive.topic_pages;

-- Counts against plain SQL: for every page, the posts it counts, the
-- references it lists, and the public posts carrying one of the topic's tags
-- (trimmed, lower case) or joined to it in post_topics, counted directly.
CREATE VIEW count_checks AS
SELECT p.topic, p.post_count, jsonb_array_length(p."references") AS refs,
       (SELECT count(DISTINCT s.key)
        FROM archive.post_source AS s
        WHERE s.visibility = 'public'
          AND (EXISTS (SELECT 1 FROM unnest(s.tags) AS t, unnest(c.tags) AS ct
                       WHERE lower(btrim(t)) = lower(btrim(ct)))
               OR EXISTS (SELECT 1 FROM archive.post_topics AS pt
                          WHERE pt.topic = p.topic AND pt.post_key = s.key))) AS plain_count
FROM archive.topic_pages AS p
JOIN archive.topic_catalog AS c ON c.topic = p.topic;

-- The safety and round trip of every page: the Markdown parsed back renders
-- exactly the <main> of the HTML page, once the chart is taken out of both
-- (the Markdown's text chart, a code block, stands where the HTML has its
-- SVG figure); the HTML has no script element, no element with an onerror
-- attribute (every '<' of the data is escaped, so a '<' is always the page's
-- own), no link or image to a javascript: or data: url; the Markdown has no
-- link to one either.
CREATE VIEW page_checks AS
SELECT topic,
       regexp_replace(archive.markdown_to_html(markdown), E'<pre><code class="language-text">Posts per year.*?</code></pre>\n', '')
         = regexp_replace(substring(html FROM E'<main>\n(.*)</main>'), E'<figure class="chart">\n.*?</figure>\n', '') AS round_trip,
       html !~* '<script' AS no_script,
       html !~* '<[^>]*onerror\s*=' AS no_onerror,
       html !~* '(href|src)\s*=\s*"?\s*(javascript|data):' AS no_unsafe_url,
       markdown !~* '(^|[^\\])\]\(\s*<?\s*(javascript|data):' AS no_unsafe_link
FROM archive.page_records;

-- ---------------------------------------------------------------------------
-- Loading the sample archive
-- ---------------------------------------------------------------------------

\set lines `cat sample/posts.jsonl`
SELECT * FROM archive.load_jsonl(:'lines');
\set topics `cat sample/topics.jsonl`
SELECT * FROM archive.load_topics_jsonl(:'topics');
SELECT count(*) AS posts, count(*) FILTER (WHERE visibility = 'public') AS public,
       count(*) FILTER (WHERE published_at IS NULL) AS undated
FROM archive.posts;
SELECT slug, name, tags FROM archive.topics ORDER BY slug;

-- The same lines again: nothing changes.
SELECT * FROM archive.load_jsonl(:'lines');

-- A batch with bad lines: each one rejected with its reason; of two lines
-- with the same url, the later one wins (and is added).  Blank lines are
-- skipped.
SELECT * FROM archive.load_jsonl($$not json
[1, 2]
{"title": "No url or key"}
{"url": "https://bad.example/no-title", "title": "   "}
{"url": "https://bad.example/bad-date", "title": "Bad date", "published_at": "someday"}
{"url": "https://bad.example/infinite", "title": "Infinite date", "published_at": "infinity"}
{"url": "https://bad.example/tags", "title": "Tags as a string", "tags": "testing"}
{"url": "https://bad.example/tags2", "title": "A number among the tags", "tags": ["testing", 3]}
{"url": "https://bad.example/authors", "title": "Authors as a string", "authors": "someone"}
{"url": "https://bad.example/visibility", "title": "Odd visibility", "visibility": "secret"}

{"url": "https://bad.example/twice", "title": "First version", "visibility": "draft"}
{"url": "https://bad.example/twice", "title": "Second version", "visibility": "draft"}
$$)
ORDER BY array_position('{added,updated,unchanged,rejected}', outcome), (substring(detail FROM '^line (\d+)'))::int;
SELECT key, title, visibility FROM archive.posts WHERE key LIKE 'https://bad.example/%';
DELETE FROM archive.posts WHERE key LIKE 'https://bad.example/%';

-- Topics: a bad line is rejected, the others load (by slug).
SELECT * FROM archive.load_topics_jsonl($${"slug": "Not A Slug", "name": "Bad"}
{"slug": "nameless", "name": " "}
not json
$$) ORDER BY outcome DESC, detail;
SELECT count(*) AS topics FROM archive.topics;

SELECT mode, topics_recomputed, posts_read FROM archive.refresh();
SELECT last_mode, pending_changes, pages FROM archive.refresh_status;
-- Nothing changed since: nothing to do.
SELECT mode, topics_recomputed, posts_read FROM archive.refresh();

-- ---------------------------------------------------------------------------
-- The sample's topic pages
-- ---------------------------------------------------------------------------

SELECT topic, name, post_count, first_published_utc, last_published_utc, adjacent_tags, title_motifs
FROM page_view ORDER BY post_count DESC, topic;

\x on
SELECT * FROM page_view WHERE topic = 'testing';
SELECT * FROM page_view WHERE topic = 'databases';
SELECT * FROM page_view WHERE topic = 'observability';
SELECT * FROM page_view WHERE topic = 'accessibility';
SELECT * FROM page_view WHERE topic = 'hiring';
\x off

-- Drafts and private posts count nowhere: the sample's private post
-- ("Incident Review: The Replica Lag Weekend", observability) and draft
-- ("Take-Home Exercises, Revisited", hiring) are in no page.
SELECT count(*) AS pages_with_hidden_posts
FROM archive.page_records
WHERE record::text ~ '(Replica Lag|Take-Home)' OR markdown ~ '(Replica Lag|Take-Home)'
   OR html ~ '(Replica Lag|Take-Home)';

SELECT count(*) AS pages,
       count(*) FILTER (WHERE post_count = refs AND refs = plain_count) AS counts_agree
FROM count_checks;
SELECT * FROM page_checks ORDER BY topic;

-- Whole pages: every piece of editorial text (testing), one post (hiring),
-- no editorial text at all (accessibility).
\pset format unaligned
\pset tuples_only on
SELECT archive.topic_markdown('testing');
SELECT archive.topic_markdown('hiring');
SELECT archive.topic_markdown('accessibility');
\pset format aligned
\pset tuples_only off

-- An unknown topic has no page.
SELECT archive.topic_markdown('no-such-topic') IS NULL AS no_markdown,
       archive.topic_html('no-such-topic') IS NULL AS no_html;

-- The page does not depend on the session's time zone: a full refresh in
-- another zone writes the same Markdown (days and months are UTC).
CREATE TEMP TABLE sample_pages AS SELECT topic, markdown, html FROM archive.page_records;
SET TimeZone = 'Asia/Kolkata';
SELECT mode, topics_recomputed FROM archive.refresh(full => true);
SELECT count(*) AS pages, count(*) FILTER (WHERE p.markdown = s.markdown AND p.html = s.html) AS unchanged
FROM archive.page_records AS p JOIN sample_pages AS s USING (topic);
RESET TimeZone;

-- ---------------------------------------------------------------------------
-- Edge cases, on fixtures of their own
-- ---------------------------------------------------------------------------

INSERT INTO archive.topics (slug, name, lens, through_line, tags) VALUES
    ('quantum', 'Quantum Computing', 'what we have not written about', NULL, '{quantum}'),
    ('gardening', 'Gardening', NULL, NULL, '{Gardening}'),
    ('launch', 'Launch Week', NULL, NULL, '{launch}'),
    ('series', 'The Series', NULL, NULL, '{series}'),
    ('essays', 'Essays', 'slow thinking', NULL, '{essays}'),
    ('musings', 'Musings', NULL, NULL, '{musings}'),
    ('notes', 'Notes', NULL, NULL, '{notes}'),
    ('secrets', 'Secrets', NULL, NULL, '{secrets}'),
    ('retrospectives', 'Retrospectives', NULL, NULL, '{}');
INSERT INTO archive.posts (key, url, title, summary, published_at, tags, visibility) VALUES
    -- gardening: no tag but the topic's (as written three ways, twice on one post)
    ('g1', 'https://fx.example/g1', 'Compost Heaps', 'Layers of green and brown.', '2019-05-10 08:00Z', '{gardening}', 'public'),
    ('g2', 'https://fx.example/g2', 'Winter Pruning', NULL, '2020-01-15 08:00Z', '{" GARDENING "}', 'public'),
    ('g3', 'https://fx.example/g3', 'Raised Beds', NULL, '2021-07-01 08:00Z', '{Gardening,gardening}', 'public'),
    -- launch: all in March 2021 (UTC; the first is still February in Los Angeles)
    ('l1', 'https://fx.example/l1', 'Launch Day One', NULL, '2021-03-01 00:30Z', '{launch,hiring}', 'public'),
    ('l2', 'https://fx.example/l2', 'Launch Day Two', NULL, '2021-03-15 12:00Z', '{launch}', 'public'),
    ('l3', 'https://fx.example/l3', 'Launch Day Three', NULL, '2021-03-31 23:30Z', '{launch}', 'public'),
    -- series: titles of filler words only, so no motif at all
    ('s1', 'https://fx.example/s1', 'Part One', NULL, '2018-01-10 00:00Z', '{series}', 'public'),
    ('s2', 'https://fx.example/s2', 'Part Two', NULL, '2018-02-10 00:00Z', '{series}', 'public'),
    ('s3', 'https://fx.example/s3', 'Part Three', NULL, '2018-03-10 00:00Z', '{series}', 'public'),
    -- essays: none dated (one with no url); musings: its only post undated
    ('e1', 'https://fx.example/e1', 'On Attention', 'Attention as the scarce tool.', NULL, '{essays}', 'public'),
    ('e2', NULL, 'Attention and Craft', NULL, NULL, '{essays}', 'public'),
    ('m1', 'https://fx.example/m1', 'A Thought on Tools', NULL, NULL, '{musings}', 'public'),
    -- notes: one dated post, one undated
    ('n1', 'https://fx.example/n1', 'A Dated Note', NULL, '2022-05-04 00:00Z', '{notes,journal}', 'public'),
    ('n2', 'https://fx.example/n2', 'An Undated Note', NULL, NULL, '{notes,journal}', 'public'),
    -- a draft and a private post, and a public post that will turn draft
    ('d1', 'https://fx.example/draft', 'Unpublished Draft Title', 'draft summary', '2023-01-01 00:00Z',
     '{secrets,testing,gardening}', 'draft'),
    ('d2', 'https://fx.example/private', 'Private Memo Title', 'private summary', '2023-02-01 00:00Z',
     '{secrets,testing}', 'private'),
    ('d3', 'https://fx.example/public-then-draft', 'Soon Withdrawn Title', 'soon withdrawn', '2023-03-01 00:00Z',
     '{secrets,testing}', 'public');
-- retrospectives: explicit memberships only (the sample's two untagged posts,
-- and its draft, which must not count even so)
INSERT INTO archive.post_topics (topic, post_key) VALUES
    ('retrospectives', 'https://fieldnotes.example/posts/why-were-writing-this-down/'),
    ('retrospectives', 'https://fieldnotes.example/posts/ten-years-of-field-notes/'),
    ('retrospectives', 'https://fieldnotes.example/posts/take-home-exercises-revisited/');

SELECT mode, topics_recomputed, posts_read FROM archive.refresh();

-- archive.topic_members lists each (topic, post) once, however many ways the post
-- belongs: by one of the topic's tags, by two of them, by post_topics, or by its
-- tags and post_topics both.  The same set as plain SQL's UNION, before and after
-- every tag membership of the defined topics is made explicit too; and
-- archive.topic_member_posts is the same memberships, each with its public post's
-- every column.
CREATE VIEW member_checks AS
WITH plain AS (
    SELECT c.topic, p.key AS post_key
    FROM archive.public_posts AS p JOIN archive.topic_catalog AS c ON p.tags && c.tags
    UNION
    SELECT pt.topic, pt.post_key
    FROM archive.post_topics AS pt JOIN archive.public_posts AS p ON p.key = pt.post_key
)
SELECT (SELECT count(*) FROM archive.topic_members) AS members,
       (SELECT count(*) FROM (SELECT 1 FROM archive.topic_members GROUP BY topic, post_key
                              HAVING count(*) > 1) AS r) AS repeated,
       NOT EXISTS (SELECT topic, post_key FROM archive.topic_members EXCEPT SELECT * FROM plain)
           AND NOT EXISTS (SELECT * FROM plain EXCEPT SELECT topic, post_key FROM archive.topic_members) AS same_as_plain_sql,
       (SELECT count(*) FROM archive.public_posts AS p JOIN archive.topic_catalog AS c
          ON cardinality(ARRAY(SELECT unnest(p.tags) INTERSECT SELECT unnest(c.tags))) > 1) AS by_two_tags,
       (SELECT count(*) FROM archive.post_topics AS pt JOIN archive.public_posts AS p ON p.key = pt.post_key
          JOIN archive.topic_catalog AS c ON c.topic = pt.topic AND p.tags && c.tags) AS by_tags_and_post_topics,
       (SELECT count(*) FROM archive.topic_member_posts) AS member_posts,
       NOT EXISTS (SELECT * FROM archive.topic_member_posts
                   EXCEPT SELECT m.topic, p.* FROM plain AS m JOIN archive.public_posts AS p ON p.key = m.post_key)
           AND NOT EXISTS (SELECT m.topic, p.* FROM plain AS m JOIN archive.public_posts AS p ON p.key = m.post_key
                           EXCEPT SELECT * FROM archive.topic_member_posts) AS member_posts_as_plain_sql;
SELECT * FROM member_checks;
BEGIN;
INSERT INTO archive.post_topics (topic, post_key)
SELECT m.topic, m.post_key FROM archive.topic_members AS m
ON CONFLICT DO NOTHING;
SELECT * FROM member_checks;
ROLLBACK;
DROP VIEW member_checks;

SELECT topic, post_count, definition FROM archive.topic_pages
WHERE topic IN ('quantum', 'gardening', 'launch', 'series', 'essays', 'musings', 'notes', 'secrets',
                'retrospectives')
ORDER BY topic;

\x on
SELECT * FROM page_view WHERE topic = 'quantum';
SELECT * FROM page_view WHERE topic = 'gardening';
SELECT * FROM page_view WHERE topic = 'launch';
SELECT * FROM page_view WHERE topic = 'series';
SELECT * FROM page_view WHERE topic = 'essays';
SELECT * FROM page_view WHERE topic = 'musings';
SELECT * FROM page_view WHERE topic = 'notes';
SELECT * FROM page_view WHERE topic = 'secrets';
SELECT * FROM page_view WHERE topic = 'retrospectives';
\x off

\pset format unaligned
\pset tuples_only on
SELECT archive.topic_markdown('quantum');
SELECT archive.topic_markdown('essays');
SELECT archive.topic_markdown('notes');
\pset format aligned
\pset tuples_only off

-- The draft and the private post are nowhere: not in a page, a count, a
-- reference, a reading path, a tag list or a stored summary.
SELECT count(*) AS pages_with_hidden_posts
FROM archive.page_records
WHERE record::text ~ '(Unpublished Draft|Private Memo|fx\.example/(draft|private))'
   OR markdown ~ '(Unpublished Draft|Private Memo)' OR html ~ '(Unpublished Draft|Private Memo)';
SELECT count(*) AS summaries_with_hidden_posts
FROM archive.topic_months WHERE refs::text ~ '(Unpublished Draft|Private Memo)';
SELECT topic, post_count FROM archive.topic_pages WHERE topic IN ('testing', 'secrets') ORDER BY topic;

-- A public post turns draft: after the refresh its trace is gone, and the
-- testing page is again exactly the sample's.
UPDATE archive.posts SET visibility = 'draft' WHERE key = 'd3';
SELECT mode, topics_recomputed FROM archive.refresh();
SELECT topic, post_count, definition FROM archive.topic_pages WHERE topic IN ('testing', 'secrets') ORDER BY topic;
SELECT count(*) AS pages_with_withdrawn_post
FROM archive.page_records
WHERE record::text ~ '(Soon Withdrawn|public-then-draft)' OR markdown ~ 'Soon Withdrawn' OR html ~ 'Soon Withdrawn';
SELECT count(*) AS summaries_with_withdrawn_post FROM archive.topic_months WHERE refs::text ~ 'Soon Withdrawn';
SELECT p.markdown = s.markdown AS testing_page_as_before
FROM archive.page_records AS p JOIN sample_pages AS s USING (topic) WHERE topic = 'testing';

SELECT count(*) AS pages,
       count(*) FILTER (WHERE post_count = refs AND refs = plain_count) AS counts_agree
FROM count_checks;
SELECT * FROM page_checks WHERE NOT (round_trip AND no_script AND no_onerror AND no_unsafe_url AND no_unsafe_link);

-- ---------------------------------------------------------------------------
-- Hostile text: Markdown and HTML syntax, unsafe urls and newlines in every
-- field of posts and of a topic's editorial text
-- ---------------------------------------------------------------------------

INSERT INTO archive.topics (slug, name, lens, through_line, advice, pitfalls, tags) VALUES
    ('hostile', E'*Bold* _name_ [x](javascript:alert(1)) `code` <script>alert(1)</script>',
     E'<img src=x onerror=alert(1)> &amp; **strong**\n# heading',
     E'# Not a heading\n<script>alert(1)</script>\n- not a list\n1. nor this',
     ARRAY['[click](javascript:alert(1))', E'`code`\n# heading', '<img src=x onerror=alert(1)>',
           '~~~ not a fence', '<a href="data:text/html,x">data</a>'],
     ARRAY['![x](data:text/html,<script>alert(1)</script>)', '_under_ *star* \*escaped\*', E'line one\n\n# two'],
     '{hostile}');
INSERT INTO archive.posts (key, url, title, summary, published_at, tags, visibility) VALUES
    ('h1', 'javascript:alert(1)', '*Star* _under_ [x](y) `tick`',
     E'# Heading\n<script>alert(1)</script>\n<img src=x onerror=alert(1)>', '2020-01-01 00:00Z',
     ARRAY['hostile', '<img src=x onerror=alert(1)>', '[x](y)', '<script>alert(1)</script>'], 'public'),
    ('h2', 'data:text/html,<script>alert(1)</script>', E'# Hash title\nsecond line <script>alert(1)</script>',
     '[link](javascript:alert(1)) and ![img](data:image/png;base64,AAAA)', '2021-06-15 00:00Z',
     ARRAY['hostile', '`tick`', '<img src=x onerror=alert(1)>', '[x](y)', '<script>alert(1)</script>'], 'public'),
    ('h3', E'https://example.com/a_b*c*?q=<x>&amp;y\n', '<img src=x onerror=alert(1)> & &amp; [ref]: /x',
     E'`code` ~~~ fence\n    indented\n> quote', '2022-09-30 00:00Z',
     ARRAY['hostile', '# not a heading', '<img src=x onerror=alert(1)>', '[x](y)', '<script>alert(1)</script>'], 'public'),
    ('h4', ' JaVaScRiPt:alert(1)', E'~~~\n#hashtag *', E'line\r\nbreak\ttab', '2022-10-01 00:00Z',
     ARRAY['hostile', '*', '_'], 'public');
SELECT mode, topics_recomputed FROM archive.refresh();

\x on
SELECT * FROM page_view WHERE topic = 'hostile';
\x off
\pset format unaligned
\pset tuples_only on
SELECT archive.topic_markdown('hostile');
SELECT substring(archive.topic_html('hostile') FROM '<title>[^<]*</title>');
\pset format aligned
\pset tuples_only off

-- Every page: round trip, no script, no onerror attribute, no unsafe link;
-- the hostile text is there, as text.
SELECT * FROM page_checks WHERE topic = 'hostile';
SELECT count(*) AS pages,
       count(*) FILTER (WHERE round_trip AND no_script AND no_onerror AND no_unsafe_url AND no_unsafe_link) AS safe
FROM page_checks;
SELECT html ~ '&lt;script&gt;alert\(1\)&lt;/script&gt;' AS script_as_text,
       html ~ '&lt;img src=x onerror=alert\(1\)&gt;' AS img_as_text,
       html ~ 'href="https://example.com/a_b\*c\*\?q=%3Cx%3E&amp;amp%3By"' AS safe_url_linked,
       html !~ 'href="[^"]*(javascript|JaVaScRiPt|data):' AS unsafe_urls_unlinked
FROM archive.page_records WHERE topic = 'hostile';

SELECT count(*) AS pages,
       count(*) FILTER (WHERE post_count = refs AND refs = plain_count) AS counts_agree
FROM count_checks;

-- ---------------------------------------------------------------------------
-- Implicit topics: with no topics defined, every tag of at least
-- archive.min_topic_posts public posts is one
-- ---------------------------------------------------------------------------

CREATE TEMP TABLE saved_topics AS SELECT * FROM archive.topics;
CREATE TEMP TABLE saved_post_topics AS SELECT * FROM archive.post_topics;
DELETE FROM archive.topics;
SELECT count(*) AS memberships_left FROM archive.post_topics;
SELECT mode, topics_recomputed FROM archive.refresh();
-- The tags with at least 3 public posts, counted in plain SQL, and the pages.
SELECT lower(btrim(t)) AS tag, count(DISTINCT key) AS public_posts
FROM archive.posts, unnest(tags) AS t
WHERE visibility = 'public'
GROUP BY 1 HAVING count(DISTINCT key) >= 3
ORDER BY 2 DESC, 1;
SELECT topic, name, post_count, definition FROM archive.topic_pages ORDER BY post_count DESC, topic;
SELECT count(*) AS pages,
       count(*) FILTER (WHERE post_count = refs AND refs = plain_count) AS counts_agree
FROM count_checks;
SELECT count(*) AS pages,
       count(*) FILTER (WHERE round_trip AND no_script AND no_onerror AND no_unsafe_url AND no_unsafe_link) AS safe
FROM page_checks;
\pset format unaligned
\pset tuples_only on
SELECT archive.topic_markdown('script-alert-1-script');
\pset format aligned
\pset tuples_only off

-- A higher threshold: fewer topics (a changed setting recomputes everything).
SET archive.min_topic_posts = 5;
SELECT mode, topics_recomputed FROM archive.refresh();
SELECT topic, post_count FROM archive.topic_pages ORDER BY post_count DESC, topic;

-- Implicit topics are counted exactly, however small the summaries: 40 more tags
-- of 5 posts each, at capacity 16, where a tag summary prunes past 32 tags.
BEGIN;
SET LOCAL archive.summary_capacity = 16;
INSERT INTO archive.posts (key, url, title, published_at, tags)
SELECT 'long-tail-' || i, 'https://example.org/long-tail/' || i, 'Long tail ' || i,
       '2024-01-01'::timestamptz + i * interval '1 day', ARRAY['Tail ' || i % 40]
FROM generate_series(0, 199) AS i;
SELECT (SELECT count(*) FROM archive.topic_catalog) AS catalog_topics,
       (SELECT count(*) FROM (SELECT lower(btrim(t))
                              FROM archive.posts, unnest(tags) AS t
                              WHERE visibility = 'public'
                              GROUP BY 1 HAVING count(DISTINCT key) >= 5) AS plain) AS plain_tags,
       (SELECT count(*) FROM archive.topic_catalog WHERE topic LIKE 'tail-%') AS tail_topics;
ROLLBACK;

-- Topic links: adjacent threads that are topics link to their pages.
SET archive.min_topic_posts = 3;
SET archive.topic_url = '/topics/{slug}.html';
SELECT mode, topics_recomputed FROM archive.refresh(full => true);
SELECT topic, e ->> 'term' AS adjacent, e ->> 'url' AS url
FROM archive.topic_pages, jsonb_array_elements(adjacent_scores) WITH ORDINALITY AS a(e, n)
WHERE topic IN ('databases', 'performance', 'testing', 'writing')
ORDER BY topic, n;
\pset format unaligned
\pset tuples_only on
SELECT archive.topic_markdown('performance');
SELECT substring(archive.topic_html('performance') FROM '<p>[^\n]*</p>');
\pset format aligned
\pset tuples_only off
SELECT count(*) AS pages,
       count(*) FILTER (WHERE round_trip AND no_script AND no_onerror AND no_unsafe_url AND no_unsafe_link) AS safe
FROM page_checks;
RESET archive.topic_url;
RESET archive.min_topic_posts;

-- The topics come back.
INSERT INTO archive.topics SELECT * FROM saved_topics;
INSERT INTO archive.post_topics SELECT * FROM saved_post_topics;
SELECT mode, topics_recomputed FROM archive.refresh();
SELECT topic, post_count FROM archive.topic_pages ORDER BY topic;

-- ---------------------------------------------------------------------------
-- An external source: a table of the site's own, mapped column by column
-- ---------------------------------------------------------------------------

CREATE TABLE site_posts (
    id integer PRIMARY KEY,
    headline text NOT NULL,
    link text,
    created timestamptz,
    labels text[] NOT NULL DEFAULT '{}',
    state text NOT NULL DEFAULT 'public'
);
INSERT INTO site_posts VALUES
    (1, 'Greenhouse Basics', '/p/1', '2020-04-01 10:00Z', '{Gardening,glass}', 'public'),
    (2, 'Greenhouse Heating', '/p/2', '2021-11-20 10:00Z', '{gardening,glass}', 'public'),
    (3, 'A Greenhouse Draft', '/p/3', '2022-01-20 10:00Z', '{gardening}', 'draft'),
    (4, 'Testing Seeds', '/p/4', '2022-02-20 10:00Z', '{testing,glass}', 'public');
-- Unknown and missing columns are refused.
\set VERBOSITY terse
SELECT archive.set_source('site_posts', '{"headline": "title"}');
SELECT archive.set_source('site_posts', '{"key": "id"}');
SELECT archive.set_source('site_posts', '{"key": "id", "title": "headline", "url": "link", "published_at": "created",
                                         "tags": "labels", "visibility": "state"}');
\set VERBOSITY default
SELECT relation, columns FROM archive.source;
SELECT mode, topics_recomputed, posts_read FROM archive.refresh();
SELECT topic, post_count, definition FROM archive.topic_pages WHERE post_count > 0 ORDER BY topic;
-- The site's draft (state 'draft') is in no page.
SELECT count(*) AS pages_with_site_draft FROM archive.page_records WHERE record::text ~ 'Greenhouse Draft';
\pset format unaligned
\pset tuples_only on
SELECT archive.topic_markdown('gardening');
\pset format aligned
\pset tuples_only off
SELECT count(*) AS pages,
       count(*) FILTER (WHERE post_count = refs AND refs = plain_count) AS counts_agree
FROM count_checks;

-- Back to archive.posts: the next refresh rebuilds every page from it.
SELECT archive.reset_source();
SELECT mode, topics_recomputed FROM archive.refresh();
SELECT topic, post_count FROM archive.topic_pages WHERE post_count > 0 ORDER BY topic;
SELECT count(*) AS pages_from_site_posts FROM archive.page_records WHERE record::text ~ 'Greenhouse';
SELECT p.markdown = s.markdown AS testing_page_as_before
FROM archive.page_records AS p JOIN sample_pages AS s USING (topic) WHERE topic = 'testing';
SELECT count(*) AS pages,
       count(*) FILTER (WHERE post_count = refs AND refs = plain_count) AS counts_agree
FROM count_checks;

-- Every page always has as many references as posts.
SELECT count(*) AS mismatched FROM archive.topic_pages WHERE post_count <> jsonb_array_length("references");

\c :regress_db
DROP DATABASE archive_pages_regress;
