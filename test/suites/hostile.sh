#!/usr/bin/env bash
# test/suites/hostile.sh: hostile and odd input, in a scratch database (dropped at the end).
# Every case runs inside h.try(), which records "ok" or the SQLSTATE and message of the error it
# raised; a case fails when it crashes the server, raises an internal error (class XX) or a result
# other than the one documented for it. The checks:
#   posts_jsonl       one archive.load_jsonl call per hostile post: NULL, empty and blank fields,
#                     tags with spaces, mixed case, duplicates, empty strings, NULL elements, 10,000
#                     elements, a 1 MB title, Chinese, Japanese, Russian, Arabic, emoji, combining
#                     marks, the noncharacters U+FFFE and U+FFFF (raw, and as character references),
#                     control characters, Markdown and HTML metacharacters and javascript:/data:
#                     urls in title, summary, tags, url; broken JSON lines. Each line is added, or
#                     rejected with its reason, or (1 MB key) refused with SQLSTATE 54000.
#   posts_insert      the same values by direct INSERT into archive.posts, and NULLs in NOT NULL
#                     columns, an empty key, infinite dates (refused: 23502, 23514, 22P02)
#   topics            hostile name, lens, through_line, advice, pitfalls (load_topics_jsonl and INSERT),
#                     hostile slugs (23514), memberships of unknown topics (23503)
#   pages_*           after each refresh (implicit topics from hostile tags; defined hostile topics;
#                     a hostile archive.topic_url) every page renders: markdown and html non-empty,
#                     archive.markdown_to_html(markdown) = the <main> part of html (the chart taken
#                     out of both: a text code block, an SVG figure), html holds only the tags and
#                     attributes the page template makes (the figure only its SVG elements), no
#                     <script, no on...= attribute, no href other than http(s), mailto or relative
#   markdown_safe     archive.markdown_to_html of hostile Markdown: no raw HTML, no unsafe url
#   quadratic         cmark 0.30's known quadratic inputs at the archive.max_markdown_bytes cap each
#                     finish within 1 s (times printed); one byte over the cap is refused (54000,
#                     the message names the setting)
#   summary_text      thousands of mutated text forms of archive.termcounts and archive.span: each
#                     is refused with an SQLSTATE of class 22 (22P02 for a broken rule of the type;
#                     PostgreSQL's own for a malformed time) or 54001 (JSON nested too deep), never
#                     XX001, or, when accepted, reads back from its own text unchanged
#   summary_binary    thousands of mutated binary forms through their receive functions (COPY FORMAT
#                     binary from a server-side file): each is refused with 22P03 (never a protocol
#                     error or XX001), or, when accepted, sends back the very bytes it was given and
#                     reads back from its text form (so no corrupt value is ever accepted as another
#                     one). Fields are set to extremes in both byte orders (a little-endian one is a
#                     field as a little-endian server's native order writes it). The aggregates'
#                     deserialize functions (parallel aggregation) run the same flat-form checks
#                     (span_unflatten; termcounts_unflatten_state, which takes the terms in any
#                     order); a corrupt state cannot be made from SQL (test/fuzz covers them).
#   server_up         no backend crashed: pg_postmaster_start_time and the checkpointer's start
#                     time unchanged (a crash restarts the checkpointer), no "terminated by signal"
#                     in the server log
# Prints "hostile: N cases tried" and "SUITE-COUNT: <passed> <failed>" (one per check).
set -euo pipefail
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

