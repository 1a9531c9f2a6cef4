/*-------------------------------------------------------------------------
 *
 * page.c
 *	  The topic page: a page record (jsonb, built by the views, read by
 *	  page_record.c) made into the page's sentences, which
 *	  archive.page_prose returns as plain text and archive.page_markdown and
 *	  archive.page_html render from one cmark node tree; archive.page_render
 *	  gives the three from one reading of the record.  Every sentence of a
 *	  topic page is written here.
 *
 * Sentences.  A sentence, or a run of them, is a line: a list of spans,
 * each a text and, for a linked title or tag, its url.  page_build() writes
 * every line of the page once; the plain text is the concatenation of a
 * line's texts, the tree has one TEXT node per span (inside a LINK node
 * when the span has a url), so the prose and the page say the same words.
 *
 * Data never becomes markup.  Titles, tags, summaries and editorial text
 * go into TEXT nodes, urls into LINK nodes, and cmark's CommonMark renderer
 * escapes what Markdown would read as syntax; the HTML renderer escapes
 * text and runs in safe mode.  Three things are done to data before that
 * (the first and the last by page_record.c as it reads the record), each because
 * the CommonMark renderer of cmark 0.30 would otherwise write Markdown that
 * reads back differently from the tree:
 *	- Text is folded to one line (runs of white space and control
 *	  characters become one space, the ends are trimmed): leading spaces
 *	  would be dropped, and four of them would open a code block.
 *	- A line of text opening with "~~~" gets an invisible U+2060 WORD JOINER
 *	  in front: the renderer escapes backticks but not tildes, and the line
 *	  would open a fenced code block.
 *	- A url is linked only when it is relative or http, https or mailto
 *	  (anything else, javascript: and data: included, leaves the text
 *	  unlinked, so the Markdown carries no such link for other renderers
 *	  either); tabs and newlines are dropped and the ends trimmed as
 *	  browsers do, the other control characters, space, < and > are
 *	  percent-encoded, and the ';' closing an entity-like run ("&amp;") is
 *	  written %3B, since the renderer leaves '&' unescaped in a link
 *	  destination and the parser would decode the entity.
 *
 * The chart.  A page with dated posts shows how many came out each year,
 * every year from the first to the last, years with none included (the
 * record's posts_per_month summed by year).  The Markdown carries it as a
 * fenced code block (a text table with bars, a cmark CODE_BLOCK node) right
 * after the definition; the HTML page puts in its place an inline SVG
 * figure, written here from numbers alone (years and counts, no data
 * text), so it is trusted markup that cmark's safe mode never sees: the
 * HTML of the Markdown page is the <main> of the HTML page with that code
 * block in place of the figure.  A span of more than CHART_MAX_YEARS years
 * gets no chart.
 *
 * Pages are made in UTF-8 databases only: cmark works in UTF-8, and the
 * sentences use typographic quotes and dashes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "page.h"
#include "render.h"

/* U+2060 WORD JOINER: invisible, keeps a line of text from opening a tilde fence. */
#define WORD_JOINER "\xE2\x81\xA0"

/* The widest bar of the Markdown chart, in characters. */
#define CHART_TEXT_BAR 30

/* U+2588 FULL BLOCK: one character of a bar in the Markdown chart. */
#define FULL_BLOCK "\xE2\x96\x88"

/*
 * The SVG chart's geometry, in CSS pixels: the caption's baseline, the top
 * of the tallest bar (the dashed line labelled with its count), the
 * baseline of the bars, the year labels' baseline, the whole height.  The
 * width is the page's: bars and labels are placed in percentages, so the
 * text keeps its size on any screen.
 */
#define CHART_CAPTION_Y 14
#define CHART_TOP_Y 34
#define CHART_BASE_Y 118
#define CHART_YEARS_Y 136
#define CHART_HEIGHT 142
/* Slots the bars are laid out in at least: few years are centred, not stretched. */
#define CHART_MIN_SLOTS 12

/* The page's inline style: readable typography, nothing fetched. */
#define PAGE_STYLE \
	"body{margin:0;background:#fdfdfb;color:#1d1f21;" \
	"font:1.0625rem/1.65 Charter,'Iowan Old Style',Georgia,serif}\n" \
	"main{max-width:42rem;margin:0 auto;padding:2.5rem 1.25rem 4rem}\n" \
	"h1,h2{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;line-height:1.25}\n" \
	"h1{font-size:2rem;margin:0 0 1.25rem}\n" \
	"h2{font-size:1.3rem;margin:2.5rem 0 .75rem}\n" \
	"ul,ol{padding-left:1.5rem}\n" \
	"li{margin:.4rem 0}\n" \
	"li::marker{color:#8a9097}\n" \
	"main>ul:last-child>li{margin:.9rem 0;line-height:1.5}\n" \
	"a{color:#0b57a4;text-underline-offset:.15em}\n" \
	"figure.chart{margin:1.75rem 0 .5rem}\n" \
	"figure.chart svg{display:block;overflow:visible}\n"

