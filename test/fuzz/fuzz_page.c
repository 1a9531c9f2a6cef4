/*-------------------------------------------------------------------------
 *
 * fuzz_page.c
 *	  libFuzzer target over the topic page: src/page.c (the sentences, the
 *	  cmark tree, page_markdown and page_html) and src/render.c (cmark, and
 *	  render_markdown_html, what archive.markdown_to_html runs), with
 *	  src/page_record.c's folding, url checks and chart, compiled unchanged
 *	  with shim.c and Debian's libcmark.
 *
 * The input is a page record (jsonb cannot be parsed outside a server, so
 * in a form of its own): entries, each a key byte and its value up to a
 * NUL byte, which no jsonb string holds.  Keys, as in the jsonb record:
 *	n l h	name, lens, through_line
 *	a p		an element of advice, of pitfalls
 *	c u		post_count, undated_posts (decimal)
 *	f z		first_published, last_published (decimal microseconds since
 *			2000-01-01 UTC, within timestamptz's range)
 *	A M E N	a term of adjacent_tags, title_motifs, early_motifs,
 *			recent_motifs (the value is the term); # its count (decimal)
 *	P R		a post of reading_path, references (the value is its title);
 *			S O G D its summary, role, a tag, published_at
 *	U		the url of the last term or post
 *	Y		a month of posts_per_month: "YYYY-MM=count"
 * Every text is made what a jsonb string holds (valid UTF-8, an invalid
 * byte read as U+FFFD) and goes through page_fold_text or page_link_url,
 * months through page_month_year and page_chart_sum, counts and defaults
 * as page_record_read makes them: the record is one page_record_read can
 * return, and the page one SQL can ask for.  A record page_chart_sum
 * refuses (a year's posts past a bigint) is skipped.
 *
 * What must hold of the page (any ERROR from here on is a finding):
 *	- The Markdown and the HTML page are valid UTF-8, and no render leaves
 *	  its memory context behind.
 *	- The HTML page is page.c's document: before <main> and after it only
 *	  its own elements; in <main>, the chart's SVG figure (when the record
 *	  has a chart, and only then) holds no link, no event handler and no
 *	  "nan" or "inf", and a bar for every year with posts; the rest holds
 *	  only the elements of the page's cmark tree (h1, h2, p, ul, ol, li, a,
 *	  br), links with an href alone, each relative or http, https or mailto
 *	  as a browser reads it, text escaped.
 *	- Page.c's header, literally: the Markdown, parsed back and rendered by
 *	  render_markdown_html, is the <main> of the HTML page with the
 *	  Markdown's chart code block in place of the SVG figure, byte for byte.
 *	  And the Markdown parsed back links no url that the page would not
 *	  (safe mode would hide one in both HTML forms alike).
 *	- The chart code block names the years and says, per year from the
 *	  first to the last, that year and its posts, with a bar of 1 to 30
 *	  blocks when it has posts (30 for the most), none when it has none.
 *	- The page's first line is the name as its <h1>; every title, summary
 *	  and tag of the references, every title of the reading path, every
 *	  advice and pitfall, the through-line, the lens (when the topic has posts), the three
 *	  strongest adjacent tags and the four first title motifs appear as
 *	  text in it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/memnodes.h"
#include "utils/timestamp.h"

#include "archive.h"
#include "page.h"
#include "render.h"
#include "htmlcheck.h"
#include "shim.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* archive.max_markdown_bytes: its highest value, so that the Markdown of any page is parsed back. */
int			archive_max_markdown_bytes = 16 * 1024 * 1024;

/* U+2588 FULL BLOCK, a bar's character in the chart code block. */
#define FULL_BLOCK "\xE2\x96\x88"

/* The HTML page outside <main>, the chart's figure, the page's cmark tree, cmark's HTML of a Markdown text. */
static const char *const document_elements[] = {
	"!DOCTYPE", "html", "head", "meta", "title", "style", "body", "main", NULL
};
static const char *const document_attributes[] = {
	"html lang", "meta charset", "meta http-equiv", "meta content", "meta name", NULL
};
static const HtmlRules document_rules = {document_elements, document_attributes, false, false, true};
static const char *const chart_elements[] = {
	"figure", "svg", "title", "desc", "g", "text", "line", "rect", NULL
};
static const HtmlRules chart_rules = {chart_elements, NULL, false, false, true};
static const char *const tree_elements[] = {"h1", "h2", "p", "ul", "ol", "li", "a", "br", NULL};
static const char *const tree_attributes[] = {"a href", NULL};
static const HtmlRules tree_rules = {tree_elements, tree_attributes, false, true, true};

