/*-------------------------------------------------------------------------
 *
 * page_record.c
 *	  A topic page record (jsonb, built by the views) read into the
 *	  PageRecord page.c makes the page from: every field checked, data text
 *	  folded to one line and urls checked as page.c's header explains, the
 *	  posts per month summed into the chart's posts per year.
 *
 * A malformed record (a field of the wrong type, a negative count, a bad
 * month key) is refused with an ERROR naming the field; missing and null
 * fields read as absent.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "common/int.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "jsonform.h"
#include "page_record.h"

/*
 * Largest page record, in bytes.  A page shows a text at most four times
 * (the strongest adjacent tag), and HTML escaping makes it at most six
 * times longer ('"' becomes &quot;): the HTML of a page is at most about 24
 * times its record, below 400 MB here, where cmark's buffers are safe (see
 * render.c).
 */
#define PAGE_MAX_RECORD_BYTES (16 * 1024 * 1024)

static void record_error(const char *field, const char *expected) pg_attribute_noreturn();

/* Raise the error a malformed page record gets. */
static void
record_error(const char *field, const char *expected)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid topic page record"),
			 errdetail("Field \"%s\" must be %s.", field, expected)));
}

/*
 * Data text on one line (see page.c's header); NULL when nothing is left.
 * (Folding never lengthens the text: a space stands for one or more white
 * space bytes.)
 */
char *
page_fold_text(const char *str, int len)
{
	char	   *folded = palloc(len + 1);
	int			n = 0;
	bool		gap = false;

	for (int i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) str[i];

		if (c <= ' ' || c == 0x7F)
		{
			gap = n > 0;
			continue;
		}
		if (gap)
			folded[n++] = ' ';
		gap = false;
		folded[n++] = (char) c;
	}
	if (n == 0)
	{
		pfree(folded);
		return NULL;
	}
	folded[n] = '\0';
	return folded;
}

/* Whether c is an ASCII letter. */
static bool
is_ascii_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Whether c is an ASCII letter or digit. */
static bool
is_ascii_alnum(char c)
{
	return is_ascii_alpha(c) || (c >= '0' && c <= '9');
}