static const char *const month_names[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* A run of a sentence: its text, linked to url unless url is NULL. */
typedef struct Span
{
	const char *text;
	const char *url;
} Span;

/* An entry of the suggested reading path, as page_prose returns it. */
typedef struct PathEntry
{
	const char *title;
	const char *url;
	const char *why;			/* NULL for an unknown role */
} PathEntry;

/*
 * A section under an H2 heading: a list of items (each a list of lines,
 * shown with hard breaks between them) and the note line, if any, as a
 * paragraph under it; or when it has no items the fallback line as a
 * paragraph, or when there is no fallback either no section.
 */
typedef struct PageSection
{
	const char *heading;
	bool		ordered;
	List	   *items;
	List	   *note;
	List	   *fallback;
} PageSection;

/* The page: every line of it, in order. */
typedef struct TopicPage
{
	const char *title;
	List	   *definition;
	PageSection claims;
	PageSection advice;
	PageSection pitfalls;
	PageSection path;
	PageSection references;
	List	   *path_entries;	/* PathEntry * */
	PageChart	chart;			/* shown after the definition when it has years */
} TopicPage;

static void sayf(List **line, const char *fmt,...) pg_attribute_printf(2, 3);

/* A span of text, linked to url unless url is NULL. */
static Span *
span_new(const char *text, const char *url)
{
	Span	   *span = palloc(sizeof(Span));

	span->text = text;
	span->url = url;
	return span;
}

/* Append plain text to a line. */
static void
say(List **line, const char *text)
{
	*line = lappend(*line, span_new(text, NULL));
}

/* Append formatted plain text to a line. */
static void
sayf(List **line, const char *fmt,...)
{
	size_t		len = 128;		/* most pieces are short: no 1 kB StringInfo each */

	for (;;)
	{
		char	   *text = palloc(len);
		va_list		args;
		size_t		needed;

		va_start(args, fmt);
		needed = pvsnprintf(text, len, fmt, args);
		va_end(args);
		if (needed < len)
		{
			say(line, text);
			return;
		}
		pfree(text);
		len = needed;
	}
}

/* Append spans as an English list: "a", "a and b", "a, b, and c". */
static void
say_list(List **line, List *items)
{
	int			n = list_length(items);
	ListCell   *lc;

	foreach(lc, items)
	{
		int			i = foreach_current_index(lc);

		if (i > 0)
			say(line, n == 2 ? " and " : i == n - 1 ? ", and " : ", ");
		*line = lappend(*line, lfirst(lc));
	}
}

/* End a sentence with a full stop, unless its last text already ends one. */
static void
say_stop(List **line)
{
	const char *text = ((Span *) llast(*line))->text;
	char		last = text[strlen(text) - 1];

	if (last != '.' && last != '!' && last != '?')
		say(line, ".");
}

/* A line's plain text. */
static char *
line_text(List *line)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, line)
		appendStringInfoString(&buf, ((Span *) lfirst(lc))->text);
	return buf.data;
}

/* The first k terms as spans, linked where a term has a url. */
static List *
term_spans(List *terms, int k)
{
	List	   *spans = NIL;
	ListCell   *lc;

	foreach(lc, terms)
	{
		PageTerm   *term = lfirst(lc);

		if (list_length(spans) == k)
			break;
		spans = lappend(spans, span_new(term->term, term->url));
	}
	return spans;
}

/* Strings as plain spans. */
static List *
text_spans(List *texts)
{
	List	   *spans = NIL;
	ListCell   *lc;

	foreach(lc, texts)
		spans = lappend(spans, span_new(lfirst(lc), NULL));
	return spans;
}

/* Whether two lists of spans have the same texts in the same order. */
static bool
same_texts(List *a, List *b)
{
	ListCell   *la;
	ListCell   *lb;

	if (list_length(a) != list_length(b))
		return false;
	forboth(la, a, lb, b)
	{
		if (strcmp(((Span *) lfirst(la))->text, ((Span *) lfirst(lb))->text) != 0)
			return false;
	}
	return true;
}

/* A year as "2020", or "44 BC" (tm_year 0 is 1 BC, as PostgreSQL counts). */
static char *
format_year(int tm_year)
{
	return tm_year > 0 ? psprintf("%d", tm_year) : psprintf("%d BC", 1 - tm_year);
}

/* A month as "Mar 2020". */
static char *
format_month(const struct pg_tm *tm)
{
	return psprintf("%s %s", month_names[tm->tm_mon - 1], format_year(tm->tm_year));
}