/* ---------- the record ---------- */

/* An entry's value as a jsonb string holds it: valid UTF-8, an invalid byte read as U+FFFD. */
static StringInfo
json_string(const char *bytes, int len)
{
	StringInfo	str = makeStringInfo();

	for (int i = 0; i < len;)
	{
		int			n = pg_utf_mblen((const unsigned char *) bytes + i);

		if (i + n <= len && pg_utf8_islegal((const unsigned char *) bytes + i, n))
		{
			appendBinaryStringInfo(str, bytes + i, n);
			i += n;
		}
		else
		{
			appendStringInfoString(str, "\xEF\xBF\xBD");
			i++;
		}
	}
	return str;
}

/* An entry's value folded as the reader folds text; NULL when blank. */
static char *
entry_text(const char *bytes, int len)
{
	StringInfo	str = json_string(bytes, len);

	return page_fold_text(str->data, str->len);
}

/* An entry's value as the reader links a url; NULL when not linked. */
static char *
entry_url(const char *bytes, int len)
{
	StringInfo	str = json_string(bytes, len);

	return page_link_url(str->data, str->len);
}

/* A decimal number, optionally signed, clamped to [min, max]; min when there are no digits. */
static int64
entry_number(const char *bytes, int len, int64 min, int64 max)
{
	bool		negative = len > 0 && bytes[0] == '-';
	int64		n = 0;
	bool		digits = false;

	for (int i = negative ? 1 : 0; i < len && bytes[i] >= '0' && bytes[i] <= '9'; i++)
	{
		digits = true;
		if (n > (PG_INT64_MAX - 9) / 10)
		{
			n = PG_INT64_MAX;
			break;
		}
		n = n * 10 + (bytes[i] - '0');
	}
	if (!digits)
		return min;
	if (negative)
		n = -n;
	return Max(min, Min(max, n));
}

/* A time as UTC calendar fields, as the reader makes them. */
static void
entry_time(const char *bytes, int len, struct pg_tm *tm)
{
	fsec_t		fsec;
	TimestampTz time = entry_number(bytes, len, MIN_TIMESTAMP, END_TIMESTAMP - 1);

	if (timestamp2tm(time, NULL, tm, &fsec, NULL, NULL) != 0)
		FUZZ_FAIL("timestamp2tm refused " INT64_FORMAT, time);
}

/* A new term of a list of the record, NULL when the term is blank (the reader leaves it out). */
static PageTerm *
new_term(List **terms, const char *bytes, int len)
{
	PageTerm   *term = palloc0(sizeof(PageTerm));

	term->term = entry_text(bytes, len);
	if (term->term == NULL)
		return NULL;
	term->count = -1;
	*terms = lappend(*terms, term);
	return term;
}

/* A new post of a list of the record. */
static PagePost *
new_post(List **posts, const char *bytes, int len)
{
	PagePost   *post = palloc0(sizeof(PagePost));

	post->title = entry_text(bytes, len);
	if (post->title == NULL)
		post->title = "Untitled post";
	*posts = lappend(*posts, post);
	return post;
}

