--
-- render: archive.markdown_to_html (cmark through the palloc allocator, safe
-- HTML, the archive.max_markdown_bytes cap) and the topic page functions
-- archive.page_prose, archive.page_markdown and archive.page_html, and
-- archive.page_render, the three in one call.
--
-- Page records carry times with offsets; the page shows them in UTC whatever
-- the TimeZone (pg_regress runs with PST8PDT).

-- The SQL objects: volatility, strictness, parallel safety, comments.
SELECT p.oid::regprocedure AS function, p.provolatile, p.proisstrict, p.proparallel,
       obj_description(p.oid, 'pg_proc') IS NOT NULL AS has_comment
FROM pg_proc p
WHERE p.oid IN ('archive.markdown_to_html(text)'::regprocedure, 'archive.page_prose(jsonb)'::regprocedure,
                'archive.page_markdown(jsonb)'::regprocedure, 'archive.page_html(jsonb)'::regprocedure,
                'archive.page_render(jsonb)'::regprocedure)
ORDER BY 1::text;

-- ---------------------------------------------------------------------------
-- archive.markdown_to_html
-- ---------------------------------------------------------------------------

SELECT archive.markdown_to_html(E'# Title\n\nSome *emphasis*, **strong**, `code` and a [link](/a "t").\n\n- one\n- two\n\n1. first\n\n> quoted\n\n    indented code\n\n<https://example.com> &amp; &copy; caf\u00e9');
SELECT archive.markdown_to_html('');
SELECT archive.markdown_to_html(NULL) IS NULL AS strict;

-- Safe mode: raw HTML is left out, links with unsafe schemes are emptied
-- (images of data:image/png stay).
SELECT archive.markdown_to_html(E'<script>alert(1)</script>\n\ntext <img src=x onerror=alert(1)> <b>bold</b>\n\n<div onclick="x">block</div>');
SELECT archive.markdown_to_html(E'[js](javascript:alert(1)) [JS](JaVaScRiPt:alert(1)) [vb](vbscript:x) [file](file:///etc/passwd) [html](data:text/html,<b>x</b>) ![png](data:image/png;base64,AAAA) [ok](https://example.com/?a=1&b=2)');

-- The cap: at most archive.max_markdown_bytes bytes (default 64kB).
SHOW archive.max_markdown_bytes;
SELECT length(archive.markdown_to_html(repeat('a', 65536))) AS at_the_cap;
SELECT archive.markdown_to_html(repeat('a', 65537));
SET archive.max_markdown_bytes = 100;
SELECT archive.markdown_to_html(repeat('b', 100)) = '<p>' || repeat('b', 100) || E'</p>\n' AS at_the_cap;
SELECT archive.markdown_to_html(repeat('b', 101));
-- Bytes, not characters: 51 two-byte characters are 102 bytes.
SELECT archive.markdown_to_html(repeat(E'\u00e9', 51));
SET archive.max_markdown_bytes = '17MB';
RESET archive.max_markdown_bytes;

-- A quadratic input of cmark 0.30.2 at the cap completes (its timing is in
-- no expected output).
SELECT length(archive.markdown_to_html(left(repeat('![[]()', 11000), 65536))) > 0 AS done;

-- A parse is cancelled at cmark's next allocation, and the render's memory
-- context goes with the statement.
CREATE TEMP TABLE slow_markdown AS SELECT left(repeat('![[]()', 180000), 1048576) AS md;
SET archive.max_markdown_bytes = '1MB';
SET statement_timeout = '200ms';
SELECT length(archive.markdown_to_html(md)) FROM slow_markdown;
RESET statement_timeout;
RESET archive.max_markdown_bytes;
SELECT count(*) AS render_contexts FROM pg_backend_memory_contexts WHERE name = 'archive render';
SELECT archive.markdown_to_html('*still works*');

-- ---------------------------------------------------------------------------
-- Topic pages
-- ---------------------------------------------------------------------------