/* A day as "12 Mar 2020". */
static char *
format_day(const struct pg_tm *tm)
{
	return psprintf("%d %s %s", tm->tm_mday, month_names[tm->tm_mon - 1], format_year(tm->tm_year));
}

/* A number of posts: "1 post", "9 posts". */
static char *
format_posts(int64 posts)
{
	return psprintf(INT64_FORMAT " %s", posts, posts == 1 ? "post" : "posts");
}

/* A one-item list of one line. */
static List *
item_of(List *line)
{
	return list_make1(line);
}

/*
 * The definition: the span of the posts ("Testing coverage in this archive
 * spans 9 posts from Feb 2016 to Mar 2020, and leans into ..."), then the
 * strongest adjacent tags and the recurring title motifs.
 */
static List *
definition_line(PageRecord *r)
{
	List	   *line = NIL;
	List	   *adjacent = term_spans(r->adjacent, 3);
	List	   *motifs = term_spans(r->motifs, 4);

	if (r->posts == 0)
		sayf(&line, "%s has no public posts in this archive yet.", r->name);
	else
	{
		sayf(&line, "%s coverage in this archive spans %s", r->name, format_posts(r->posts));
		if (!r->dated)
			say(&line, r->posts == 1 ? ", which is not dated" : ", none of them dated");
		else if (r->posts == 1)
			sayf(&line, ", published in %s", format_month(&r->first));
		else if (r->first.tm_year == r->last.tm_year && r->first.tm_mon == r->last.tm_mon)
			sayf(&line, r->undated > 0 ? ", the dated ones from %s" : ", all from %s",
				 format_month(&r->first));
		else
			sayf(&line, " from %s to %s", format_month(&r->first), format_month(&r->last));
		if (r->lens != NULL)
			sayf(&line, ", and leans into %s", r->lens);
		say_stop(&line);
	}
	if (adjacent != NIL)
	{
		say(&line, list_length(adjacent) == 1 ?
			" The strongest adjacent thread is " : " The strongest adjacent threads are ");
		say_list(&line, adjacent);
		say_stop(&line);
	}
	if (motifs != NIL)
	{
		say(&line, list_length(motifs) == 1 ?
			" The recurring title motif is " : " Recurring title motifs include ");
		say_list(&line, motifs);
		say_stop(&line);
	}
	return line;
}

/*
 * The working claims: the through-line, early against recent motifs, and the
 * tags the topic keeps meeting.
 */
static void
claims_section(PageRecord *r, PageSection *section)
{
	List	   *early = term_spans(r->early, 2);
	List	   *recent = term_spans(r->recent, 2);
	List	   *adjacent = term_spans(r->adjacent, 2);
	List	   *line = NIL;

	section->heading = "Working claims";
	if (r->through_line != NULL)
	{
		say(&line, r->through_line);
		section->items = lappend(section->items, item_of(line));
	}
	if (early != NIL && recent != NIL && !same_texts(early, recent))
	{
		line = NIL;
		say(&line, "Early posts lean on ");
		say_list(&line, early);
		say(&line, ", while newer posts lean on ");
		say_list(&line, recent);
		say_stop(&line);
		section->items = lappend(section->items, item_of(line));
	}
	if (adjacent != NIL)
	{
		PageTerm   *strongest = linitial(r->adjacent);

		line = NIL;
		say(&line, "The topic keeps meeting ");
		say_list(&line, adjacent);
		if (strongest->count < 0 || r->posts == 0)
			say_stop(&line);
		else if (strongest->count == r->posts && r->posts == 1)
			sayf(&line, ": %s appears on its only post.", strongest->term);
		else if (strongest->count == r->posts && r->posts == 2)
			sayf(&line, ": %s appears on both of its posts.", strongest->term);
		else if (strongest->count == r->posts)
			sayf(&line, ": %s appears on all " INT64_FORMAT " of its posts.",
				 strongest->term, r->posts);
		else
			sayf(&line, ": %s appears on " INT64_FORMAT " of its " INT64_FORMAT " posts.",
				 strongest->term, strongest->count, r->posts);
		section->items = lappend(section->items, item_of(line));
	}
	line = NIL;
	say(&line, r->posts == 0 ?
		"There are no posts yet to make claims from." :
		"There are too few posts to make claims beyond the span.");
	section->fallback = line;
}

/*
 * How to apply this: editorial advice, then where to start reading and what
 * to cross-read.  Newest and oldest are the reading path's posts of those
 * roles (the first and last dated posts); a single dated post, or a topic
 * of a single post, is simply where to start; undated posts have no order
 * to follow.
 */