/* Whether a url may be linked: relative, or with an http, https or mailto scheme. */
static bool
url_linkable(const char *url)
{
	const char *p = url;
	size_t		len;

	if (!is_ascii_alpha(*p))
		return true;
	while (is_ascii_alnum(*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (*p != ':')
		return true;
	len = p - url;
	return (len == 4 && pg_strncasecmp(url, "http", 4) == 0) ||
		(len == 5 && pg_strncasecmp(url, "https", 5) == 0) ||
		(len == 6 && pg_strncasecmp(url, "mailto", 6) == 0);
}

/*
 * A data url as the page links it (see page.c's header); NULL when not
 * linked.  (Each byte becomes at most three: "%XX".)
 */
char *
page_link_url(const char *str, int len)
{
	char	   *bare;
	int			nbare = 0;
	char	   *url;
	int			n = 0;
	int			start = 0;
	int			end = len;
	int			entity = -1;	/* letters, digits and '#' since an '&', or -1 */

	while (start < end && (unsigned char) str[start] <= ' ')
		start++;
	while (end > start && (unsigned char) str[end - 1] <= ' ')
		end--;
	bare = palloc(end - start + 1);
	for (int i = start; i < end; i++)
		if (str[i] != '\t' && str[i] != '\n' && str[i] != '\r')
			bare[nbare++] = str[i];
	bare[nbare] = '\0';
	if (nbare == 0 || !url_linkable(bare))
		return NULL;

	url = palloc((Size) nbare * 3 + 1);
	for (int i = 0; i < nbare; i++)
	{
		unsigned char c = (unsigned char) bare[i];

		if (c == ';' && entity > 0)
		{
			memcpy(url + n, "%3B", 3);
			n += 3;
			entity = -1;
			continue;
		}
		if (c == '&')
			entity = 0;
		else if (entity >= 0 && (is_ascii_alnum(c) || c == '#'))
			entity++;
		else
			entity = -1;
		if (c <= ' ' || c == 0x7F || c == '<' || c == '>')
		{
			snprintf(url + n, 4, "%%%02X", c);
			n += 3;
		}
		else
			url[n++] = (char) c;
	}
	url[n] = '\0';
	pfree(bare);
	return url;
}

/* A field of an object; NULL when it is missing or JSON null. */
static JsonbValue *
record_field(JsonbContainer *obj, const char *name)
{
	JsonbValue *v = getKeyJsonValueFromContainer(obj, name, strlen(name), NULL);

	return (v == NULL || v->type == jbvNull) ? NULL : v;
}

/* A string field, folded; NULL when missing, null or blank. */
static char *
record_text(JsonbContainer *obj, const char *name)
{
	JsonbValue *v = record_field(obj, name);

	if (v == NULL)
		return NULL;
	if (v->type != jbvString)
		record_error(name, "a string");
	return page_fold_text(v->val.string.val, v->val.string.len);
}

/* A url field as the page links it; NULL when missing, null or not linked. */
static char *
record_url(JsonbContainer *obj, const char *name)
{
	JsonbValue *v = record_field(obj, name);

	if (v == NULL)
		return NULL;
	if (v->type != jbvString)
		record_error(name, "a string");
	return page_link_url(v->val.string.val, v->val.string.len);
}

/* A count field; -1 when missing or null. */
static int64
record_count(JsonbContainer *obj, const char *name)
{
	JsonbValue *v = record_field(obj, name);
	int64		count;

	if (v == NULL)
		return -1;
	if (v->type != jbvNumeric)
		record_error(name, "a number");
	count = DatumGetInt64(DirectFunctionCall1(numeric_int8,
											  NumericGetDatum(v->val.numeric)));
	if (count < 0)
		record_error(name, "zero or more");
	return count;
}

/* A time field as UTC calendar fields; false when missing, null or infinite. */
static bool
record_time(JsonbContainer *obj, const char *name, struct pg_tm *tm)
{
	JsonbValue *v = record_field(obj, name);
	TimestampTz time;
	fsec_t		fsec;

	if (v == NULL)
		return false;
	if (v->type != jbvString)
		record_error(name, "a time");
	time = jsonform_time(v->val.string.val, v->val.string.len);
	if (TIMESTAMP_NOT_FINITE(time))
		return false;
	if (timestamp2tm(time, NULL, tm, &fsec, NULL, NULL) != 0)
		record_error(name, "a time in range");
	return true;
}

/* The elements of an array field, JSON nulls left out; NIL when missing or null. */
static List *
record_array(JsonbContainer *obj, const char *name)
{
	JsonbValue *v = record_field(obj, name);
	List	   *elements = NIL;

	if (v == NULL)
		return NIL;
	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		record_error(name, "an array");
	for (uint32 i = 0; i < JsonContainerSize(v->val.binary.data); i++)
	{
		JsonbValue *element = getIthJsonbValueFromContainer(v->val.binary.data, i);

		if (element->type != jbvNull)
			elements = lappend(elements, element);
	}
	return elements;
}

/* The strings of an array field, folded, blanks left out. */
static List *
record_texts(JsonbContainer *obj, const char *name)
{
	List	   *texts = NIL;
	ListCell   *lc;

	foreach(lc, record_array(obj, name))
	{
		JsonbValue *v = lfirst(lc);
		char	   *text;

		if (v->type != jbvString)
			record_error(name, "an array of strings");
		text = page_fold_text(v->val.string.val, v->val.string.len);
		if (text != NULL)
			texts = lappend(texts, text);
	}
	return texts;
}

/* The objects of an array field, as containers. */
static List *
record_objects(JsonbContainer *obj, const char *name)
{
	List	   *objects = NIL;
	ListCell   *lc;

	foreach(lc, record_array(obj, name))
	{
		JsonbValue *v = lfirst(lc);

		if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
			record_error(name, "an array of objects");
		objects = lappend(objects, v->val.binary.data);
	}
	return objects;
}

/* The ranked terms of an array field, those with no term left out. */
static List *
record_terms(JsonbContainer *obj, const char *name)
{
	List	   *terms = NIL;
	ListCell   *lc;

	foreach(lc, record_objects(obj, name))
	{
		JsonbContainer *element = lfirst(lc);
		PageTerm   *term = palloc(sizeof(PageTerm));

		term->term = record_text(element, "term");
		if (term->term == NULL)
			continue;
		term->count = record_count(element, "count");
		term->url = record_url(element, "url");
		terms = lappend(terms, term);
	}
	return terms;
}

/* The posts of an array field, their tags read from tags_field. */
static List *
record_posts(JsonbContainer *obj, const char *name, const char *tags_field)
{
	List	   *posts = NIL;
	ListCell   *lc;

	foreach(lc, record_objects(obj, name))
	{
		JsonbContainer *element = lfirst(lc);
		PagePost   *post = palloc0(sizeof(PagePost));

		post->title = record_text(element, "title");
		if (post->title == NULL)
			post->title = "Untitled post";
		post->url = record_url(element, "url");
		post->summary = record_text(element, "summary");
		post->role = record_text(element, "role");
		post->tags = record_texts(element, tags_field);
		post->dated = record_time(element, "published_at", &post->published);
		posts = lappend(posts, post);
	}
	return posts;
}

/* The year of a month key "YYYY-MM" (four to six digits of year); -1 when it is not one. */
int
page_month_year(const char *key, int len)
{
	int			year = 0;
	int			digits = 0;
	int			month;

	while (digits < len && digits < 6 && key[digits] >= '0' && key[digits] <= '9')
		year = year * 10 + (key[digits++] - '0');
	if (digits < 4 || len != digits + 3 || key[digits] != '-' ||
		key[digits + 1] < '0' || key[digits + 1] > '9' ||
		key[digits + 2] < '0' || key[digits + 2] > '9')
		return -1;
	month = (key[digits + 1] - '0') * 10 + (key[digits + 2] - '0');
	return (year >= 1 && month >= 1 && month <= 12) ? year : -1;
}

/*
 * The chart from the post counts of n months (of year years[i], a month
 * key's, and counts[i] >= 0 posts): years from the first to the last that
 * has posts, summed over their months.  No chart (years = 0) when no month
 * has posts or the years span more than CHART_MAX_YEARS.
 */
void
page_chart_sum(PageChart *chart, const int *years, const int64 *counts, int n)
{
	int			first = INT_MAX;
	int			last = 0;

	memset(chart, 0, sizeof(PageChart));
	for (int i = 0; i < n; i++)
	{
		if (counts[i] > 0)
		{
			first = Min(first, years[i]);
			last = Max(last, years[i]);
		}
	}
	if (last == 0 || last - first >= CHART_MAX_YEARS)
		return;
	chart->first = first;
	chart->years = last - first + 1;
	chart->posts = palloc0(sizeof(int64) * chart->years);
	for (int i = 0; i < n; i++)
	{
		int64	   *year = &chart->posts[years[i] - first];

		if (counts[i] == 0)
			continue;
		if (pg_add_s64_overflow(*year, counts[i], year))
			record_error("posts_per_month", "post counts that add up to a bigint");
		chart->max = Max(chart->max, *year);
	}
}

/* The posts per year, from the posts_per_month object ({"2020-03": 4, ...}). */
static void
record_chart(JsonbContainer *obj, PageChart *chart)
{
	const char *expected = "an object of post counts by month (\"2020-03\")";
	JsonbValue *v = record_field(obj, "posts_per_month");
	JsonbIterator *it;
	JsonbIteratorToken token;
	JsonbValue	key;
	JsonbValue	value;
	int		   *years;
	int64	   *counts;
	int			n = 0;

	if (v == NULL)
	{
		page_chart_sum(chart, NULL, NULL, 0);
		return;
	}
	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		record_error("posts_per_month", expected);
	years = palloc(sizeof(int) * (JsonContainerSize(v->val.binary.data) + 1));
	counts = palloc(sizeof(int64) * (JsonContainerSize(v->val.binary.data) + 1));
	it = JsonbIteratorInit(v->val.binary.data);
	while ((token = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		if (token != WJB_KEY)
			continue;
		token = JsonbIteratorNext(&it, &value, true);
		Assert(token == WJB_VALUE);
		if (value.type == jbvNull)
			continue;
		years[n] = page_month_year(key.val.string.val, key.val.string.len);
		if (years[n] < 0 || value.type != jbvNumeric)
			record_error("posts_per_month", expected);
		counts[n] = DatumGetInt64(DirectFunctionCall1(numeric_int8,
													  NumericGetDatum(value.val.numeric)));
		if (counts[n] < 0)
			record_error("posts_per_month", expected);
		n++;
	}
	page_chart_sum(chart, years, counts, n);
}

/* Read a page record; missing and null fields read as absent. */
PageRecord *
page_record_read(Jsonb *jb)
{
	PageRecord *r = palloc0(sizeof(PageRecord));
	JsonbContainer *root = &jb->root;
	bool		has_first;
	bool		has_last;
	ListCell   *lc;

	if (GetDatabaseEncoding() != PG_UTF8)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("topic pages need a database with the UTF8 encoding")));
	if (VARSIZE(jb) > PAGE_MAX_RECORD_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("topic page record is too large"),
				 errdetail("The record has %zu bytes; the limit is %d bytes.",
						   (size_t) VARSIZE(jb), PAGE_MAX_RECORD_BYTES)));
	if (!JB_ROOT_IS_OBJECT(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid topic page record"),
				 errdetail("A topic page record is a JSON object.")));

	r->name = record_text(root, "name");
	if (r->name == NULL)
		r->name = record_text(root, "topic");
	if (r->name == NULL)
		r->name = "Untitled topic";
	r->lens = record_text(root, "lens");
	r->through_line = record_text(root, "through_line");
	r->advice = record_texts(root, "advice");
	r->pitfalls = record_texts(root, "pitfalls");
	/*
	 * The references may be only the newest posts: the counts come from
	 * post_count and undated_posts, and from the references when missing.
	 */
	r->references = record_posts(root, "references", "tags");
	r->posts = record_count(root, "post_count");
	if (r->posts < 0)
		r->posts = list_length(r->references);
	r->undated = record_count(root, "undated_posts");
	if (r->undated < 0)
	{
		r->undated = 0;
		foreach(lc, r->references)
		{
			if (!((PagePost *) lfirst(lc))->dated)
				r->undated++;
		}
	}

	/* One end of the span stands for both when the other is missing. */
	has_first = record_time(root, "first_published", &r->first);
	has_last = record_time(root, "last_published", &r->last);
	if (has_first && !has_last)
		r->last = r->first;
	else if (has_last && !has_first)
		r->first = r->last;
	r->dated = has_first || has_last;

	r->adjacent = record_terms(root, "adjacent_tags");
	r->motifs = record_terms(root, "title_motifs");
	r->early = record_terms(root, "early_motifs");
	r->recent = record_terms(root, "recent_motifs");
	r->path = record_posts(root, "reading_path", "shared_tags");
	record_chart(root, &r->chart);
	return r;
}