/* The record an input describes (see the file header); ERROR when page_chart_sum refuses it. */
static PageRecord *
decode_record(const char *data, size_t size)
{
	PageRecord *r = palloc0(sizeof(PageRecord));
	const char *end = data + size;
	PageTerm   *term = NULL;
	PagePost   *post = NULL;
	bool		has_posts = false;
	bool		has_undated = false;
	bool		has_first = false;
	bool		has_last = false;
	int		   *years = palloc(sizeof(int) * (size + 1));
	int64	   *counts = palloc(sizeof(int64) * (size + 1));
	int			months = 0;

	while (data < end)
	{
		const char *nul = memchr(data, '\0', end - data);
		const char *v = data + 1;
		int			len = (nul != NULL ? nul : end) - v;
		char		key = *data;

		data = nul != NULL ? nul + 1 : end;
		switch (key)
		{
			case 'n':
				r->name = entry_text(v, len);
				break;
			case 'l':
				r->lens = entry_text(v, len);
				break;
			case 'h':
				r->through_line = entry_text(v, len);
				break;
			case 'a':
			case 'p':
				{
					char	   *text = entry_text(v, len);

					if (text != NULL && key == 'a')
						r->advice = lappend(r->advice, text);
					else if (text != NULL)
						r->pitfalls = lappend(r->pitfalls, text);
				}
				break;
			case 'c':
				r->posts = entry_number(v, len, 0, PG_INT64_MAX);
				has_posts = true;
				break;
			case 'u':
				r->undated = entry_number(v, len, 0, PG_INT64_MAX);
				has_undated = true;
				break;
			case 'f':
				entry_time(v, len, &r->first);
				has_first = true;
				break;
			case 'z':
				entry_time(v, len, &r->last);
				has_last = true;
				break;
			case 'A':
			case 'M':
			case 'E':
			case 'N':
				term = new_term(key == 'A' ? &r->adjacent : key == 'M' ? &r->motifs :
								key == 'E' ? &r->early : &r->recent, v, len);
				post = NULL;
				break;
			case '#':
				if (term != NULL)
					term->count = entry_number(v, len, 0, PG_INT64_MAX);
				break;
			case 'P':
			case 'R':
				post = new_post(key == 'P' ? &r->path : &r->references, v, len);
				term = NULL;
				break;
			case 'U':
				if (term != NULL)
					term->url = entry_url(v, len);
				else if (post != NULL)
					post->url = entry_url(v, len);
				break;
			case 'S':
			case 'O':
			case 'G':
				if (post != NULL)
				{
					char	   *text = entry_text(v, len);

					if (key == 'S')
						post->summary = text;
					else if (key == 'O')
						post->role = text;
					else if (text != NULL)
						post->tags = lappend(post->tags, text);
				}
				break;
			case 'D':
				if (post != NULL)
				{
					entry_time(v, len, &post->published);
					post->dated = true;
				}
				break;
			case 'Y':
				{
					const char *eq = memchr(v, '=', len);

					if (eq == NULL)
						break;
					years[months] = page_month_year(v, eq - v);
					counts[months] = entry_number(eq + 1, len - (eq + 1 - v), 0, PG_INT64_MAX);
					if (years[months] > 0)
						months++;
				}
				break;
		}
	}

	/* The reader's defaults: the name, the counts from the references, one end of the span for both. */
	if (r->name == NULL)
		r->name = "Untitled topic";
	if (!has_posts)
		r->posts = list_length(r->references);
	if (!has_undated)
	{
		ListCell   *lc;

		foreach(lc, r->references)
			r->undated += ((PagePost *) lfirst(lc))->dated ? 0 : 1;
	}
	if (has_first && !has_last)
		r->last = r->first;
	else if (has_last && !has_first)
		r->first = r->last;
	r->dated = has_first || has_last;
	page_chart_sum(&r->chart, years, counts, months);
	return r;
}

/* ---------- the checks ---------- */

/* The start of needle in haystack (its first len bytes), or NULL. */
static const char *
find(const char *haystack, size_t len, const char *needle)
{
	size_t		n = strlen(needle);

	for (const char *p = haystack; p + n <= haystack + len; p++)
		if (memcmp(p, needle, n) == 0)
			return p;
	return NULL;
}

/* Fail unless text appears, escaped, in the HTML. */
static void
check_shown(const char *html, const char *what, const char *text)
{
	if (text != NULL && strstr(html, escape_text(text)) == NULL)
		FUZZ_FAIL("the page does not show the %s \"%s\"", what, text);
}

/* Fail unless every title of the posts, and with_details their summaries and tags, appear in the HTML. */
static void
check_posts_shown(const char *html, List *posts, bool with_details)
{
	ListCell   *lc;

	foreach(lc, posts)
	{
		PagePost   *post = lfirst(lc);
		ListCell   *tc;

		check_shown(html, "title", post->title);
		if (!with_details)
			continue;
		check_shown(html, "summary", post->summary);
		foreach(tc, post->tags)
			check_shown(html, "tag", lfirst(tc));
	}
}

/* Fail unless the first k terms appear in the HTML. */
static void
check_terms_shown(const char *html, const char *what, List *terms, int k)
{
	ListCell   *lc;

	foreach(lc, terms)
	{
		if (foreach_current_index(lc) == k)
			break;
		check_shown(html, what, ((PageTerm *) lfirst(lc))->term);
	}
}