static void
advice_section(PageRecord *r, PageSection *section)
{
	List	   *adjacent = term_spans(r->adjacent, 2);
	PagePost   *newest = NULL;
	PagePost   *oldest = NULL;
	List	   *line;
	ListCell   *lc;

	section->heading = "How to apply this";
	foreach(lc, r->advice)
	{
		line = NIL;
		say(&line, lfirst(lc));
		section->items = lappend(section->items, item_of(line));
	}
	foreach(lc, r->path)
	{
		PagePost   *post = lfirst(lc);

		if (post->role != NULL && strcmp(post->role, "newest") == 0)
			newest = post;
		else if (post->role != NULL && strcmp(post->role, "oldest") == 0)
			oldest = post;
	}
	if ((newest != NULL && oldest == NULL) ||
		(newest == NULL && r->posts == 1 && list_length(r->references) == 1))
	{
		PagePost   *only = newest != NULL ? newest : linitial(r->references);

		line = NIL;
		say(&line, "Start with “");
		line = lappend(line, span_new(only->title, only->url));
		say(&line, "”.");
		section->items = lappend(section->items, item_of(line));
	}
	else if (newest != NULL)
	{
		line = NIL;
		say(&line, "Start with the newest post, “");
		line = lappend(line, span_new(newest->title, newest->url));
		say(&line, "”, then go back to the oldest, “");
		line = lappend(line, span_new(oldest->title, oldest->url));
		say(&line, "”, for first principles.");
		section->items = lappend(section->items, item_of(line));
	}
	if (adjacent != NIL)
	{
		line = NIL;
		say(&line, "Cross-read ");
		say_list(&line, adjacent);
		say(&line, " when boundary questions appear.");
		section->items = lappend(section->items, item_of(line));
	}
	line = NIL;
	say(&line, "There is no advice for this topic yet.");
	section->fallback = line;
}

/* Where teams get burned: editorial pitfalls, then guidance left unrevisited. */
static void
pitfalls_section(PageRecord *r, PageSection *section)
{
	List	   *line;
	ListCell   *lc;

	section->heading = "Where teams get burned";
	foreach(lc, r->pitfalls)
	{
		line = NIL;
		say(&line, lfirst(lc));
		section->items = lappend(section->items, item_of(line));
	}
	if (r->dated)
	{
		line = NIL;
		if (r->first.tm_year == r->last.tm_year)
			sayf(&line, "Treating guidance from %s as settled without revisiting it.",
				 format_year(r->first.tm_year));
		else
			sayf(&line, "Applying guidance from %s to %s without revisiting it.",
				 format_year(r->first.tm_year), format_year(r->last.tm_year));
		section->items = lappend(section->items, item_of(line));
	}
	line = NIL;
	say(&line, "No pitfalls are recorded for this topic yet.");
	section->fallback = line;
}

/* Why a post of the reading path is on it, by its role; NULL for an unknown role. */
static const char *
path_why(PagePost *post)
{
	List	   *line = NIL;

	if (post->role == NULL)
		return NULL;
	if (strcmp(post->role, "newest") == 0)
		return "the newest post: where the topic stands now";
	if (strcmp(post->role, "oldest") == 0)
		return "the oldest post: the first principles";
	if (strcmp(post->role, "central") != 0)
		return NULL;
	if (post->tags == NIL)
		return "the most central post";
	say(&line, "the most central post: it carries ");
	say_list(&line, text_spans(post->tags));
	return line_text(line);
}

/* The suggested reading path: each post linked, then why it is on the path. */
static void
path_section(PageRecord *r, TopicPage *page)
{
	ListCell   *lc;

	page->path.heading = "Suggested reading path";
	page->path.ordered = true;
	foreach(lc, r->path)
	{
		PagePost   *post = lfirst(lc);
		PathEntry  *entry = palloc(sizeof(PathEntry));
		List	   *line = NIL;

		entry->title = post->title;
		entry->url = post->url;
		entry->why = path_why(post);
		page->path_entries = lappend(page->path_entries, entry);
		line = lappend(line, span_new(entry->title, entry->url));
		if (entry->why != NULL)
			sayf(&line, " — %s", entry->why);
		page->path.items = lappend(page->path.items, item_of(line));
	}
}

/*
 * The references: each post linked and dated, its summary, its tags; when
 * they are not all the posts, a note of how many are listed.
 */