-- One page record per edge case.  What each page must say, by hand:
--   full:         "Testing coverage in this archive spans 4 posts from Feb 2016 to Apr 2020, and
--                 leans into fast feedback over exhaustive coverage." (the last post is 31 Mar
--                 22:00 at -05:00: April in UTC); three adjacent tags (ci and go linked), four
--                 motifs; claims: through-line, early (mocks, suite) against recent (flaky, fast),
--                 "ci appears on all 4 of its posts"; advice: two editorial, start with the newest
--                 and the oldest, cross-read ci and go; pitfalls: two editorial, 2016 to 2020;
--                 reading path newest, central (ci and go), oldest; four references.
--   links-off:    the same with no url on the adjacent tags: no topic links.
--   zero:         "Drafts has no public posts in this archive yet.", every fallback, no reading
--                 path, no references.
--   one:          no name: the slug; "spans 1 post, published in Mar 2020"; one adjacent tag
--                 ("thread is"), one motif ("motif is"); early and recent motifs the same: no
--                 such claim; "go appears on its only post"; "Start with ..."; "Treating
--                 guidance from 2020 as settled"; no editorial text.
--   same-month:   "spans 3 posts, all from Mar 2021"; no tags, no motifs, no editorial text: no
--                 claims (fallback paragraph).
--   partly-dated: "spans 2 posts, the dated ones from May 2022"; "journal appears on both of
--                 its posts"; only one dated post to start with (the reading path's newest).
--   listed:       250 posts, only the 2 newest listed: "spans 250 posts from Jan 2001 to Jan
--                 2024"; start with the newest, then the oldest (from the reading path, not the
--                 references); "The 2 newest of 250 posts are listed."
--   undated:      "spans 3 posts, none of them dated, and leans into slow thinking"; motifs but
--                 no tags; no year in the pitfalls (fallback); no newest or oldest to start with;
--                 a reference with no url (unlinked) and one with no title.
--   bc:           "spans 2 posts from Mar 44 BC to Jan 12"; "Applying guidance from 44 BC to 12";
--                 a reference of "15 Mar 44 BC" (PostgreSQL's year 0 is 1 BC).
--   empty, nulls: every field missing or null: "Untitled topic has no public posts ..."
CREATE TEMP TABLE pages (label text PRIMARY KEY, record jsonb NOT NULL);
INSERT INTO pages VALUES
('full', '{
  "topic": "testing", "name": "Testing",
  "lens": "fast feedback over exhaustive coverage",
  "through_line": "Tests earn their keep when they fail fast and say why.",
  "advice": ["Keep the unit suite under a minute.", "Quarantine a flaky test the day it flakes."],
  "pitfalls": ["Mocking what you do not own.", "Letting the end-to-end suite grow without a budget."],
  "post_count": 4,
  "first_published": "2016-02-03T00:00:00+00:00",
  "last_published": "2020-03-31T22:00:00-05:00",
  "adjacent_tags": [
    {"term": "ci", "count": 4, "share": 1.0, "lift": 2.1, "url": "/topics/ci.html"},
    {"term": "go", "count": 2, "share": 0.5, "lift": 1.4, "url": "/topics/go.html"},
    {"term": "flaky tests", "count": 2, "share": 0.5, "lift": 3.0, "url": null},
    {"term": "mocks", "count": 1, "share": 0.25, "lift": 1.1, "url": null}],
  "title_motifs": [
    {"term": "tests", "count": 3, "share": 0.75}, {"term": "fast", "count": 2, "share": 0.5},
    {"term": "flaky", "count": 2, "share": 0.5}, {"term": "suite", "count": 2, "share": 0.5},
    {"term": "mocks", "count": 1, "share": 0.25}],
  "early_motifs": [{"term": "mocks", "count": 1, "share": 0.5}, {"term": "suite", "count": 1, "share": 0.5}],
  "recent_motifs": [{"term": "flaky", "count": 2, "share": 1.0}, {"term": "fast", "count": 1, "share": 0.5}],
  "reading_path": [
    {"role": "newest", "title": "Flaky tests are bugs", "url": "/posts/flaky-tests.html", "published_at": "2020-03-31T22:00:00-05:00", "shared_tags": []},
    {"role": "central", "title": "A fast suite in Go", "url": "/posts/fast-go-suite.html", "published_at": "2018-07-09T08:00:00+00:00", "shared_tags": ["ci", "go"]},
    {"role": "oldest", "title": "Why we test", "url": "/posts/why-we-test.html", "published_at": "2016-02-03T00:00:00+00:00", "shared_tags": ["ci"]}],
  "references": [
    {"title": "Flaky tests are bugs", "url": "/posts/flaky-tests.html", "summary": "A flaky test is a bug in the test or in the code; treat it as one.", "tags": ["testing", "ci", "flaky tests"], "published_at": "2020-03-31T22:00:00-05:00"},
    {"title": "Budgeting the end-to-end suite", "url": "/posts/e2e-budget.html", "summary": null, "tags": ["testing", "ci"], "published_at": "2019-11-20T12:00:00+00:00"},
    {"title": "A fast suite in Go", "url": "/posts/fast-go-suite.html", "summary": "How a 20-minute suite came down to 50 seconds.", "tags": ["testing", "go", "ci"], "published_at": "2018-07-09T08:00:00+00:00"},
    {"title": "Why we test", "url": "/posts/why-we-test.html", "summary": null, "tags": [], "published_at": "2016-02-03T00:00:00+00:00"}]
}'),
('zero', '{
  "topic": "drafts", "name": "Drafts", "lens": "work in progress", "through_line": null,
  "advice": [], "pitfalls": [], "post_count": 0, "first_published": null, "last_published": null,
  "adjacent_tags": [], "title_motifs": [], "early_motifs": [], "recent_motifs": [],
  "reading_path": [], "references": []
}'),
('one', '{
  "topic": "go-generics", "name": null, "lens": null, "through_line": null,
  "advice": [], "pitfalls": [], "post_count": 1,
  "first_published": "2020-03-12T09:30:00+00:00", "last_published": "2020-03-12T09:30:00+00:00",
  "adjacent_tags": [{"term": "go", "count": 1, "share": 1.0, "lift": 4.0, "url": "/topics/go.html"}],
  "title_motifs": [{"term": "generics", "count": 1, "share": 1.0}],
  "early_motifs": [{"term": "generics", "count": 1, "share": 1.0}],
  "recent_motifs": [{"term": "generics", "count": 1, "share": 1.0}],
  "reading_path": [{"role": "newest", "title": "Generics, finally", "url": "/posts/generics.html", "published_at": "2020-03-12T09:30:00+00:00", "shared_tags": ["go"]}],
  "references": [{"title": "Generics, finally", "url": "/posts/generics.html", "summary": "What type parameters change in everyday Go.", "tags": ["go-generics", "go"], "published_at": "2020-03-12T09:30:00+00:00"}]
}'),
('same-month', '{
  "topic": "launch", "name": "Launch week", "post_count": 3,
  "first_published": "2021-03-01T08:00:00+00:00", "last_published": "2021-03-31T23:00:00+00:00",
  "adjacent_tags": [], "title_motifs": [], "early_motifs": [], "recent_motifs": [],
  "reading_path": [
    {"role": "newest", "title": "Day three", "url": "/posts/day-three.html", "published_at": "2021-03-31T23:00:00+00:00", "shared_tags": []},
    {"role": "oldest", "title": "Day one", "url": "/posts/day-one.html", "published_at": "2021-03-01T08:00:00+00:00", "shared_tags": []}],
  "references": [
    {"title": "Day three", "url": "/posts/day-three.html", "summary": null, "tags": [], "published_at": "2021-03-31T23:00:00+00:00"},
    {"title": "Day two", "url": "/posts/day-two.html", "summary": null, "tags": [], "published_at": "2021-03-15T12:00:00+00:00"},
    {"title": "Day one", "url": "/posts/day-one.html", "summary": null, "tags": [], "published_at": "2021-03-01T08:00:00+00:00"}]
}'),
('partly-dated', '{
  "topic": "notes", "name": "Notes", "post_count": 2,
  "first_published": "2022-05-04T00:00:00+00:00", "last_published": "2022-05-04T00:00:00+00:00",
  "adjacent_tags": [{"term": "journal", "count": 2, "url": "/topics/journal.html"}],
  "reading_path": [{"role": "newest", "title": "A dated note", "url": "/posts/dated.html", "published_at": "2022-05-04T00:00:00+00:00"}],
  "references": [
    {"title": "A dated note", "url": "/posts/dated.html", "tags": ["notes"], "published_at": "2022-05-04T00:00:00+00:00"},
    {"title": "An undated note", "url": "/posts/undated.html", "tags": ["notes"], "published_at": null}]
}'),
('listed', '{
  "topic": "big", "name": "Big", "post_count": 250, "undated_posts": 1,
  "first_published": "2001-01-01T00:00:00+00:00", "last_published": "2024-01-05T00:00:00+00:00",
  "reading_path": [
    {"role": "newest", "title": "The latest", "url": "/posts/latest.html", "published_at": "2024-01-05T00:00:00+00:00"},
    {"role": "oldest", "title": "The first", "url": "/posts/first.html", "published_at": "2001-01-01T00:00:00+00:00"}],
  "references": [
    {"title": "The latest", "url": "/posts/latest.html", "tags": ["big"], "published_at": "2024-01-05T00:00:00+00:00"},
    {"title": "The one before", "url": "/posts/before.html", "tags": ["big"], "published_at": "2024-01-02T00:00:00+00:00"}]
}'),
('undated', '{
  "topic": "essays", "name": "Essays", "lens": "slow thinking", "through_line": null,
  "advice": [], "pitfalls": [], "post_count": 3, "first_published": null, "last_published": null,
  "adjacent_tags": [],
  "title_motifs": [{"term": "attention", "count": 2}, {"term": "craft", "count": 2}, {"term": "time", "count": 1}, {"term": "tools", "count": 1}, {"term": "habits", "count": 1}],
  "early_motifs": [{"term": "craft", "count": 1}, {"term": "tools", "count": 1}],
  "recent_motifs": [{"term": "attention", "count": 2}],
  "reading_path": [{"role": "central", "title": "On attention", "url": "/posts/attention.html", "published_at": null, "shared_tags": []}],
  "references": [
    {"title": "On attention", "url": "/posts/attention.html", "summary": "Attention as the scarce tool.", "tags": ["essays"], "published_at": null},
    {"title": "Craft and time", "url": null, "summary": null, "tags": [], "published_at": null},
    {"title": null, "url": "/posts/untitled.html", "summary": null, "tags": null, "published_at": null}]
}'),
('bc', '{
  "topic": "antiquity", "name": "Antiquity", "post_count": 2,
  "first_published": "0044-03-15 00:00:00+00 BC", "last_published": "0012-01-01 00:00:00+00",
  "references": [
    {"title": "Twelve", "url": "/posts/12.html", "published_at": "0012-01-01 00:00:00+00"},
    {"title": "The Ides", "url": "/posts/ides.html", "published_at": "0044-03-15 00:00:00+00 BC"}]
}'),
('empty', '{}'),
('nulls', '{"topic": null, "name": null, "lens": null, "through_line": null, "advice": null, "pitfalls": null,
  "post_count": null, "first_published": null, "last_published": null, "adjacent_tags": null,
  "title_motifs": null, "early_motifs": null, "recent_motifs": null, "reading_path": null, "references": null}');
-- Topic links off: the same page with no url on its adjacent tags.
INSERT INTO pages
SELECT 'links-off', jsonb_set(record, '{adjacent_tags}',
       (SELECT jsonb_agg(t || '{"url": null}') FROM jsonb_array_elements(record -> 'adjacent_tags') t))
FROM pages WHERE label = 'full';

-- The hostile record: Markdown and HTML syntax, unsafe urls, entities,
-- newlines and tabs in every text field.  What it must show: every text as
-- given (folded to one line), never as markup; no link to a javascript:,
-- vbscript: or data: url (those texts are left unlinked), "~~~" at the start
-- of a line guarded by an invisible U+2060 so it opens no code fence.
INSERT INTO pages VALUES ('hostile', jsonb_build_object(
  'topic', 'hostile',
  'name', E'*Bold* _name_ [x](javascript:alert(1)) `code` <script>alert(1)</script> #',
  'lens', E'<img src=x onerror=alert(1)> &amp; &lt;b&gt; **strong**\n# heading',
  'through_line', E'# Not a heading\n1. not a list\n- nor this\n> nor a quote\n    nor code\n</main>',
  'advice', jsonb_build_array(
      '~~~ not a fence', '1. numbered?', '- dash', '> quote', '```js', '<!-- comment -->',
      '[ref]: /not-a-definition', E'    four spaces', '===', '***', E'a  \nb', E'trailing\\',
      '&#35; &#x41; &copy; &amp;', '+ plus', '<div onclick="x">', E'line one\n2. two'),
  'pitfalls', jsonb_build_array(
      '<script>alert(1)</script>', '![img](javascript:alert(1))', E'line\r\nbreak\ttab', E'\\*escaped\\*',
      '<a href="javascript:alert(1)">click</a>', '[a]: javascript:alert(1)'),
  'post_count', 5,
  'first_published', '2019-01-01T00:00:00+00:00',
  'last_published', '2021-06-30T00:00:00+00:00',
  'adjacent_tags', jsonb_build_array(
      jsonb_build_object('term', '<b>ci</b>', 'count', 2, 'url', 'javascript:alert(1)'),
      jsonb_build_object('term', 'c++ & *go*', 'count', 1, 'url', '/topics/c++ & go.html?a=1&amp;b=2'),
      jsonb_build_object('term', 'data', 'count', 1, 'url', 'data:text/html,<script>alert(1)</script>'),
      jsonb_build_object('term', 'case', 'count', 1, 'url', E' JaVaScRiPt:alert(1)'),
      jsonb_build_object('term', 'split', 'count', 1, 'url', E'java\nscript:alert(1)')),
  'title_motifs', jsonb_build_array(jsonb_build_object('term', '_under_'), jsonb_build_object('term', '[brackets]'),
      jsonb_build_object('term', '`tick`'), jsonb_build_object('term', '\')),
  'early_motifs', jsonb_build_array(jsonb_build_object('term', '**')),
  'recent_motifs', jsonb_build_array(jsonb_build_object('term', '<i>')),
  'reading_path', jsonb_build_array(
      jsonb_build_object('role', 'newest', 'title', E'~~~\n# Not a heading', 'url', 'https://example.com/a?x=1&y=<2> (3)'),
      jsonb_build_object('role', 'central', 'title', '[x](y)', 'url', 'vbscript:msgbox(1)', 'shared_tags', jsonb_build_array('<b>', '*', '`')),
      jsonb_build_object('role', 'oldest', 'title', 'http://example.com/same', 'url', 'http://example.com/same'),
      jsonb_build_object('role', '<script>', 'title', 'odd role', 'url', 'mailto:a@example.com')),
  'references', jsonb_build_array(
      jsonb_build_object('title', E'~~~\n# Not a heading', 'url', 'https://example.com/a?x=1&y=<2> (3)',
                         'summary', E'<script>alert(1)</script>\n- item\n1. one\n> quote', 'tags', jsonb_build_array('*', '`', '<b>'),
                         'published_at', '2021-06-30T00:00:00+00:00'),
      jsonb_build_object('title', '[x](y)', 'url', 'data:image/png;base64,AAAA', 'summary', '~~~',
                         'tags', jsonb_build_array(), 'published_at', NULL),
      jsonb_build_object('title', 'mixed case', 'url', ' JaVaScRiPt:alert(1)', 'published_at', '2020-01-01T00:00:00+00:00'),
      jsonb_build_object('title', 'split scheme', 'url', E'java\nscript:alert(1)', 'published_at', '2019-06-01T00:00:00+00:00'),
      jsonb_build_object('title', 'http://example.com/same', 'url', 'http://example.com/same', 'summary', '&amp; <img src=x onerror=alert(1)>',
                         'tags', jsonb_build_array('#hash'), 'published_at', '2019-01-01T00:00:00+00:00'))));
INSERT INTO pages VALUES
    ('tilde-name', '{"name": "~~~ fences", "post_count": 2, "references": [{"title": "~~~"}, {"title": "```"}]}');

\pset format unaligned
\pset tuples_only on
SELECT E'== ' || label || E'\n' || jsonb_pretty(archive.page_prose(record))
FROM pages WHERE label <> 'links-off' ORDER BY label;
SELECT E'== ' || label || E'\n' || archive.page_markdown(record) FROM pages ORDER BY label;

-- A whole document; then the hostile page's HTML title and article.
SELECT archive.page_html(record) FROM pages WHERE label = 'one';
SELECT substring(archive.page_html(record) FROM '<title>.*</title>') FROM pages WHERE label = 'hostile';
SELECT substring(archive.page_html(record) FROM E'<main>\n(.*)</main>') FROM pages WHERE label = 'hostile';
\pset format aligned
\pset tuples_only off

-- Round trip: the Markdown parsed back renders exactly the article of the
-- HTML page, so every text and url came back unchanged.  A page with a chart
-- has it as a code block in the Markdown and as an SVG figure in the HTML,
-- both taken out before comparing (see the charts below; these records have
-- none).
SELECT label,
       regexp_replace(archive.markdown_to_html(archive.page_markdown(record)),
                      E'<pre><code class="language-text">Posts per year.*?</code></pre>\n', '')
         = regexp_replace(substring(archive.page_html(record) FROM E'<main>\n(.*)</main>'),
                          E'<figure class="chart">\n.*?</figure>\n', '') AS round_trip
FROM pages ORDER BY label;

-- No markup from the data: no script or other element, no event handler
-- attribute, no link or image to an unsafe scheme (every '<' of the data is
-- escaped, so any '<' left is the page's own), no Markdown link to one (a
-- "](" not escaped as "\]("); the data is there as text.  The chart's SVG
-- figure (none on these records) is the page's own, written from numbers.
SELECT label,
       html ~* '<script' AS script,
       regexp_replace(substring(html FROM '<main>.*'), E'<figure class="chart">\n.*?</figure>\n', '')
         ~* '<(img|iframe|object|embed|svg|div|style|form|figure)' AS other_element,
       html ~* '<[^>]*\son[a-z]+\s*=' AS event_handler,
       html ~* '(href|src)\s*=\s*"?\s*(javascript|vbscript|data):' AS unsafe_url,
       markdown ~* '(^|[^\\])\]\(\s*<?\s*(javascript|vbscript|data):' AS unsafe_markdown_link,
       html ~ '&lt;script&gt;alert\(1\)&lt;/script&gt;' AS script_as_text
FROM (SELECT label, archive.page_html(record) AS html, archive.page_markdown(record) AS markdown
      FROM pages) p
ORDER BY label;

-- archive.page_render gives what the three functions give, each record read
-- once (the charts below are checked the same way).
SELECT label, r.prose = archive.page_prose(record) AS prose, r.markdown = archive.page_markdown(record) AS markdown,
       r.html = archive.page_html(record) AS html
FROM pages CROSS JOIN LATERAL archive.page_render(record) AS r
ORDER BY label;

-- ---------------------------------------------------------------------------
-- The chart: posts per year from posts_per_month, every year from the first
-- to the last with posts (years with none shown; months of no posts and JSON
-- nulls add nothing), as a text chart after the definition in the Markdown
-- and an inline SVG figure in its place in the HTML, written from numbers
-- alone.  Spans of more than 200 years get no chart.
-- ---------------------------------------------------------------------------
CREATE TABLE charts (label text PRIMARY KEY, record jsonb NOT NULL);
INSERT INTO charts VALUES
('years', '{"name": "Charted", "post_count": 9, "first_published": "2016-03-02T00:00:00Z", "last_published": "2019-05-30T00:00:00Z",
  "posts_per_month": {"2016-03": 2, "2016-11": 1, "2018-01": 0, "2019-05": 6, "2020-02": null, "2015-12": 0}}'),
('one-year', '{"name": "One year", "post_count": 1, "first_published": "2021-07-04T00:00:00Z",
  "posts_per_month": {"2021-07": 1}}'),
('no-posts', '{"name": "Zero", "posts_per_month": {"2021-07": 0}}'),
('empty', '{"name": "Empty", "posts_per_month": {}}'),
('null', '{"name": "Null", "posts_per_month": null}'),
('far-future', '{"name": "Far future", "post_count": 7, "posts_per_month": {"9999-12": 3, "10000-01": 4}}'),
('200-years', '{"name": "Two centuries", "posts_per_month": {"1801-01": 1, "2000-06": 2}}'),
('201-years', '{"name": "Too long", "posts_per_month": {"1800-01": 1, "2000-06": 2}}');

\pset format unaligned
\pset tuples_only on
SELECT E'== ' || label || E'\n' || archive.page_markdown(record) FROM charts
WHERE label IN ('years', 'one-year', 'far-future') ORDER BY label;
SELECT substring(archive.page_html(record) FROM E'</p>\n(<figure.*</figure>\n)') FROM charts
WHERE label IN ('years', 'one-year') ORDER BY label;
\pset format aligned
\pset tuples_only off

-- Which records have a chart, in both forms, its bars and lines, the round
-- trip, and only the figure's own elements (no script, no on... attribute,
-- no link, no url other than the SVG namespace).
SELECT c.label,
       f.figure IS NOT NULL AS svg,
       archive.page_markdown(c.record) ~ E'\n``` text\nPosts per year' AS text_chart,
       (SELECT count(*) FROM regexp_matches(coalesce(f.figure, ''), '<rect ', 'g')) AS bars,
       (SELECT count(*) FROM regexp_matches(archive.page_markdown(c.record), E'\n *[0-9]{4,6}  +[0-9]+', 'g')) AS text_lines,
       regexp_replace(archive.markdown_to_html(archive.page_markdown(c.record)),
                      E'<pre><code class="language-text">Posts per year.*?</code></pre>\n', '')
         = regexp_replace(substring(archive.page_html(c.record) FROM E'<main>\n(.*)</main>'),
                          E'<figure class="chart">\n.*?</figure>\n', '') AS round_trip,
       (SELECT string_agg(DISTINCT m[1], ' ' ORDER BY m[1]) FROM regexp_matches(coalesce(f.figure, ''), '<([a-z]+)', 'g') AS m) AS elements,
       coalesce(f.figure ~* '(script|\son[a-z]+\s*=|href|url\(|https?:(?!//www\.w3\.org/2000/svg"))', false) AS unsafe
FROM charts AS c,
     LATERAL (SELECT substring(archive.page_html(c.record) FROM E'<figure class="chart">\n.*?</figure>\n') AS figure) AS f
ORDER BY c.label;
SELECT c.label, r.prose = archive.page_prose(c.record) AS prose, r.markdown = archive.page_markdown(c.record) AS markdown,
       r.html = archive.page_html(c.record) AS html
FROM charts AS c CROSS JOIN LATERAL archive.page_render(c.record) AS r
ORDER BY c.label;

-- Malformed records.
SELECT archive.page_prose('[]');
SELECT archive.page_markdown('{"name": 5}');
SELECT archive.page_html('{"post_count": -1}');
SELECT archive.page_prose('{"post_count": "many"}');
SELECT archive.page_prose('{"advice": "not an array"}');
SELECT archive.page_prose('{"advice": [1]}');
SELECT archive.page_prose('{"references": ["not an object"]}');
SELECT archive.page_prose('{"first_published": "yesterday-ish"}');
SELECT archive.page_html('{"posts_per_month": [1, 2]}');
SELECT archive.page_html('{"posts_per_month": {"2020": 1}}');
SELECT archive.page_html('{"posts_per_month": {"2020-13": 1}}');
SELECT archive.page_html('{"posts_per_month": {"1234567-01": 1}}');
SELECT archive.page_markdown('{"posts_per_month": {"2020-01": "1"}}');
SELECT archive.page_markdown('{"posts_per_month": {"2020-01": -1}}');
SELECT archive.page_markdown('{"posts_per_month": {"2020-01": 9223372036854775807, "2020-02": 1}}');
-- Records are at most 16 MB, which keeps a page's HTML far from cmark's limits.
SELECT archive.page_html(jsonb_build_object('name', repeat('x', 16 * 1024 * 1024)));
SELECT archive.page_render('{"advice": [1]}');
SELECT archive.page_render(jsonb_build_object('name', repeat('x', 16 * 1024 * 1024)));
SELECT archive.page_prose(NULL) IS NULL AS strict;
SELECT archive.page_render(NULL) IS NULL AS strict;
-- A call that fails leaves the memory page_render keeps between calls as it
-- was: the same call made again gives the page (errors caught in PL/pgSQL).
DO $$
DECLARE
    records jsonb[] := ARRAY['{"name": "Before"}', '{"advice": [1]}', '{"name": "After"}']::jsonb[];
    page record;
    pages text[] := '{}';
BEGIN
    FOR i IN 1 .. 3 LOOP
        BEGIN
            page := archive.page_render(records[i]);
            pages := pages || (page.markdown = archive.page_markdown(records[i]))::text;
        EXCEPTION WHEN invalid_parameter_value THEN
            pages := pages || 'failed'::text;
        END;
    END LOOP;
    RAISE NOTICE 'page_render after a failed call: %', pages;
END
$$;

-- cmark 0.30 writes U+FFFE and U+FFFF as the single bytes FE and FF, which are
-- not UTF-8; they are written back as the characters, so a post titled with one
-- does not fail every refresh (found by test/fuzz/fuzz_page).
SELECT archive.markdown_to_html('&#xFFFF; &#65534;') = E'<p>\uFFFF \uFFFE</p>\n' AS references_kept;
SELECT strpos(archive.page_markdown('{"name": "a\uffffb", "references": [{"title": "t\ufffe", "url": "/u\uffff"}]}'),
              E'# a\uFFFFb') = 1 AS page_markdown_kept;