db=archive_suite_hostile_$$
admin() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
in_db() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
run() { in_db -o /dev/null "$@"; }  # SQL whose results are not shown
# The binary cases go through a file the server writes and reads back (COPY TO/FROM a file).
scratch=$(mktemp -d /tmp/archive_hostile.XXXXXX)
chmod 700 "$scratch"
chown postgres: "$scratch"
cleanup() {
  [[ ${HOSTILE_KEEP_DB:-} == 1 ]] ||
  admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

log_start=0
[[ -z ${ARCHIVE_SERVER_LOG:-} || ! -f $ARCHIVE_SERVER_LOG ]] || log_start=$(stat -c %s "$ARCHIVE_SERVER_LOG")
# A crashed backend makes the postmaster restart every other process; pg_postmaster_start_time()
# stays, but the checkpointer is a new process with a new start time.
server_sql="SELECT pg_postmaster_start_time() || ', checkpointer started ' || min(backend_start)
            FROM pg_stat_activity WHERE backend_type = 'checkpointer'"
started=$(admin -A -t -c "$server_sql")

admin -c "CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"

source test/lib/checks.sh
# Each check runs with the Markdown cap raised (pages are large): check <name> <sql>
check() { check_rows "$1" "$2" -c "SET archive.max_markdown_bytes = '16MB'"; }


# Runs SQL that must succeed (a step, not a check): step <name> <psql args...>
step() {
  local name=$1 out; shift
  if ! out=$(in_db "$@" 2>&1); then
    failed=$((failed + 1))
    echo "FAILED $name:"
    printf '%s\n' "$out" | cut -c 1-300 | head -n 40
    return 1
  fi
  [[ -z $out ]] || printf '%s\n' "$out"
}

# ---------------------------------------------------------------------------------------------
# The case runner and the page checks.
run <<'SQL'
CREATE EXTENSION archive;
CREATE SCHEMA h;
CREATE TABLE h.results (
    n bigserial PRIMARY KEY, section text, name text, outcome text, sqlstate text, message text,
    expected text, ms float8);
-- Run one statement; record ok (with the text the statement returns, if any) or its error.
CREATE FUNCTION h.try(section text, name text, stmt text, expected text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
    st text;
    msg text;
    res text;
BEGIN
    BEGIN
        IF stmt ~* '^\s*(SELECT|WITH|VALUES)' THEN
            EXECUTE stmt INTO res;
        ELSE
            EXECUTE stmt;
        END IF;
        INSERT INTO h.results (section, name, outcome, message, expected, ms)
        VALUES (section, name, 'ok', left(res, 300), expected, 1000 * extract(epoch FROM clock_timestamp() - t0));
        RETURN 'ok';
    EXCEPTION WHEN others THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
        INSERT INTO h.results (section, name, outcome, sqlstate, message, expected, ms)
        VALUES (section, name, 'error', st, left(msg, 300), expected, 1000 * extract(epoch FROM clock_timestamp() - t0));
        RETURN st;
    END;
END
$$;
-- Every problem of every stored page (none when all render safely).
CREATE FUNCTION h.page_problems() RETURNS TABLE (topic text, problem text)
LANGUAGE sql AS $$
    WITH pages AS (
        SELECT p.topic, p.markdown, p.html,
               regexp_replace(substr(p.html, strpos(p.html, E'<main>\n') + 7,
                                     strpos(p.html, E'</main>\n</body>') - strpos(p.html, E'<main>\n') - 7),
                              E'<figure class="chart">\n.*?</figure>\n', '') AS main,
               substring(p.html FROM E'<figure class="chart">\n.*?</figure>\n') AS chart,
               left(p.html, strpos(p.html, '<title>') + 6) AS head,
               substr(p.html, strpos(p.html, '<title>') + 7,
                      strpos(p.html, '</title>') - strpos(p.html, '<title>') - 7) AS title,
               substr(p.html, strpos(p.html, '</title>'), strpos(p.html, E'<main>\n') + 7 - strpos(p.html, '</title>')) AS between_title_main,
               archive.page_prose(p.record) AS prose
        FROM archive.page_records AS p
    ),
    template AS (
        SELECT left(archive.page_html('{"name": "x"}'), strpos(archive.page_html('{"name": "x"}'), '<title>') + 6) AS head,
               substr(archive.page_html('{"name": "x"}'), strpos(archive.page_html('{"name": "x"}'), '</title>'),
                      strpos(archive.page_html('{"name": "x"}'), E'<main>\n') + 7 - strpos(archive.page_html('{"name": "x"}'), '</title>')) AS between_title_main
    )
    SELECT p.topic, x.problem
    FROM pages AS p CROSS JOIN template AS t,
    LATERAL (
        SELECT 'empty markdown' AS problem WHERE coalesce(p.markdown, '') = ''
        UNION ALL SELECT 'empty html' WHERE coalesce(p.html, '') = ''
        UNION ALL SELECT 'no prose' WHERE p.prose IS NULL
        UNION ALL SELECT 'no <main>' WHERE strpos(p.html, E'<main>\n') = 0 OR strpos(p.html, E'</main>\n</body>') = 0
        UNION ALL SELECT 'head is not the template' WHERE p.head <> t.head OR p.between_title_main <> t.between_title_main
        UNION ALL SELECT 'markup in <title>' WHERE p.title ~ '[<>"]'
        UNION ALL SELECT 'markdown round trip differs'
            WHERE regexp_replace(archive.markdown_to_html(p.markdown),
                                 E'<pre><code class="language-text">Posts per year.*?</code></pre>\n', '') IS DISTINCT FROM p.main
        UNION ALL SELECT '<script' WHERE p.html ~* '<\s*script'
        UNION ALL SELECT 'tag not made by the template: ' || left(m[1], 80)
            FROM regexp_matches(p.main, '(<[^>]*>)', 'g') AS m
            WHERE m[1] !~ '^<(/?(h1|h2|p|ul|ol|li|a)|br /|a href="[^"<>]*")>$'
        UNION ALL SELECT 'chart tag not made by the template: ' || left(m[1], 80)
            FROM regexp_matches(p.chart, '(<[^>]*>)', 'g') AS m
            WHERE m[1] !~ '^</?(figure|svg|title|desc|g|line|rect|text)[ >/]' OR m[1] ~* '(href|url\(|script)'
        UNION ALL SELECT 'event handler attribute: ' || left(m[1], 80)
            FROM regexp_matches(p.main || coalesce(p.chart, ''), '(<[^>]*\son[a-z]*\s*=[^>]*>)', 'gi') AS m
        UNION ALL SELECT 'unsafe href: ' || left(h, 80)
            FROM (SELECT replace(m[1], '&amp;', '&') AS h FROM regexp_matches(p.main, 'href="([^"]*)"', 'g') AS m) AS hrefs
            WHERE h ~ '^[A-Za-z][A-Za-z0-9+.-]*:' AND h !~* '^(https?|mailto):'
               OR h ~* '^\s*(javascript|vbscript|data|file)\s*:' OR h ~ '[\s<>"]'
    ) AS x
$$;
SQL

# ---------------------------------------------------------------------------------------------
# Hostile strings, used in every text field.
run <<'SQL'
CREATE TABLE h.strings (name text PRIMARY KEY, value text NOT NULL);
INSERT INTO h.strings VALUES
    ('empty', ''),
    ('blank', E'   \t '),
    ('chinese', '数据库测试：为什么我们需要更多的集成测试'),
    ('japanese', 'データベースのテスト、なぜ統合テストが必要なのか'),
    ('russian', 'Тестирование баз данных: почему нужны интеграционные тесты'),
    ('arabic', 'اختبار قواعد البيانات: لماذا نحتاج إلى اختبارات التكامل'),
    ('emoji', 'Shipping 🚀 fast 🔥 with 👩🏽‍💻 and 🇫🇷 flags'),
    ('combining', E'Cafe\u0301 n\u0303 Z\u0338\u0322\u0348a\u0337l\u0334g\u0336o\u0335 \u0300start'),
    ('bidi', E'abc\u202Egnp.exe\u202C \u200Fright\u200E'),
    ('zero_width', E'zero\u200Bwidth\uFEFFbom\u2060joiner'),
    ('noncharacters', E'non\uFFFEchar\uFFFFacters, &#xFFFE; and &#65535; as references'),
    ('controls', E'ctl\x01\x02\x03\x07\x08\x0b\x0c\x0e\x1b[31m\x1f\x7fend'),
    ('newlines', E'line one\nline two\r\nline three\rfour\u2028five\u2029six'),
    ('tabs_spaces', E'  lead\t\ttabs   and   spaces  '),
    ('nbsp', E'non\u00A0breaking\u3000ideographic\u2003em'),
    ('mixed_case', '  Mixed   CASE   Title  '),
    ('markdown', '# Heading *em* **strong** _u_ `code` [link](http://x.example) ![img](http://x.example/i.png) > quote - item 1. item --- | a | b | \ <br> ~~~ ```'),
    ('md_heading', '## not a heading'),
    ('md_list', '- not a list'),
    ('md_ordered', '1. not a list'),
    ('md_quote', '> not a quote'),
    ('md_rule', '---'),
    ('md_setext', E'title\n==='),
    ('md_fence_tilde', '~~~ not code'),
    ('md_fence_backtick', '```js not code'),
    ('md_indented', '    not code'),
    ('md_html_block', '<div>not html</div>'),
    ('md_entity', '&amp; &lt; &#x3C; &#60; &copy; &nbsp;'),
    ('md_backslash', '\\ \* \_ \[ \] \` \\\\'),
    ('md_emphasis_run', '***___***___'),
    ('md_table', '| a | b |'),
    ('md_link_ref', '[x]: http://x.example "t"'),
    ('md_autolink', '<http://x.example>'),
    ('md_hard_break', E'end with two spaces  \nnext'),
    ('html_script', '<script>alert(1)</script>'),
    ('html_script_case', '<ScRiPt src=//evil.example/x.js></sCrIpT>'),
    ('html_img', '<img src=x onerror=alert(1)>'),
    ('html_svg', '<svg onload=alert(1)><a xlink:href="javascript:alert(1)">x</a></svg>'),
    ('html_attr_break', '" onmouseover="alert(1)" x="'),
    ('html_attr_single', E''' onfocus=''alert(1)'' autofocus x='''),
    ('html_iframe', '<iframe src="data:text/html,<script>alert(1)</script>"></iframe>'),
    ('html_comment', '<!-- x --> --> <!--'),
    ('html_cdata', '<![CDATA[ x ]]>'),
    ('html_style', '<style>body{display:none}</style>'),
    ('html_entities_js', '&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)'),
    ('js_url', 'javascript:alert(1)'),
    ('js_url_case', 'JaVaScRiPt:alert(document.cookie)'),
    ('js_url_lead', E' \t javascript:alert(1)'),
    ('js_url_tab', E'java\tscript:alert(1)'),
    ('js_url_newline', E'java\nscript:alert(1)'),
    ('js_url_entity', '&#106;avascript:alert(1)'),
    ('js_url_percent', 'javascript%3Aalert(1)'),
    ('vbscript', 'vbscript:msgbox(1)'),
    ('file_url', 'file:///etc/passwd'),
    ('data_html', 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=='),
    ('data_image', 'data:image/png;base64,iVBORw0KGgo='),
    ('data_svg', 'data:image/svg+xml,<svg onload=alert(1)>'),
    ('md_js_link', '[click me](javascript:alert(1))'),
    ('md_js_autolink', '<javascript:alert(1)>'),
    ('md_js_image', '![x](javascript:alert(1))'),
    ('md_data_link', '[x](data:text/html,<script>alert(1)</script>)'),
    ('url_quote', 'https://x.example/"><script>alert(1)</script>'),
    ('url_spaces', 'https://x.example/a b c'),
    ('url_entity', 'https://x.example/?a=1&amp;b=2&lt;'),
    ('url_parens', 'https://x.example/a)(b[c]d'),
    ('url_relative', '/posts/relative?x=<y>'),
    ('url_protocol_relative', '//evil.example/x'),
    ('url_mailto', 'mailto:someone@example.com?subject=<hi>'),
    ('percent', '%00%3Cscript%3E%0A'),
    ('sql_like', $$'); DROP TABLE archive.posts; --$$),
    ('json_like', '{"title": ["nested", {"a": null}]}'),
    ('format_like', '%s %d %n %x {slug} $1 \N'),
    ('only_punct', '!!! ??? ... ---'),
    ('numbers', '12345 1.22 0x1F'),
    ('long_word', repeat('x', 5000)),
    ('long_10k', repeat('Ωmega-long ', 1000)),
    ('title_1mb', left(repeat('A title of one megabyte, with <b>markup</b> & *stars* ', 20000), 1048576));
SQL

# ---------------------------------------------------------------------------------------------
# Posts through archive.load_jsonl: one call per line, so each outcome is the line's own.
# Field cases: the hostile value in title, summary, url (the key), one tag; the tag ones twice,
# so that min_topic_posts = 2 makes each hostile tag a topic with a hostile name.
# shellcheck disable=SC2016
run <<'SQL'
CREATE TABLE h.lines (name text PRIMARY KEY, line text, expected text);
INSERT INTO h.lines
SELECT 'jsonl/' || f.field || '/' || s.name || '/' || copy,
       jsonb_build_object(
           'url', CASE f.field WHEN 'url' THEN s.value ELSE format('https://h.example/%s/%s/%s', f.field, s.name, copy) END,
           'title', CASE f.field WHEN 'title' THEN s.value ELSE 'Hostile ' || f.field || ' ' || s.name END,
           'summary', CASE f.field WHEN 'summary' THEN s.value ELSE 'A post with a hostile ' || f.field END,
           'tags', jsonb_build_array('hostile-' || f.field) || CASE f.field WHEN 'tags' THEN jsonb_build_array(s.value) ELSE '[]' END,
           'authors', jsonb_build_array(s.value),
           'body_markdown', s.value,
           'published_at', '2021-06-15T12:00:00Z')::text,
       CASE WHEN f.field = 'title' AND btrim(s.value) = '' THEN 'rejected'
            WHEN f.field = 'url' AND btrim(s.value) = '' THEN 'rejected'
            WHEN f.field = 'url' AND s.name = 'title_1mb' THEN '54000'
            ELSE 'added' END
FROM h.strings AS s
CROSS JOIN (VALUES ('title'), ('summary'), ('url'), ('tags')) AS f(field)
CROSS JOIN generate_series(1, 2) AS copy
WHERE copy = 1 OR f.field = 'tags';
-- NULL, empty and missing fields; tags of every odd kind; dates.
INSERT INTO h.lines VALUES
    ('jsonl/null_title', '{"url": "https://h.example/n/1", "title": null}', 'rejected'),
    ('jsonl/no_title', '{"url": "https://h.example/n/2"}', 'rejected'),
    ('jsonl/null_url', '{"url": null, "title": "No url"}', 'rejected'),
    ('jsonl/null_summary', '{"url": "https://h.example/n/3", "title": "Null summary", "summary": null, "tags": ["hostile-misc"]}', 'added'),
    ('jsonl/empty_summary', '{"url": "https://h.example/n/4", "title": "Empty summary", "summary": "", "tags": ["hostile-misc"]}', 'added'),
    ('jsonl/null_tags', '{"url": "https://h.example/n/5", "title": "Null tags", "tags": null}', 'added'),
    ('jsonl/empty_tags', '{"url": "https://h.example/n/6", "title": "Empty tags", "tags": []}', 'added'),
    ('jsonl/null_date', '{"url": "https://h.example/n/7", "title": "Undated", "published_at": null, "tags": ["hostile-misc"]}', 'added'),
    ('jsonl/empty_date', '{"url": "https://h.example/n/8", "title": "Empty date", "published_at": ""}', 'rejected'),
    ('jsonl/bad_date', '{"url": "https://h.example/n/9", "title": "Bad date", "published_at": "yesterday-ish"}', 'rejected'),
    ('jsonl/infinite_date', '{"url": "https://h.example/n/10", "title": "Infinite", "published_at": "infinity"}', 'rejected'),
    ('jsonl/minus_infinite_date', '{"url": "https://h.example/n/11", "title": "-Infinite", "published_at": "-infinity"}', 'rejected'),
    ('jsonl/number_date', '{"url": "https://h.example/n/12", "title": "Number date", "published_at": 1700000000}', 'rejected'),
    ('jsonl/bc_date', '{"url": "https://h.example/n/13", "title": "Old post", "published_at": "4713-01-01T00:00:00Z BC", "tags": ["hostile-misc"]}', 'added'),
    ('jsonl/far_date', '{"url": "https://h.example/n/14", "title": "Far post", "published_at": "294276-12-31T23:59:59Z", "tags": ["hostile-misc"]}', 'added'),
    ('jsonl/tags_spaces', '{"url": "https://h.example/n/15", "title": "Tag spaces", "tags": ["  design   systems ", "design systems", "Design Systems", "DESIGN\tSYSTEMS", "hostile-misc"]}', 'added'),
    ('jsonl/tags_case_dups', '{"url": "https://h.example/n/16", "title": "Tag case", "tags": ["Go", "go", "GO", " go ", "gO", "hostile-misc"]}', 'added'),
    ('jsonl/tags_empty_strings', '{"url": "https://h.example/n/17", "title": "Empty tags", "tags": ["", " ", "\t\n", "hostile-misc"]}', 'added'),
    ('jsonl/tags_null_element', '{"url": "https://h.example/n/18", "title": "Null tag", "tags": ["a", null]}', 'rejected'),
    ('jsonl/tags_number', '{"url": "https://h.example/n/19", "title": "Number tag", "tags": [1, 2]}', 'rejected'),
    ('jsonl/tags_object', '{"url": "https://h.example/n/20", "title": "Object tags", "tags": {"a": 1}}', 'rejected'),
    ('jsonl/tags_string', '{"url": "https://h.example/n/21", "title": "String tags", "tags": "go, rust"}', 'rejected'),
    ('jsonl/tags_nested', '{"url": "https://h.example/n/22", "title": "Nested tags", "tags": [["go"]]}', 'rejected'),
    ('jsonl/authors_object', '{"url": "https://h.example/n/23", "title": "Bad authors", "authors": {"a": 1}}', 'rejected'),
    ('jsonl/visibility_bad', '{"url": "https://h.example/n/24", "title": "Secret", "visibility": "secret"}', 'rejected'),
    ('jsonl/visibility_case', '{"url": "https://h.example/n/25", "title": "Public?", "visibility": "PUBLIC"}', 'rejected'),
    ('jsonl/title_number', '{"url": "https://h.example/n/26", "title": 42, "tags": ["hostile-misc"]}', 'added'),
    ('jsonl/title_object', '{"url": "https://h.example/n/27", "title": {"a": "<script>"}, "tags": ["hostile-misc"]}', 'added'),
    ('jsonl/title_array', '{"url": "https://h.example/n/28", "title": ["x", "<b>"], "tags": ["hostile-misc"]}', 'added'),
    ('jsonl/key_blank', '{"key": "   ", "url": "https://h.example/n/29", "title": "Blank key"}', 'rejected'),
    ('jsonl/url_number', '{"url": 12345, "title": "Number url", "tags": ["hostile-misc"]}', 'added'),
    ('jsonl/nul_escape', '{"url": "https://h.example/n/30", "title": "a\u0000b"}', 'rejected'),
    ('jsonl/lone_surrogate', '{"url": "https://h.example/n/31", "title": "a\ud800b"}', 'rejected'),
    ('jsonl/escapes', '{"url": "https://h.example/n/32", "title": "\u003cscript\u003ealert(1)\u003c/script\u003e \"q\" \\ \/ \b\f\n\r\t", "tags": ["hostile-misc"]}', 'added'),
    ('jsonl/duplicate_keys', '{"url": "https://h.example/n/33", "title": "first", "title": "second <i>", "tags": ["hostile-misc"]}', 'added'),
    ('jsonl/not_json', '{"url": "https://h.example/n/34", "title": ', 'rejected'),
    ('jsonl/array', '["https://h.example/n/35", "title"]', 'rejected'),
    ('jsonl/string', '"just a string"', 'rejected'),
    ('jsonl/null', 'null', 'rejected'),
    ('jsonl/number', '12', 'rejected'),
    ('jsonl/deep_nesting', repeat('[', 10000) || repeat(']', 10000), 'rejected'),
    ('jsonl/deep_object', '{"url": "https://h.example/n/36", "title": "Deep", "extra": ' || repeat('{"a":', 5000) || '1' || repeat('}', 5000) || '}', 'added'),
    ('jsonl/huge_number', '{"url": "https://h.example/n/37", "title": "Huge", "published_at": 1e400}', 'rejected'),
    ('jsonl/crlf', E'{"url": "https://h.example/n/38", "title": "CRLF line", "tags": ["hostile-misc"]}\r', 'added'),
    ('jsonl/two_same_key', E'{"url": "https://h.example/n/39", "title": "One"}\n{"url": "https://h.example/n/39", "title": "Two", "tags": ["hostile-misc"]}', 'added'),
    ('jsonl/blank_lines', E'\n\n   \n \n', 'none'),
    ('jsonl/tab_line', E'\t', 'rejected'),
    ('jsonl/tags_10000', jsonb_build_object('url', 'https://h.example/n/40', 'title', 'Ten thousand tags',
                                            'tags', '["hostile-bulk"]'::jsonb || (SELECT jsonb_agg(CASE WHEN i % 10 = 0 THEN 'Dup Tag' WHEN i % 7 = 0 THEN ' ' ELSE 'bulk tag ' || i END)
                                                     FROM generate_series(1, 10000) AS i))::text, 'added'),
    ('jsonl/authors_10000', jsonb_build_object('url', 'https://h.example/n/41', 'title', 'Ten thousand authors',
                                               'authors', (SELECT jsonb_agg('author ' || i) FROM generate_series(1, 10000) AS i))::text, 'added');

-- Run them: the outcome of a line is what load_jsonl reported for it.
SELECT count(h.try('posts_jsonl', name,
                   format($q$SELECT coalesce(string_agg(outcome || coalesce(': ' || detail, ''), '; ' ORDER BY outcome), 'none')
                             FROM archive.load_jsonl(%L) WHERE posts > 0$q$, line), expected))
FROM h.lines;
SQL

check posts_jsonl "
  SELECT r.name, r.expected, r.outcome, r.sqlstate, left(r.message, 120) AS message
  FROM h.results AS r
  WHERE r.section = 'posts_jsonl'
    AND NOT CASE r.expected
              WHEN 'added' THEN r.outcome = 'ok' AND r.message IN ('added', 'added; rejected: line 1: same key as line 2, which replaces it')
              WHEN 'rejected' THEN r.outcome = 'ok' AND r.message LIKE 'rejected: line 1: %'
              WHEN 'none' THEN r.outcome = 'ok' AND r.message = 'none'
              ELSE r.outcome = 'error' AND r.sqlstate = r.expected END"
check posts_jsonl_stored "
  -- what was added is stored as given: title, summary and tags exactly
  SELECT l.name, 'stored differently' AS problem
  FROM h.lines AS l
  JOIN h.results AS r ON r.section = 'posts_jsonl' AND r.name = l.name AND r.expected = 'added' AND r.outcome = 'ok'
  CROSS JOIN LATERAL (SELECT (regexp_split_to_array(l.line, E'\r?\n'))[array_length(regexp_split_to_array(l.line, E'\r?\n'), 1)]::jsonb AS doc) AS d
  LEFT JOIN archive.posts AS p ON p.key = btrim(coalesce(d.doc ->> 'key', d.doc ->> 'url'))
  WHERE p.key IS NULL
     OR p.title IS DISTINCT FROM d.doc ->> 'title'
     OR p.summary IS DISTINCT FROM d.doc ->> 'summary'
     OR p.tags IS DISTINCT FROM coalesce(ARRAY(SELECT jsonb_array_elements_text(CASE jsonb_typeof(d.doc -> 'tags') WHEN 'array' THEN d.doc -> 'tags' END)), '{}')"

# ---------------------------------------------------------------------------------------------
# Direct INSERTs into archive.posts.
run <<'SQL'
CREATE TABLE h.inserts (name text PRIMARY KEY, stmt text, expected text);
INSERT INTO h.inserts
SELECT 'insert/' || f.field || '/' || s.name,
       format('INSERT INTO archive.posts (key, url, title, summary, tags, authors, body_markdown, slug, published_at) VALUES (%L, %L, %L, %L, %L, %L, %L, %L, %L)',
              'ins/' || f.field || '/' || s.name,
              CASE f.field WHEN 'url' THEN s.value ELSE 'https://h.example/ins/' || s.name END,
              CASE f.field WHEN 'title' THEN s.value ELSE 'Inserted ' || s.name END,
              CASE f.field WHEN 'summary' THEN s.value ELSE 'Inserted summary' END,
              CASE f.field WHEN 'tags' THEN ARRAY['inserted-tags', s.value, upper(s.value), s.value, NULL] ELSE ARRAY['inserted-' || f.field] END,
              ARRAY[s.value, NULL],
              s.value, s.value, '2022-02-02 02:02:02+00'),
       NULL
FROM h.strings AS s CROSS JOIN (VALUES ('title'), ('summary'), ('url'), ('tags')) AS f(field);
INSERT INTO h.inserts VALUES
    ('insert/null_title', $$INSERT INTO archive.posts (key, title, tags) VALUES ('ins/n1', NULL, '{hostile-misc}')$$, NULL),
    ('insert/empty_title', $$INSERT INTO archive.posts (key, title, tags) VALUES ('ins/n2', '', '{hostile-misc}')$$, NULL),
    ('insert/null_summary', $$INSERT INTO archive.posts (key, title, summary, tags) VALUES ('ins/n3', 'Turned private', NULL, '{hostile-misc}')$$, NULL),
    ('insert/empty_summary', $$INSERT INTO archive.posts (key, title, summary, tags) VALUES ('ins/n4', 'Empty summary', '', '{hostile-misc}')$$, NULL),
    ('insert/null_tags', $$INSERT INTO archive.posts (key, title, tags) VALUES ('ins/n5', 'Null tags', NULL)$$, '23502'),
    ('insert/empty_tags', $$INSERT INTO archive.posts (key, title, tags) VALUES ('ins/n6', 'Empty tags', '{}')$$, NULL),
    ('insert/null_tag_elements', $$INSERT INTO archive.posts (key, title, tags) VALUES ('ins/n7', 'Null elements', ARRAY[NULL, 'hostile-misc', NULL, '', ' ']::text[])$$, NULL),
    ('insert/only_null_tags', $$INSERT INTO archive.posts (key, title, tags) VALUES ('ins/n8', 'Only nulls', ARRAY[NULL, NULL]::text[])$$, NULL),
    ('insert/tags_2d', $$INSERT INTO archive.posts (key, title, tags) VALUES ('ins/n9', 'Two-dimensional', '{{hostile-misc,a},{b,c}}')$$, '23514'),
    ('insert/tags_bounds', $$INSERT INTO archive.posts (key, title, tags) VALUES ('ins/n10', 'Odd bounds', '[5:6]={hostile-misc,x}')$$, NULL),
    ('insert/tags_10000', $$INSERT INTO archive.posts (key, title, tags) SELECT 'ins/n11', 'Ten thousand tags', ARRAY['hostile-bulk'] || array_agg(CASE WHEN i % 3 = 0 THEN 'Same' WHEN i % 5 = 0 THEN NULL ELSE 'many ' || i END) FROM generate_series(1, 10000) AS i$$, NULL),
    ('insert/tags_10000_long', $$INSERT INTO archive.posts (key, title, tags) SELECT 'ins/n12', 'Long tags', ARRAY['hostile-bulk'] || array_agg(repeat(chr(1000 + i % 500), 50 + i % 1100)) FROM generate_series(1, 10000) AS i$$, NULL),
    ('insert/null_date', $$INSERT INTO archive.posts (key, title, tags, published_at) VALUES ('ins/n13', 'Undated', '{hostile-misc}', NULL)$$, NULL),
    ('insert/infinite_date', $$INSERT INTO archive.posts (key, title, tags, published_at) VALUES ('ins/n14', 'Infinite', '{hostile-misc}', 'infinity')$$, '23514'),
    ('insert/minus_infinite_date', $$INSERT INTO archive.posts (key, title, tags, published_at) VALUES ('ins/n15', 'Minus infinite', '{hostile-misc}', '-infinity')$$, '23514'),
    ('insert/bc_date', $$INSERT INTO archive.posts (key, title, tags, published_at) VALUES ('ins/n16', 'Oldest', '{hostile-misc}', '4713-01-01 00:00:00+00 BC')$$, NULL),
    ('insert/far_date', $$INSERT INTO archive.posts (key, title, tags, published_at) VALUES ('ins/n17', 'Newest', '{hostile-misc}', '294276-12-31 23:59:59.999999+00')$$, NULL),
    ('insert/null_key', $$INSERT INTO archive.posts (key, title) VALUES (NULL, 'No key')$$, '23502'),
    ('insert/empty_key', $$INSERT INTO archive.posts (key, title) VALUES ('', 'Empty key')$$, '23514'),
    ('insert/null_visibility', $$INSERT INTO archive.posts (key, title, visibility) VALUES ('ins/n18', 'No visibility', NULL)$$, '23502'),
    ('insert/bad_visibility', $$INSERT INTO archive.posts (key, title, visibility) VALUES ('ins/n19', 'Bad visibility', 'secret')$$, '22P02'),
    ('insert/null_authors', $$INSERT INTO archive.posts (key, title, authors) VALUES ('ins/n20', 'No authors', NULL)$$, '23502'),
    ('insert/huge_key', $$INSERT INTO archive.posts (key, title) SELECT string_agg(md5(i::text), ''), 'Huge key' FROM generate_series(1, 2000) AS i$$, '54000'),
    ('insert/duplicate_key', $$INSERT INTO archive.posts (key, title) VALUES ('ins/n3', 'Same key again')$$, '23505'),
    ('insert/draft_hostile', $$INSERT INTO archive.posts (key, title, tags, visibility) VALUES ('ins/n21', '<script>draft</script>', '{hostile-misc}', 'draft')$$, NULL),
    ('update/hostile_title', $$UPDATE archive.posts SET title = title || ' <img src=x onerror=alert(1)> ~~~' WHERE key = 'ins/n4'$$, NULL),
    ('update/to_private', $$UPDATE archive.posts SET visibility = 'private' WHERE key = 'ins/n3'$$, NULL),
    ('insert/post_topic_unknown', $$INSERT INTO archive.post_topics (topic, post_key) VALUES ('no-such-topic', 'ins/n1')$$, '23503');
SELECT count(h.try('posts_insert', name, stmt, expected)) FROM h.inserts;
SQL

check posts_insert "
  SELECT name, expected, outcome, sqlstate, left(message, 120) AS message
  FROM h.results
  WHERE section = 'posts_insert'
    AND NOT CASE WHEN expected IS NULL THEN outcome = 'ok'
                 ELSE coalesce(sqlstate, outcome) = ANY (string_to_array(expected, '|')) END"

# ---------------------------------------------------------------------------------------------
# Refresh with implicit topics (every tag of 2 public posts): the hostile tags become topics with
# hostile names. Then check every page.
step refresh_implicit -o /dev/null -c "SET archive.min_topic_posts = 2" \
  -c "SELECT h.try('refresh', 'refresh implicit topics', 'SELECT mode || '' '' || topics_recomputed FROM archive.refresh(full => true)')" \
  -c "\\o" -A -t -c "SELECT 'refresh (implicit topics): ' || outcome || ' ' || coalesce(sqlstate, '') || ' ' || coalesce(message, '') || ' in ' || round(ms) || ' ms' FROM h.results WHERE name = 'refresh implicit topics'" || true
check refresh_implicit "SELECT name, sqlstate, message FROM h.results WHERE name = 'refresh implicit topics' AND outcome <> 'ok'"
check pages_implicit "SELECT * FROM h.page_problems() UNION ALL SELECT 'fewer than 40 pages', count(*)::text FROM archive.page_records HAVING count(*) < 40"
check private_not_shown "
  SELECT topic, 'draft or private post shown' FROM archive.page_records
  WHERE record::text LIKE '%<script>draft</script>%' OR record::text LIKE '%Turned private%'
     OR html LIKE '%draft&lt;/script&gt;%' OR markdown LIKE '%Turned private%'
  UNION ALL
  SELECT topic, 'draft or private post summarised' FROM archive.topic_months
  WHERE refs::text LIKE '%\"ins/n21\"%' OR refs::text LIKE '%\"ins/n3\"%'"

# ---------------------------------------------------------------------------------------------
# Defined topics with hostile editorial text, through load_topics_jsonl and INSERT.
run <<'SQL'
CREATE TABLE h.topic_lines (name text PRIMARY KEY, line text, expected text);
INSERT INTO h.topic_lines
SELECT 'topics/' || s.name,
       jsonb_build_object('slug', 'string-' || replace(s.name, '_', '-'), 'name', s.value, 'lens', s.value,
                          'through_line', s.value, 'advice', jsonb_build_array(s.value, s.value),
                          'pitfalls', jsonb_build_array(s.value), 'tags', jsonb_build_array(s.value))::text,
       CASE WHEN btrim(s.value) = '' THEN 'rejected' ELSE 'loaded' END
FROM h.strings AS s;
INSERT INTO h.topic_lines VALUES
    ('topics/slug_markup', '{"slug": "<script>", "name": "Bad slug"}', 'rejected'),
    ('topics/slug_js', '{"slug": "javascript:alert(1)", "name": "Bad slug"}', 'rejected'),
    ('topics/slug_upper', '{"slug": "Hostile", "name": "Bad slug"}', 'rejected'),
    ('topics/slug_unicode', '{"slug": "тест", "name": "Bad slug"}', 'rejected'),
    ('topics/slug_missing', '{"name": "No slug"}', 'rejected'),
    ('topics/name_missing', '{"slug": "no-name"}', 'rejected'),
    ('topics/advice_not_array', '{"slug": "bad-advice", "name": "Bad advice", "advice": "do it"}', 'rejected'),
    ('topics/advice_objects', '{"slug": "bad-advice-2", "name": "Bad advice", "advice": [{"a": 1}]}', 'loaded'),
    ('topics/advice_nulls', '{"slug": "null-advice", "name": "Null advice", "advice": [null, "", "real advice"], "pitfalls": [null], "tags": [null, "hostile-misc"]}', 'loaded'),
    ('topics/not_json', '{"slug": ', 'rejected'),
    ('topics/no_tags', '{"slug": "no-tags", "name": "No tags at all"}', 'loaded');
-- the topics of the posts with a hostile field, with hostile editorial text of every kind
INSERT INTO h.topic_lines
SELECT 'topics/' || t.slug,
       jsonb_build_object('slug', t.slug, 'name', (SELECT value FROM h.strings WHERE name = t.s1),
                          'lens', (SELECT value FROM h.strings WHERE name = t.s2),
                          'through_line', (SELECT value FROM h.strings WHERE name = t.s3),
                          'advice', (SELECT jsonb_agg(value) FROM h.strings WHERE name LIKE t.s4),
                          'pitfalls', (SELECT jsonb_agg(value) FROM h.strings WHERE name LIKE t.s5),
                          'tags', jsonb_build_array(t.slug, replace(t.slug, 'hostile', 'inserted')))::text,
       'loaded'
FROM (VALUES ('hostile-title', 'html_script', 'js_url', 'markdown', 'md%', 'html%'),
             ('hostile-summary', 'html_img', 'data_html', 'controls', 'js%', 'data%'),
             ('hostile-url', 'md_fence_tilde', 'md_indented', 'bidi', 'url%', 'j%'),
             ('hostile-tags', 'emoji', 'combining', 'title_1mb', '%', '%'),
             ('hostile-bulk', 'arabic', 'chinese', 'japanese', 'long%', 'russian'),
             ('hostile-misc', 'md_setext', 'newlines', 'html_attr_break', '%e%', '%a%')) AS t(slug, s1, s2, s3, s4, s5);
SELECT count(h.try('topics', name,
                   format($q$SELECT coalesce(string_agg(outcome || coalesce(': ' || detail, ''), '; ' ORDER BY outcome), 'none')
                             FROM archive.load_topics_jsonl(%L) WHERE topics > 0$q$, line), expected))
FROM h.topic_lines;
SELECT h.try('topics', 'topics/insert_bad_slug', $$INSERT INTO archive.topics (slug, name) VALUES ('a b', 'x')$$, '23514');
SELECT h.try('topics', 'topics/insert_blank_name', $$INSERT INTO archive.topics (slug, name) VALUES ('blank-name', '   ')$$, '23514');
SELECT h.try('topics', 'topics/insert_null_advice', $$INSERT INTO archive.topics (slug, name, advice) VALUES ('null-advice-2', 'x', NULL)$$, '23502');
SELECT h.try('topics', 'topics/insert_hostile_arrays', $$INSERT INTO archive.topics (slug, name, lens, advice, pitfalls, tags) VALUES ('hostile-arrays', '<b>x</b>', E'\x01', ARRAY[NULL, '<script>', ''], '{a,NULL,""}', ARRAY['hostile-misc', NULL])$$, 'ok');
SELECT h.try('topics', 'topics/insert_2d_pitfalls', $$INSERT INTO archive.topics (slug, name, pitfalls) VALUES ('two-d', 'x', '{{a,b},{c,d}}')$$, '23514');
SELECT h.try('topics', 'topics/insert_2d_advice', $$INSERT INTO archive.topics (slug, name, advice) VALUES ('two-d', 'x', '{{a},{b}}')$$, '23514');
SELECT h.try('topics', 'topics/insert_2d_tags', $$INSERT INTO archive.topics (slug, name, tags) VALUES ('two-d', 'x', '{{a},{b}}')$$, '23514');
SELECT h.try('topics', 'topics/membership', $$INSERT INTO archive.post_topics (topic, post_key) VALUES ('hostile-arrays', 'ins/n1'), ('hostile-arrays', 'no such post')$$, 'ok');
SQL

check topics "
  SELECT name, expected, outcome, sqlstate, left(message, 120) AS message
  FROM h.results
  WHERE section = 'topics'
    AND NOT CASE expected
              WHEN 'loaded' THEN outcome = 'ok' AND message = 'loaded'
              WHEN 'rejected' THEN outcome = 'ok' AND message LIKE 'rejected: line 1: %'
              WHEN 'ok' THEN outcome = 'ok'
              ELSE outcome = 'error' AND coalesce(sqlstate = expected, false) END"

step refresh_defined -o /dev/null \
  -c "SELECT h.try('refresh', 'refresh defined topics', 'SELECT mode || '' '' || topics_recomputed FROM archive.refresh()')" \
  -c "\\o" -A -t -c "SELECT 'refresh (defined topics): ' || outcome || ' ' || coalesce(sqlstate, '') || ' ' || coalesce(message, '') || ' in ' || round(ms) || ' ms' FROM h.results WHERE name = 'refresh defined topics'" || true
check refresh_defined "SELECT name, sqlstate, message FROM h.results WHERE name = 'refresh defined topics' AND outcome <> 'ok'"
check pages_defined "SELECT * FROM h.page_problems()
  UNION ALL SELECT 'pages: ' || count(*), 'expected one per defined topic: ' || (SELECT count(*) FROM archive.topics)
  FROM archive.page_records HAVING count(*) <> (SELECT count(*) FROM archive.topics)"

# A hostile topic url pattern: adjacent threads that are topics link to it, unless it is unsafe.
step refresh_topic_url -o /dev/null -c "SET archive.topic_url = 'javascript:alert(\"{slug}\")'" \
  -c "SELECT h.try('refresh', 'refresh javascript topic_url', 'SELECT mode FROM archive.refresh()')" || true
check pages_topic_url_js "SELECT * FROM h.page_problems() UNION ALL SELECT name, message FROM h.results WHERE name = 'refresh javascript topic_url' AND outcome <> 'ok'"
step refresh_topic_url2 -o /dev/null -c "SET archive.topic_url = '/t/{slug}\"><script>x</script> <{slug}>'" \
  -c "SELECT h.try('refresh', 'refresh markup topic_url', 'SELECT mode FROM archive.refresh()')" || true
check pages_topic_url_markup "SELECT * FROM h.page_problems() UNION ALL SELECT name, message FROM h.results WHERE name = 'refresh markup topic_url' AND outcome <> 'ok'
  UNION ALL SELECT 'no linked adjacent thread', '' WHERE NOT EXISTS (SELECT 1 FROM archive.page_records WHERE html LIKE '%href=\"/t/%')"

# Page records given straight to the renderers: odd shapes give pages or errors with a code.
run <<'SQL'
SELECT count(h.try('render_records', 'record/' || n, format('SELECT length(archive.page_html(%L)) + length(archive.page_markdown(%L)) + length(archive.page_prose(%L)::text)', r, r, r)))
FROM (VALUES
    (1, '{}'), (2, '[]'), (3, '"x"'), (4, 'null'), (5, '{"name": null}'), (6, '{"name": 1}'),
    (7, '{"references": "x"}'), (8, '{"references": [1]}'), (9, '{"references": [{"title": 1}]}'),
    (10, '{"post_count": -1}'), (11, '{"post_count": 1e30}'), (12, '{"post_count": "3"}'),
    (13, '{"first_published": "infinity"}'), (14, '{"first_published": "garbage"}'),
    (15, '{"first_published": "294277-01-01T00:00:00Z"}'), (16, '{"adjacent_tags": [{"term": null}, {"term": "a", "count": 1.5}]}'),
    (17, '{"adjacent_tags": [{"term": "x", "url": "javascript:alert(1)"}, {"term": "y", "url": "/ok"}]}'),
    (18, '{"reading_path": [{"role": "<script>", "title": "t", "shared_tags": ["<b>"]}]}'),
    (19, '{"name": "~~~", "lens": "```", "advice": ["~~~ fence", "    code", "- list"]}'),
    (20, '{"references": [{"title": "a", "url": " \t javascript:alert(1)", "tags": ["x", null, 1]}]}'),
    (21, '{"post_count": 9223372036854775807, "references": []}'),
    (22, '{"adjacent_tags": [{"term": "x", "count": -5}]}'),
    (23, '{"name": "' || repeat('x', 100000) || '"}')
) AS v(n, r);
SQL
check render_records "
  SELECT name, outcome, sqlstate, message FROM h.results
  WHERE section = 'render_records' AND (outcome = 'error' AND sqlstate LIKE 'XX%')"

# ---------------------------------------------------------------------------------------------
# archive.markdown_to_html of hostile Markdown: cmark's safe mode leaves out raw HTML and empties
# unsafe urls.
check markdown_safe "
  WITH inputs AS (
      SELECT name, value AS md FROM h.strings WHERE octet_length(value) <= 65536
      UNION ALL VALUES
        ('link_js', '[a](javascript:alert(1)) [b](JAVASCRIPT:alert(1)) [c](  javascript:alert(1))'),
        ('link_vb', '[a](vbscript:msgbox(1)) [b](file:///etc/passwd)'),
        ('link_data', '[a](data:text/html,x) ![b](data:text/html,x) ![c](data:image/svg+xml,x)'),
        ('ref_js', E'[a]\n\n[a]: javascript:alert(1)'),
        ('autolink_js', '<javascript:alert(1)> <JaVaScRiPt:x>'),
        ('entity_js', '[a](&#106;avascript:alert(1)) [b](java&#x73;cript:alert(1))'),
        ('escaped_js', '[a](java\\script:alert(1))'),
        ('raw_html', E'<script>alert(1)</script>\n\n<div onclick=\"x\">y</div>\n\n<img src=x onerror=alert(1)>'),
        ('inline_html', 'text <span onmouseover=alert(1)>x</span> <a href=\"javascript:x\">y</a>'),
        ('html_block_7', E'<custom-tag onload=\"x\">\nbody\n</custom-tag>'),
        ('title_attr', '[a](http://x.example \"\\\"onmouseover=alert(1)\")'),
        ('image_onerror', '![x\" onerror=\"alert(1)](http://x.example/i.png)')
  ),
  rendered AS (SELECT name, archive.markdown_to_html(md) AS html FROM inputs)
  SELECT name, 'raw tag: ' || left(m[1], 80) FROM rendered, regexp_matches(html, '(<[^>]*>)', 'g') AS m
  WHERE m[1] !~ '^<(/?(p|h[1-6]|em|strong|code|pre|blockquote|ul|ol|li|hr|br|a)( /)?|!-- raw HTML omitted --|ol start=\"[0-9]+\"|(a href|img src)=\"[^\"<>]*\"( (alt|title)=\"[^\"<>]*\")*( /)?|code class=\"language-[^\"<> ]*\"|a href=\"[^\"<>]*\" title=\"[^\"<>]*\")>$'
  UNION ALL
  SELECT name, 'unsafe url: ' || left(m[1], 80) FROM rendered, regexp_matches(html, '(?:href|src)=\"([^\"]*)\"', 'g') AS m
  WHERE replace(m[1], '&amp;', '&') ~* '^\s*(javascript|vbscript|file):'
     OR (replace(m[1], '&amp;', '&') ~* '^\s*data:' AND replace(m[1], '&amp;', '&') !~* '^data:image/(png|gif|jpeg|webp);')
  UNION ALL
  SELECT name, 'script' FROM rendered WHERE html ~* '<\s*script'"

# ---------------------------------------------------------------------------------------------
# cmark 0.30's quadratic inputs (its test/pathological_tests.py and the CVE-2023-22484/22486
# reports), each cut to exactly archive.max_markdown_bytes bytes.
run <<'SQL'
SELECT archive.settings();  -- loads the module, and with it the archive.* settings
CREATE TABLE h.quadratic (name text PRIMARY KEY, pattern text, tail text DEFAULT '');
INSERT INTO h.quadratic (name, pattern, tail) VALUES
    ('nested [', '[', ''),
    ('nested [ then ]', '[', 'a' || repeat(']', 30000)),
    ('![[]() repeated', '![[]()', ''),
    ('[ (]( repeated', '[ (](', ''),
    ('nested strong emphasis *a **b', '*a **a ', 'b'),
    ('emphasis closers a_', 'a_ ', ''),
    ('emphasis openers _a', '_a ', ''),
    ('3-emphasis openers a***', 'a***', ''),
    ('mismatched *a_', '*a_ ', ''),
    ('closers multiple of 3 c*', 'c* ', ''),
    ('link openers and emph closers [ a_', '[ a_', ''),
    ('link closers a]', 'a]', ''),
    ('link openers [a', '[a', ''),
    ('nested block quotes > > >', '> ', 'a'),
    ('nested lists', '* ', 'a'),
    ('unclosed links [a](<b', '[a](<b', ''),
    ('unclosed links [a](b', '[a](b', ''),
    ('unclosed comments <!--', '<!--', ''),
    ('unclosed <?', '<?', ''),
    ('unclosed <![CDATA[', '<![CDATA[', ''),
    ('many < ', '<', ''),
    ('backticks e`', 'e`', ''),
    ('entities &#', '&#', ''),
    ('hard breaks', E'a\\\n', ''),
    ('link reference definitions', '', '');
CREATE TABLE h.quadratic_inputs AS
SELECT q.name,
       CASE q.name
           WHEN 'link reference definitions' THEN
               left((SELECT string_agg(format(E'[%s]: u\n', i), '') FROM generate_series(1, 20000) AS i), cap - 5000)
               || left(repeat('[0] ', 5000), 5000)
           WHEN 'backticks e`' THEN
               left((SELECT string_agg('e' || repeat('`', i), '') FROM generate_series(1, 400) AS i), cap)
           WHEN 'nested lists' THEN
               left((SELECT string_agg(repeat('  ', i) || E'* a\n', '') FROM generate_series(0, 400) AS i), cap)
           ELSE left(repeat(q.pattern, cap / length(q.pattern)), cap - octet_length(left(q.tail, cap / 2)))
                || left(q.tail, cap / 2)
       END AS md
FROM h.quadratic AS q,
     (SELECT setting::int AS cap FROM pg_settings WHERE name = 'archive.max_markdown_bytes') AS s;
-- pad the short ones with plain text to the cap exactly (the time is measured at the cap)
UPDATE h.quadratic_inputs SET md = md || repeat('x', (SELECT setting::int FROM pg_settings WHERE name = 'archive.max_markdown_bytes') - octet_length(md));
SELECT count(h.try('quadratic', name, format('SELECT octet_length(archive.markdown_to_html(%L))::text', md)))
FROM h.quadratic_inputs;
SELECT h.try('quadratic', 'one byte over the cap', format('SELECT archive.markdown_to_html(%L)', md || 'x'), '54000')
FROM h.quadratic_inputs WHERE name = 'nested [';
SQL
echo "quadratic inputs at the cap ($(in_db -A -t -c "SELECT archive.settings() ->> 'max_markdown_bytes'") bytes), time to HTML:"
in_db -A -t -F ' ' -c "SELECT format('  %-40s %8s ms  %s', name, round(ms::numeric, 1), CASE WHEN outcome = 'ok' THEN message || ' bytes of HTML' ELSE sqlstate || ' ' || message END)
                       FROM h.results WHERE section = 'quadratic' ORDER BY n"
check quadratic "
  SELECT name, round(ms::numeric, 1) AS ms, outcome, sqlstate, message FROM h.results
  WHERE section = 'quadratic' AND name <> 'one byte over the cap' AND (outcome <> 'ok' OR ms > 1000)
  UNION ALL
  SELECT i.name, NULL, 'not at the cap', octet_length(i.md)::text, NULL FROM h.quadratic_inputs AS i
  WHERE octet_length(i.md) <> (SELECT setting::int FROM pg_settings WHERE name = 'archive.max_markdown_bytes')
  UNION ALL
  SELECT name, NULL, outcome, sqlstate, message FROM h.results
  WHERE name = 'one byte over the cap' AND NOT (outcome = 'error' AND sqlstate = '54000' AND message LIKE '%archive.max_markdown_bytes%')
  UNION ALL
  SELECT 'inputs timed: ' || count(*), NULL, NULL, NULL, NULL FROM h.results WHERE section = 'quadratic' HAVING count(*) < 26"

# ---------------------------------------------------------------------------------------------
# Summary values: seeds, then mutants of their text and binary forms.
run <<'SQL'
SELECT setseed(0.42);
CREATE TABLE h.seed_posts AS
SELECT i, CASE WHEN i % 9 = 0 THEN NULL ELSE timestamptz '2019-01-01 00:00:00+00' + (i * 17) * interval '1 day' END AS at,
       ARRAY['t' || (i % 7), 'Tag ' || (i % 3), 'тег' || (i % 2), '数据' || (i % 4)] AS tags,
       'Title number ' || i || ' about ' || (ARRAY['testing', 'databases', 'Тестирование', '数据库测试', 'émigré cafés'])[1 + i % 5] AS title
FROM generate_series(1, 60) AS i;
CREATE TABLE h.seeds (kind text, name text, value text);
INSERT INTO h.seeds
SELECT 'termcounts', 'tags', archive.tag_counts_agg(tags)::text FROM h.seed_posts
UNION ALL SELECT 'termcounts', 'tags small', archive.tag_counts_agg(tags)::text FROM h.seed_posts WHERE i < 4
UNION ALL SELECT 'termcounts', 'motifs', archive.title_terms_agg(title)::text FROM h.seed_posts
UNION ALL SELECT 'termcounts', 'motifs small', archive.title_terms_agg(title)::text FROM h.seed_posts WHERE i < 3
UNION ALL SELECT 'termcounts', 'empty', archive.tag_counts_agg(tags)::text FROM h.seed_posts WHERE false
UNION ALL SELECT 'termcounts', 'no terms', archive.tag_counts_agg('{}'::text[])::text FROM h.seed_posts
UNION ALL SELECT 'span', 'span', archive.topic_span(at)::text FROM h.seed_posts
UNION ALL SELECT 'span', 'span small', archive.topic_span(at)::text FROM h.seed_posts WHERE i < 3
UNION ALL SELECT 'span', 'undated', archive.topic_span(NULL::timestamptz)::text FROM h.seed_posts WHERE i < 5
UNION ALL SELECT 'span', 'bc', archive.topic_span(t)::text FROM (VALUES (timestamptz '4713-01-01 00:00:00+00 BC'), ('0001-12-31 23:59:59+00 BC'), ('294276-12-31 23:59:59+00')) AS v(t);
DELETE FROM h.seeds WHERE value IS NULL;

-- Mutations of text: cut, a character replaced by one of JSON's or a wild one, a number replaced
-- by an extreme, a random slice repeated or dropped.
CREATE FUNCTION h.mutate_text(t text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    n int := length(t);
    p int := 1 + floor(random() * greatest(n, 1))::int;
    q int := 1 + floor(random() * greatest(n, 1))::int;
    specials text[] := ARRAY['{', '}', '[', ']', '"', ',', ':', '\', '-', '0', '9', ' ', 'e', '.', 'n', E'\u00e9', '\u0000', '\ud800', 'null', 'true', '[]', '{}', '""'];
    numbers text[] := ARRAY['-1', '0', '1', '15', '16', '17', '1048576', '1048577', '2147483647', '2147483648', '-2147483649',
                            '9223372036854775807', '9223372036854775808', '-9223372036854775808', '1e308', '1.5', '-0', '1e-5', '"1"', 'null'];
    times text[] := ARRAY['"infinity"', '"-infinity"', '"294277-01-01T00:00:00Z"', '"4714-01-01T00:00:00Z BC"', '"2020-02-30T00:00:00Z"',
                          '"2020-01-01T00:00:00+14:00"', '"2020-13-01"', '"x"', '""', '0', 'null', '"2020-01"'];
    months text[] := ARRAY['"2020-00"', '"2020-13"', '"-5000-01"', '"294277-01"', '"2020-1x"', '"x"', '"2020-01-01"', '2020', '"99999999999-01"', '"2020-02"'];
    kind int := floor(random() * 8)::int;
BEGIN
    CASE kind
        WHEN 0 THEN RETURN left(t, floor(random() * n)::int);
        WHEN 1 THEN RETURN overlay(t PLACING specials[1 + floor(random() * array_length(specials, 1))::int] FROM p FOR 1);
        WHEN 2 THEN
            -- one of the numbers (there is always one: capacity, rows or posts)
            RETURN regexp_replace(t, '-?[0-9]+', numbers[1 + floor(random() * array_length(numbers, 1))::int],
                                  1, 1 + floor(random() * greatest(regexp_count(t, '-?[0-9]+'), 1))::int);
        WHEN 3 THEN RETURN regexp_replace(t, '"[0-9]{4}-[0-9]{2}-[0-9]{2}T[^"]*"', times[1 + floor(random() * array_length(times, 1))::int]);
        WHEN 4 THEN RETURN regexp_replace(t, '"-?[0-9]+-[0-9]{2}"', months[1 + floor(random() * array_length(months, 1))::int]);
        WHEN 5 THEN RETURN left(t, least(p, q)) || substr(t, least(p, q), abs(p - q) + 1) || substr(t, least(p, q) + 1);
        WHEN 6 THEN RETURN left(t, least(p, q) - 1) || substr(t, greatest(p, q));
        ELSE RETURN overlay(t PLACING chr(1 + floor(random() * 1000)::int) FROM p FOR 1);
    END CASE;
END
$$;

-- Mutations of bytes: cut, bit flips, a byte set, an int32 or int64 window set to an extreme (in
-- network byte order, the binary form's, or little-endian), bytes inserted, dropped or repeated,
-- random bytes after the header (26 bytes for a summary, 37 for a span), or random bytes only.
CREATE FUNCTION h.random_bytes(n int) RETURNS bytea LANGUAGE sql AS $$
    SELECT coalesce(decode(string_agg(lpad(to_hex(floor(random() * 256)::int), 2, '0'), ''), 'hex'), '')
    FROM generate_series(1, n)
$$;
CREATE FUNCTION h.mutate_bytes(b bytea) RETURNS bytea LANGUAGE plpgsql AS $$
DECLARE
    n int := length(b);
    p int := floor(random() * greatest(n, 1))::int;
    q int := floor(random() * greatest(n, 1))::int;
    int32s bytea[] := ARRAY['\x00000000', '\xffffffff', '\x7fffffff', '\x80000000', '\x00000001', '\x00000010', '\x00001000', '\x00000021', '\x00100000', '\x00100001',
                            '\xffffff7f', '\x00000080', '\x01000000', '\x10000000', '\x21000000', '\x01001000']::bytea[];
    int64s bytea[] := ARRAY['\x0000000000000000', '\xffffffffffffffff', '\x7fffffffffffffff', '\x8000000000000000', '\x0000000000000001',
                            '\x7fffffffffffe000', '\xfff0000000000000', '\x0008000000000000', '\x0000009fb6a6a0d6',
                            '\xffffffffffffff7f', '\x0000000000000080', '\x0100000000000000',
                            '\x00e0ffffffffff7f', '\x000000000000f0ff', '\x0000000000000800', '\xd6a0a6b69f000000']::bytea[];
    kind int := floor(random() * 11)::int;
    r bytea := b;
BEGIN
    IF n = 0 THEN
        RETURN h.random_bytes(floor(random() * 64)::int);
    END IF;
    CASE kind
        WHEN 0 THEN RETURN substr(b, 1, floor(random() * n)::int);
        WHEN 1 THEN RETURN set_bit(b, floor(random() * n * 8)::int, 1 - get_bit(b, floor(random() * n * 8)::int));
        WHEN 2 THEN
            FOR i IN 1 .. 2 + floor(random() * 6)::int LOOP
                p := floor(random() * n * 8)::int;
                r := set_bit(r, p, 1 - get_bit(r, p));
            END LOOP;
            RETURN r;
        WHEN 3 THEN RETURN set_byte(b, p, floor(random() * 256)::int);
        WHEN 4 THEN RETURN substr(overlay(b PLACING int32s[1 + floor(random() * array_length(int32s, 1))::int] FROM 1 + p FOR 4), 1, greatest(n, p + 4));
        WHEN 5 THEN RETURN substr(overlay(b PLACING int64s[1 + floor(random() * array_length(int64s, 1))::int] FROM 1 + p FOR 8), 1, greatest(n, p + 8));
        WHEN 6 THEN RETURN substr(b, 1, p) || h.random_bytes(1 + floor(random() * 16)::int) || substr(b, p + 1);
        WHEN 7 THEN RETURN substr(b, 1, least(p, q)) || substr(b, greatest(p, q) + 1);
        WHEN 8 THEN RETURN substr(b, 1, greatest(p, q)) || substr(b, least(p, q) + 1);
        WHEN 9 THEN RETURN substr(b, 1, CASE WHEN random() < 0.5 THEN 26 ELSE 37 END) || h.random_bytes(floor(random() * 120)::int);
        ELSE RETURN h.random_bytes(floor(random() * 200)::int);
    END CASE;
END
$$;

-- Text form: each mutant cast; an accepted one must read back from its own text unchanged.
CREATE TABLE h.text_cases AS
SELECT s.kind, s.name || ' #' || g AS name, h.mutate_text(CASE WHEN g % 5 = 0 THEN h.mutate_text(s.value) ELSE s.value END) AS value
FROM h.seeds AS s, generate_series(1, 220) AS g;
SELECT count(h.try('summary_text', kind || ' ' || name,
                   format('SELECT CASE WHEN v::text::%1$s::text = v::text THEN ''ok'' ELSE ''round trip differs: '' || v::text END FROM (SELECT %2$L::%1$s AS v) AS x',
                          'archive.' || kind, value)))
FROM h.text_cases WHERE value IS NOT NULL;
SQL
check summary_text "
  SELECT name, outcome, sqlstate, message FROM h.results
  WHERE section = 'summary_text'
    AND NOT ((outcome = 'error' AND (sqlstate LIKE '22%' OR sqlstate = '54001'))
             OR (outcome = 'ok' AND message = 'ok'))"
echo "summary text forms: $(in_db -A -t -c "SELECT count(*) || ' mutants, ' || count(*) FILTER (WHERE outcome = 'ok') || ' accepted (read back equal), ' || count(*) FILTER (WHERE outcome = 'error') || ' refused: ' || (SELECT string_agg(sqlstate || ' x' || c, ', ' ORDER BY c DESC) FROM (SELECT sqlstate, count(*) AS c FROM h.results WHERE section = 'summary_text' AND outcome = 'error' GROUP BY 1) AS x) FROM h.results WHERE section = 'summary_text'")"

# Binary form: each mutant written as the binary COPY field of one row, then read into a column of
# the type, which calls its receive function on exactly those bytes.
run -v scratch="$scratch" <<'SQL'
SELECT setseed(0.17);
CREATE TABLE h.recv_termcounts (v archive.termcounts);
CREATE TABLE h.recv_span (v archive.span);
CREATE TABLE h.binary_cases AS
SELECT s.kind, s.name || ' #' || g AS name,
       h.mutate_bytes(CASE WHEN g % 4 = 0 THEN h.mutate_bytes(b.bytes) ELSE b.bytes END) AS bytes
FROM h.seeds AS s
CROSS JOIN LATERAL (SELECT CASE s.kind WHEN 'span' THEN archive.span_send(s.value::archive.span)
                                       ELSE archive.termcounts_send(s.value::archive.termcounts) END AS bytes) AS b
CROSS JOIN generate_series(1, 300) AS g;
CREATE FUNCTION h.recv(kind text, bytes bytea, file text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    sent bytea;
    txt text;
BEGIN
    EXECUTE format('COPY (SELECT %L::bytea) TO %L WITH (FORMAT binary)', bytes, file);
    EXECUTE format('TRUNCATE h.recv_%s', kind);
    EXECUTE format('COPY h.recv_%s FROM %L WITH (FORMAT binary)', kind, file);
    EXECUTE format('SELECT archive.%1$s_send(v), v::text FROM h.recv_%1$s', kind) INTO sent, txt;
    IF sent IS DISTINCT FROM bytes THEN
        RETURN 'accepted, but sends other bytes: ' || encode(bytes, 'hex') || ' -> ' || encode(sent, 'hex');
    END IF;
    EXECUTE format('SELECT %L::archive.%s::text', txt, kind) INTO txt;
    RETURN 'ok';
END
$$;
SELECT count(h.try('summary_binary', kind || ' ' || name,
                   format('SELECT h.recv(%L, %L, %L)', kind, bytes, :'scratch' || '/case.bin')))
FROM h.binary_cases;
SQL
check summary_binary "
  SELECT name, outcome, sqlstate, message FROM h.results
  WHERE section = 'summary_binary'
    AND NOT ((outcome = 'error' AND sqlstate = '22P03')
             OR (outcome = 'ok' AND message = 'ok'))"
echo "summary binary forms: $(in_db -A -t -c "SELECT count(*) || ' mutants, ' || count(*) FILTER (WHERE outcome = 'ok') || ' accepted (send back the same bytes), ' || count(*) FILTER (WHERE outcome = 'error') || ' refused: ' || (SELECT string_agg(sqlstate || ' x' || c, ', ' ORDER BY c DESC) FROM (SELECT sqlstate, count(*) AS c FROM h.results WHERE section = 'summary_binary' AND outcome = 'error' GROUP BY 1) AS x) FROM h.results WHERE section = 'summary_binary'")"

# ---------------------------------------------------------------------------------------------
check internal_errors "
  SELECT section, name, sqlstate, message FROM h.results
  WHERE outcome = 'error' AND sqlstate LIKE 'XX%'"

now=$(admin -A -t -c "$server_sql" 2>&1 || echo "server down")
crashes=""
if [[ -n ${ARCHIVE_SERVER_LOG:-} && -f $ARCHIVE_SERVER_LOG ]]; then
  crashes=$(tail -c +$((log_start + 1)) "$ARCHIVE_SERVER_LOG" | grep -E "terminated by signal|was terminated by|all server processes terminated" || true)
fi
check_that server_up "$([[ $now == "$started" && -z $crashes ]] && echo 1 || echo 0)" \
  "before: postmaster started $started; now: $now"
[[ -z $crashes ]] || printf '%s\n' "$crashes" | head -n 20

cases=$(in_db -A -t -c "SELECT count(*) FROM h.results" 2>/dev/null || echo 0)
echo "hostile: $cases cases tried"
echo "SUITE-COUNT: $passed $failed"
((failed == 0))