static void
references_section(PageRecord *r, PageSection *section)
{
	ListCell   *lc;

	section->heading = "References";
	foreach(lc, r->references)
	{
		PagePost   *post = lfirst(lc);
		List	   *item = NIL;
		List	   *line = NIL;

		line = lappend(line, span_new(post->title, post->url));
		if (post->dated)
			sayf(&line, ", %s", format_day(&post->published));
		item = lappend(item, line);
		if (post->summary != NULL)
		{
			line = NIL;
			say(&line, post->summary);
			item = lappend(item, line);
		}
		if (post->tags != NIL)
		{
			ListCell   *tc;

			line = NIL;
			say(&line, "Tags: ");
			foreach(tc, post->tags)
				sayf(&line, "%s%s", foreach_current_index(tc) > 0 ? ", " : "", (char *) lfirst(tc));
			item = lappend(item, line);
		}
		section->items = lappend(section->items, item);
	}
	if (r->references != NIL && r->posts > list_length(r->references))
		sayf(&section->note, "The %d newest of " INT64_FORMAT " posts are listed.",
			 list_length(r->references), r->posts);
}

/* Write every line of the page from its record. */
static TopicPage *
page_build(PageRecord *r)
{
	TopicPage  *page = palloc0(sizeof(TopicPage));

	page->title = r->name;
	page->definition = definition_line(r);
	claims_section(r, &page->claims);
	advice_section(r, &page->advice);
	pitfalls_section(r, &page->pitfalls);
	path_section(r, page);
	references_section(r, &page->references);
	page->chart = r->chart;
	return page;
}

/* Append a child node, which cmark refuses only for a child the parent cannot hold. */
static void
node_append(cmark_node *parent, cmark_node *child)
{
	if (!cmark_node_append_child(parent, child))
		elog(ERROR, "cmark refused a %s node under a %s node",
			 cmark_node_get_type_string(child), cmark_node_get_type_string(parent));
}

/*
 * Append a line's spans to an inline container: a TEXT node each, inside a
 * LINK node when linked.  opens_line: the line starts a line of Markdown
 * (a paragraph, or the text after a hard break), where "~~~" is guarded.
 */
static void
tree_line(cmark_node *parent, List *line, bool opens_line, cmark_mem *mem)
{
	ListCell   *lc;

	foreach(lc, line)
	{
		Span	   *span = lfirst(lc);
		cmark_node *node = cmark_node_new_with_mem(CMARK_NODE_TEXT, mem);
		const char *text = span->text;

		if (opens_line && foreach_current_index(lc) == 0 && span->url == NULL &&
			strncmp(text, "~~~", 3) == 0)
			text = psprintf(WORD_JOINER "%s", text);
		cmark_node_set_literal(node, text);
		if (span->url != NULL)
		{
			cmark_node *link = cmark_node_new_with_mem(CMARK_NODE_LINK, mem);

			cmark_node_set_url(link, span->url);
			node_append(link, node);
			node = link;
		}
		node_append(parent, node);
	}
}

/* A paragraph of lines with hard breaks between them. */
static cmark_node *
tree_paragraph(List *lines, cmark_mem *mem)
{
	cmark_node *paragraph = cmark_node_new_with_mem(CMARK_NODE_PARAGRAPH, mem);
	ListCell   *lc;

	foreach(lc, lines)
	{
		if (foreach_current_index(lc) > 0)
			node_append(paragraph, cmark_node_new_with_mem(CMARK_NODE_LINEBREAK, mem));
		tree_line(paragraph, lfirst(lc), true, mem);
	}
	return paragraph;
}

/* A heading of the given level. */
static cmark_node *
tree_heading(int level, const char *text, cmark_mem *mem)
{
	cmark_node *heading = cmark_node_new_with_mem(CMARK_NODE_HEADING, mem);
	List	   *line = NIL;

	cmark_node_set_heading_level(heading, level);
	say(&line, text);
	tree_line(heading, line, false, mem);
	return heading;
}

/* A section: its heading, then its list, or its fallback paragraph, or nothing at all. */
static void
tree_section(cmark_node *doc, PageSection *section, cmark_mem *mem)
{
	cmark_node *list;
	ListCell   *lc;

	if (section->items == NIL && section->fallback == NIL)
		return;
	node_append(doc, tree_heading(2, section->heading, mem));
	if (section->items == NIL)
	{
		node_append(doc, tree_paragraph(list_make1(section->fallback), mem));
		return;
	}
	list = cmark_node_new_with_mem(CMARK_NODE_LIST, mem);
	if (section->ordered)
	{
		cmark_node_set_list_type(list, CMARK_ORDERED_LIST);
		cmark_node_set_list_delim(list, CMARK_PERIOD_DELIM);
		cmark_node_set_list_start(list, 1);
	}
	else
		cmark_node_set_list_type(list, CMARK_BULLET_LIST);
	cmark_node_set_list_tight(list, 1);
	foreach(lc, section->items)
	{
		cmark_node *item = cmark_node_new_with_mem(CMARK_NODE_ITEM, mem);

		node_append(item, tree_paragraph(lfirst(lc), mem));
		node_append(list, item);
	}
	node_append(doc, list);
	if (section->note != NIL)
		node_append(doc, tree_paragraph(list_make1(section->note), mem));
}