/* Fail unless the chart code block's text (unescaped: it has nothing to escape) says the chart. */
static void
check_chart_text(const char *text, const PageChart *chart)
{
	char	   *label = chart->years == 1 ?
		psprintf("Posts per year, %d\n\n", chart->first) :
		psprintf("Posts per year, %d to %d\n\n", chart->first, chart->first + chart->years - 1);
	const char *p = text;

	if (strncmp(p, label, strlen(label)) != 0)
		FUZZ_FAIL("the chart code block does not start with \"%s\": \"%.60s\"", label, text);
	p += strlen(label);
	for (int i = 0; i < chart->years; i++)
	{
		char	   *after;
		long		year = strtol(p, &after, 10);
		int64		posts;
		int			bar = 0;

		if (after == p || year != chart->first + i)
			FUZZ_FAIL("line %d of the chart code block is not year %d: \"%.40s\"", i, chart->first + i, p);
		p = after;
		posts = strtoll(p, &after, 10);
		if (after == p || posts != chart->posts[i])
			FUZZ_FAIL("the chart code block gives year %ld other posts than " INT64_FORMAT, year, chart->posts[i]);
		p = after;
		if (strncmp(p, "  ", 2) == 0)
			p += 2;
		for (; strncmp(p, FULL_BLOCK, 3) == 0; p += 3)
			bar++;
		if (*p++ != '\n')
			FUZZ_FAIL("line %d of the chart code block does not end after its bar", i);
		if (posts == 0 ? bar != 0 : (bar < 1 || bar > 30 || (posts == chart->max && bar != 30)))
			FUZZ_FAIL("year %ld of " INT64_FORMAT " posts (the most: " INT64_FORMAT ") has a bar of %d",
					  year, posts, chart->max, bar);
	}
	if (*p != '\0')
		FUZZ_FAIL("the chart code block goes on after its last year: \"%.40s\"", p);
}

/* Fail unless the SVG figure has a bar for each year with posts and only numbers in it. */
static void
check_figure(const char *figure, size_t len, const PageChart *chart)
{
	char	   *svg = pnstrdup(figure, len);
	int			rects = 0;
	int			years = 0;

	check_html("the chart's figure", figure, len, &chart_rules);
	for (const char *p = svg; (p = strstr(p, "<rect ")) != NULL; p++)
		rects++;
	for (int i = 0; i < chart->years; i++)
		years += chart->posts[i] > 0;
	if (rects != years)
		FUZZ_FAIL("the chart's figure has %d bars for %d years with posts", rects, years);
	for (char *p = svg; *p != '\0'; p++)
		*p = pg_ascii_tolower(*p);
	if (strstr(svg, "nan") != NULL || strstr(svg, "inf") != NULL)
		FUZZ_FAIL("the chart's figure has a \"nan\" or \"inf\": %s", svg);
}

/*
 * Fail unless every link of the Markdown page, as cmark parses it, goes to a
 * url a page may link: the Markdown carries no other link for renderers
 * that are not in safe mode (which leaves such a link's href empty, in the
 * HTML page and in the Markdown parsed back alike).
 */
static void
check_markdown_links(const char *markdown)
{
	cmark_parser *parser = cmark_parser_new_with_mem(CMARK_OPT_DEFAULT, render_begin());
	cmark_iter *iter;
	cmark_event_type event;

	cmark_parser_feed(parser, markdown, strlen(markdown));
	iter = cmark_iter_new(cmark_parser_finish(parser));
	while ((event = cmark_iter_next(iter)) != CMARK_EVENT_DONE)
	{
		cmark_node *node = cmark_iter_get_node(iter);

		if (event == CMARK_EVENT_ENTER &&
			(cmark_node_get_type(node) == CMARK_NODE_LINK || cmark_node_get_type(node) == CMARK_NODE_IMAGE))
			check_link("a link of the Markdown page", cmark_node_get_url(node), true);
	}
	render_end();
}

/* Markdown as a text value, for render_markdown_html. */
static Datum
text_value(const char *str)
{
	size_t		len = strlen(str);
	char	   *value = palloc(VARHDRSZ + len);

	SET_VARSIZE(value, VARHDRSZ + len);
	memcpy(value + VARHDRSZ, str, len);
	return PointerGetDatum(value);
}