/* The chart's name: "Posts per year, 2016 to 2024", or "Posts per year, 2020". */
static char *
chart_label(PageChart *chart)
{
	if (chart->years == 1)
		return psprintf("Posts per year, %d", chart->first);
	return psprintf("Posts per year, %d to %d", chart->first, chart->first + chart->years - 1);
}

/*
 * The chart as a fenced code block, the Markdown's text fallback: its name,
 * then a line per year, zero years included: the year, its posts, a bar of
 * up to CHART_TEXT_BAR full blocks (at least one for a year with posts).
 *
 *	Posts per year, 2016 to 2018
 *
 *	2016   3  ████████
 *	2017   0
 *	2018  11  ██████████████████████████████
 */
static cmark_node *
tree_chart(PageChart *chart, cmark_mem *mem)
{
	cmark_node *block = cmark_node_new_with_mem(CMARK_NODE_CODE_BLOCK, mem);
	int			year_width = strlen(psprintf("%d", chart->first + chart->years - 1));
	int			count_width = strlen(psprintf(INT64_FORMAT, chart->max));
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s\n\n", chart_label(chart));
	for (int i = 0; i < chart->years; i++)
	{
		int64		posts = chart->posts[i];
		int			bar = (int) rint((double) posts * CHART_TEXT_BAR / chart->max);

		appendStringInfo(&buf, "%*d  %*" INT64_MODIFIER "d",
						 year_width, chart->first + i, count_width, posts);
		if (posts > 0)
		{
			appendStringInfoString(&buf, "  ");
			for (int b = 0; b < Max(bar, 1); b++)
				appendStringInfoString(&buf, FULL_BLOCK);
		}
		appendStringInfoChar(&buf, '\n');
	}
	cmark_node_set_fence_info(block, "text");
	cmark_node_set_literal(block, buf.data);
	return block;
}

/* The top of the page, a tree of its own: the title and the definition. */
static cmark_node *
tree_top(TopicPage *page, cmark_mem *mem)
{
	cmark_node *doc = cmark_node_new_with_mem(CMARK_NODE_DOCUMENT, mem);

	node_append(doc, tree_heading(1, page->title, mem));
	node_append(doc, tree_paragraph(list_make1(page->definition), mem));
	return doc;
}

/* Append the page's sections to a tree. */
static void
tree_sections(cmark_node *doc, TopicPage *page, cmark_mem *mem)
{
	tree_section(doc, &page->claims, mem);
	tree_section(doc, &page->advice, mem);
	tree_section(doc, &page->pitfalls, mem);
	tree_section(doc, &page->path, mem);
	tree_section(doc, &page->references, mem);
}

/*
 * Append the chart as an inline SVG figure.  Everything in it is written
 * here from the years and counts: no data text goes in, so nothing needs
 * escaping.  The name is the aria-label and the <title>, the counts of
 * every year the <desc> (for screen readers) and each bar's <title> (a
 * tooltip).  The caption and the count of the tallest bar head the chart,
 * the first and last years stand under their bars.  Bars sit in
 * max(years, CHART_MIN_SLOTS) equal slots, centred, so that a topic of two
 * years does not get two bars as wide as the page.
 */
static void
append_chart_svg(StringInfo buf, PageChart *chart)
{
	int			slots = Max(chart->years, CHART_MIN_SLOTS);
	double		slot = 100.0 / slots;
	double		offset = (slots - chart->years) * slot / 2;
	double		bar_width = slot * (chart->years > 60 ? 0.8 : 0.7);
	double		first_x = offset + (slot - bar_width) / 2;
	double		last_x = offset + (chart->years - 1) * slot + (slot + bar_width) / 2;
	char	   *label = chart_label(chart);

	appendStringInfo(buf,
					 "<figure class=\"chart\">\n"
					 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%%\" height=\"%d\" "
					 "role=\"img\" aria-label=\"%s\">\n"
					 "<title>%s</title>\n"
					 "<desc>",
					 CHART_HEIGHT, label, label);
	for (int i = 0; i < chart->years; i++)
		appendStringInfo(buf, "%s%d: %s", i > 0 ? "; " : "", chart->first + i,
						 format_posts(chart->posts[i]));
	appendStringInfo(buf,
					 ".</desc>\n"
					 "<g font-family=\"system-ui,-apple-system,'Segoe UI',sans-serif\" "
					 "font-size=\"12\" fill=\"#5f666d\">\n"
					 "<text x=\"0\" y=\"%d\" font-size=\"13\" font-weight=\"600\" "
					 "fill=\"#33383d\">Posts per year</text>\n"
					 "<text x=\"100%%\" y=\"%d\" text-anchor=\"end\">%s</text>\n",
					 CHART_CAPTION_Y, CHART_TOP_Y - 5, format_posts(chart->max));
	if (chart->years == 1)
		appendStringInfo(buf,
						 "<text x=\"50%%\" y=\"%d\" text-anchor=\"middle\">%d</text>\n",
						 CHART_YEARS_Y, chart->first);
	else
		appendStringInfo(buf,
						 "<text x=\"%.3f%%\" y=\"%d\">%d</text>\n"
						 "<text x=\"%.3f%%\" y=\"%d\" text-anchor=\"end\">%d</text>\n",
						 first_x, CHART_YEARS_Y, chart->first,
						 last_x, CHART_YEARS_Y, chart->first + chart->years - 1);
	appendStringInfo(buf,
					 "</g>\n"
					 "<line x1=\"0\" y1=\"%d\" x2=\"100%%\" y2=\"%d\" stroke=\"#d5d9de\" "
					 "stroke-dasharray=\"3 3\"/>\n"
					 "<g fill=\"#3a6fb0\">\n",
					 CHART_TOP_Y, CHART_TOP_Y);
	for (int i = 0; i < chart->years; i++)
	{
		int64		posts = chart->posts[i];
		double		height;

		if (posts == 0)
			continue;
		height = Max(2.0, (double) posts * (CHART_BASE_Y - CHART_TOP_Y) / chart->max);
		appendStringInfo(buf,
						 "<rect x=\"%.3f%%\" y=\"%.1f\" width=\"%.3f%%\" height=\"%.1f\">"
						 "<title>%d: %s</title></rect>\n",
						 offset + i * slot + (slot - bar_width) / 2, CHART_BASE_Y - height,
						 bar_width, height, chart->first + i, format_posts(posts));
	}
	appendStringInfo(buf,
					 "</g>\n"
					 "<line x1=\"0\" y1=\"%d\" x2=\"100%%\" y2=\"%d\" stroke=\"#8d949b\"/>\n"
					 "</svg>\n"
					 "</figure>\n",
					 CHART_BASE_Y, CHART_BASE_Y);
}

/* Append the plain text of a section's items as a JSON array. */
static void
append_json_items(StringInfo buf, PageSection *section)
{
	ListCell   *lc;

	appendStringInfoChar(buf, '[');
	foreach(lc, section->items)
	{
		List	   *item = lfirst(lc);
		ListCell   *ll;
		StringInfoData text;

		initStringInfo(&text);
		foreach(ll, item)
			appendStringInfo(&text, "%s%s", foreach_current_index(ll) > 0 ? " " : "",
							 line_text(lfirst(ll)));
		if (foreach_current_index(lc) > 0)
			appendStringInfoString(buf, ", ");
		escape_json(buf, text.data);
	}
	appendStringInfoChar(buf, ']');
}

/* Append a string as JSON, or null. */
static void
append_json_string(StringInfo buf, const char *str)
{
	if (str == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, str);
}