/* Every check of the file header on the page of one record. */
static void
check_page(MemoryContext cxt, PageRecord *r)
{
	static const char *const main_open = "<main>\n";
	static const char *const main_close = "</main>\n</body>\n</html>\n";
	static const char *const figure_open = "<figure class=\"chart\">\n";
	static const char *const figure_close = "</figure>\n";
	static const char *const code_open = "<pre><code class=\"language-text\">";
	static const char *const code_close = "</code></pre>\n";
	char	   *markdown = page_markdown(r);
	char	   *html;
	char	   *reparsed;
	const char *main_start;
	const char *main_end;
	const char *figure = NULL;
	const char *figure_end = NULL;
	const char *code = NULL;
	const char *code_end = NULL;
	StringInfoData expected;
	size_t		reparsed_len;
	char	   *h1;
	ListCell   *lc;

	if (cxt->firstchild != NULL)
		FUZZ_FAIL("page_markdown left its render context behind");
	html = page_html(r);
	if (cxt->firstchild != NULL)
		FUZZ_FAIL("page_html left its render context behind");
	check_utf8("the Markdown page", markdown, strlen(markdown));
	check_utf8("the HTML page", html, strlen(html));

	/* The document around <main>, the figure in it, the rest of it. */
	main_start = strstr(html, main_open);
	main_end = html + strlen(html) - strlen(main_close);
	if (main_start == NULL || main_end < main_start || strcmp(main_end, main_close) != 0)
		FUZZ_FAIL("the HTML page is not a document with a <main> at its end");
	main_start += strlen(main_open);
	check_html("the HTML page's head", html, main_start - html, &document_rules);
	check_html("the HTML page's end", main_end, strlen(main_end), &document_rules);
	figure = find(main_start, main_end - main_start, figure_open);
	if ((figure != NULL) != (r->chart.years > 0))
		FUZZ_FAIL("the HTML page %s a chart figure for a chart of %d years",
				  figure != NULL ? "has" : "has no", r->chart.years);
	if (figure != NULL)
	{
		figure_end = find(figure, main_end - figure, figure_close);
		if (figure_end == NULL)
			FUZZ_FAIL("the chart's figure does not end");
		figure_end += strlen(figure_close);
		check_figure(figure, figure_end - figure, &r->chart);
		check_html("the HTML page's <main> before the chart", main_start, figure - main_start, &tree_rules);
		check_html("the HTML page's <main> after the chart", figure_end, main_end - figure_end, &tree_rules);
	}
	else
		check_html("the HTML page's <main>", main_start, main_end - main_start, &tree_rules);

	/* The Markdown parsed back: the <main> with the chart code block in place of the figure. */
	reparsed = render_markdown_html(text_value(markdown));
	reparsed_len = strlen(reparsed);
	if (cxt->firstchild != NULL)
		FUZZ_FAIL("render_markdown_html left its render context behind");
	check_html("the Markdown page parsed back", reparsed, reparsed_len, &cmark_html_rules);
	initStringInfo(&expected);
	if (figure != NULL)
	{
		code = find(reparsed, reparsed_len, code_open);
		if (code != NULL)
			code_end = find(code, reparsed + reparsed_len - code, code_close);
		if (code_end == NULL)
			FUZZ_FAIL("the Markdown page parsed back has no chart code block");
		code_end += strlen(code_close);
		check_chart_text(pnstrdup(code + strlen(code_open), code_end - code - strlen(code_open) - strlen(code_close)),
						 &r->chart);
		appendBinaryStringInfo(&expected, main_start, figure - main_start);
		appendBinaryStringInfo(&expected, code, code_end - code);
		appendBinaryStringInfo(&expected, figure_end, main_end - figure_end);
	}
	else
		appendBinaryStringInfo(&expected, main_start, main_end - main_start);
	if ((size_t) expected.len != reparsed_len || memcmp(expected.data, reparsed, reparsed_len) != 0)
	{
		size_t		at = 0;

		while (at < reparsed_len && at < (size_t) expected.len && expected.data[at] == reparsed[at])
			at++;
		FUZZ_FAIL("the Markdown parsed back is not the HTML page's <main>: they part at byte %zu:\n"
				  "  HTML page: \"%.80s\"\n  Markdown:  \"%.80s\"\n  (Markdown source:\n%s)",
				  at, expected.data + at, reparsed + at, markdown);
	}

	check_markdown_links(markdown);

	/* The page shows its data. */
	h1 = psprintf("<h1>%s</h1>\n", escape_text(r->name));
	if (strncmp(reparsed, h1, strlen(h1)) != 0)
		FUZZ_FAIL("the page does not open with the name \"%s\" as its <h1>", r->name);
	check_posts_shown(reparsed, r->references, true);
	check_posts_shown(reparsed, r->path, false);
	foreach(lc, r->advice)
		check_shown(reparsed, "advice", lfirst(lc));
	foreach(lc, r->pitfalls)
		check_shown(reparsed, "pitfall", lfirst(lc));
	check_shown(reparsed, "through-line", r->through_line);
	if (r->posts > 0)
		check_shown(reparsed, "lens", r->lens);
	check_terms_shown(reparsed, "adjacent tag", r->adjacent, 3);
	check_terms_shown(reparsed, "title motif", r->motifs, 4);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	MemoryContext cxt = fuzz_begin();
	sigjmp_buf	jb;
	PageRecord *volatile record = NULL;

	if (sigsetjmp(jb, 0) == 0)
	{
		fuzz_error_jmp = &jb;
		record = decode_record((const char *) data, size);
		check_page(cxt, record);
	}
	else if (record != NULL)
		FUZZ_FAIL("an ERROR making the page of a record the reader accepts: %s", fuzz_error_message());
	fuzz_end(cxt);
	return 0;
}