/* The page's sentences as plain text, in a jsonb object. */
static Jsonb *
prose_of_page(TopicPage *page)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"definition\": ");
	escape_json(&buf, line_text(page->definition));
	appendStringInfoString(&buf, ", \"claims\": ");
	append_json_items(&buf, &page->claims);
	appendStringInfoString(&buf, ", \"advice\": ");
	append_json_items(&buf, &page->advice);
	appendStringInfoString(&buf, ", \"pitfalls\": ");
	append_json_items(&buf, &page->pitfalls);
	appendStringInfoString(&buf, ", \"reading_path\": [");
	foreach(lc, page->path_entries)
	{
		PathEntry  *entry = lfirst(lc);

		appendStringInfoString(&buf, foreach_current_index(lc) > 0 ? ", {\"title\": " : "{\"title\": ");
		append_json_string(&buf, entry->title);
		appendStringInfoString(&buf, ", \"url\": ");
		append_json_string(&buf, entry->url);
		appendStringInfoString(&buf, ", \"why\": ");
		append_json_string(&buf, entry->why);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoString(&buf, "]}");
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/* The page as CommonMark: the title, the definition, the chart as text, the sections. */
static char *
markdown_of_page(TopicPage *page)
{
	cmark_mem  *mem = render_begin();
	cmark_node *doc = tree_top(page, mem);
	char	   *markdown;

	if (page->chart.years > 0)
		node_append(doc, tree_chart(&page->chart, mem));
	tree_sections(doc, page, mem);
	markdown = render_commonmark(doc);
	render_end();
	return markdown;
}

/*
 * The page as a standalone HTML5 document: inside <main>, the title and the
 * definition, the chart as an inline SVG figure, the sections.  Take the
 * figure out, and what is left is the rendered Markdown page without its
 * chart code block, so that the Markdown parsed back by
 * archive.markdown_to_html can be compared with it.  The
 * Content-Security-Policy allows the inline style and nothing else (inline
 * SVG is markup, nothing is fetched), as a second line behind cmark's safe
 * mode.
 */
static char *
html_of_page(TopicPage *page)
{
	cmark_mem  *mem = render_begin();
	cmark_node *rest = cmark_node_new_with_mem(CMARK_NODE_DOCUMENT, mem);
	StringInfoData article;
	StringInfoData buf;

	initStringInfo(&article);
	appendStringInfoString(&article, render_html(tree_top(page, mem)));
	if (page->chart.years > 0)
		append_chart_svg(&article, &page->chart);
	tree_sections(rest, page, mem);
	appendStringInfoString(&article, render_html(rest));
	render_end();
	initStringInfo(&buf);
	appendStringInfoString(&buf,
						   "<!DOCTYPE html>\n"
						   "<html lang=\"en\">\n"
						   "<head>\n"
						   "<meta charset=\"utf-8\">\n"
						   "<meta http-equiv=\"Content-Security-Policy\" "
						   "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
						   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
						   "<title>");
	render_escape_html(&buf, page->title);
	appendStringInfoString(&buf,
						   "</title>\n"
						   "<style>\n" PAGE_STYLE "</style>\n"
						   "</head>\n"
						   "<body>\n"
						   "<main>\n");
	appendStringInfoString(&buf, article.data);
	appendStringInfoString(&buf,
						   "</main>\n"
						   "</body>\n"
						   "</html>\n");
	return buf.data;
}

/* The sentences of a record's page as plain text, in a jsonb object. */
Jsonb *
page_prose(PageRecord *record)
{
	return prose_of_page(page_build(record));
}

/* A record's page as CommonMark. */
char *
page_markdown(PageRecord *record)
{
	return markdown_of_page(page_build(record));
}

/* A record's page as a standalone HTML5 document. */
char *
page_html(PageRecord *record)
{
	return html_of_page(page_build(record));
}

/* archive.page_prose(record jsonb): the page's sentences as plain text. */
PG_FUNCTION_INFO_V1(archive_page_prose);
Datum
archive_page_prose(PG_FUNCTION_ARGS)
{
	PG_RETURN_JSONB_P(page_prose(page_record_read(PG_GETARG_JSONB_P(0))));
}

/* archive.page_markdown(record jsonb): the page as CommonMark. */
PG_FUNCTION_INFO_V1(archive_page_markdown);
Datum
archive_page_markdown(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(page_markdown(page_record_read(PG_GETARG_JSONB_P(0)))));
}

/* archive.page_html(record jsonb): the page as a standalone HTML5 document. */
PG_FUNCTION_INFO_V1(archive_page_html);
Datum
archive_page_html(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(page_html(page_record_read(PG_GETARG_JSONB_P(0)))));
}

/*
 * The first block of archive.page_render's memory: reading a record, writing
 * its page and the three texts take some 700 kB.
 */
#define PAGE_CALL_MEMORY (1024 * 1024)

/*
 * The memory of one archive.page_render call, kept for the next call of the
 * same query and reset after each.  A refresh renders thousands of pages in
 * one query: in the per-call memory, grown from 8 kB and freed after every
 * page, the blocks' malloc, free and page faults were a sixth of the profile
 * (with the render's own blocks, see render.c; 2,000 pages took 1.8-2.4 s,
 * now 1.3-1.8 s).
 */
static MemoryContext
page_call_context(FunctionCallInfo fcinfo)
{
	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "archive page render",
														 PAGE_CALL_MEMORY, PAGE_CALL_MEMORY,
														 ALLOCSET_DEFAULT_MAXSIZE);
	return fcinfo->flinfo->fn_extra;
}

/*
 * archive.page_render(record jsonb): the page's prose, Markdown and HTML
 * together, the record read and the page's sentences written once for the
 * three.
 */
PG_FUNCTION_INFO_V1(archive_page_render);
Datum
archive_page_render(PG_FUNCTION_ARGS)
{
	MemoryContext call_context = page_call_context(fcinfo);
	MemoryContext caller = MemoryContextSwitchTo(call_context);
	TopicPage  *page = page_build(page_record_read(PG_GETARG_JSONB_P(0)));
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	HeapTuple	row;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "archive.page_render must return a row");
	values[0] = JsonbPGetDatum(prose_of_page(page));
	values[1] = PointerGetDatum(cstring_to_text(markdown_of_page(page)));
	values[2] = PointerGetDatum(cstring_to_text(html_of_page(page)));
	MemoryContextSwitchTo(caller);
	row = heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls);
	MemoryContextReset(call_context);
	PG_RETURN_DATUM(HeapTupleGetDatum(row));
}
