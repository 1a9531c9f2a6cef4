/*-------------------------------------------------------------------------
 *
 * htmlcheck.c
 *	  Checks of what the renderers write, for fuzz_page and fuzz_markdown:
 *	  valid UTF-8, and HTML read the way a browser tokenises it, a tag at
 *	  every '<', so that every element, attribute and url the HTML holds is
 *	  one it may hold (see HtmlRules).  A failed check is a FUZZ_FAIL.
 *
 * Urls are judged as a browser reads an href: character references
 * decoded, leading and trailing control characters and spaces dropped,
 * tabs and newlines removed, then the scheme (letters, digits, '+', '-',
 * '.' up to a ':', starting with a letter), if any, compared without case.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"

#include "htmlcheck.h"
#include "shim.h"

/* Elements and attributes cmark's HTML renderer writes. */
static const char *const cmark_elements[] = {
	"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li", "pre", "code",
	"hr", "br", "em", "strong", "a", "img", NULL
};
static const char *const cmark_attributes[] = {
	"a href", "a title", "img src", "img alt", "img title", "ol start", "code class", NULL
};
const HtmlRules cmark_html_rules = {cmark_elements, cmark_attributes, true, true, false};

/* The character references cmark writes (and render_escape_html, &#39;), and what they stand for. */
static const char *const entities[][2] = {
	{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&#x27;", "'"}
};

/* Whether the bytes from p to end start with str. */
static bool
starts_with(const char *p, const char *end, const char *str)
{
	size_t		len = strlen(str);

	return (size_t) (end - p) >= len && memcmp(p, str, len) == 0;
}

/* Whether name (len bytes) is one of a NULL-ended list. */
static bool
listed(const char *const *list, const char *name, size_t len)
{
	for (; *list != NULL; list++)
		if (strlen(*list) == len && memcmp(*list, name, len) == 0)
			return true;
	return false;
}

/* The length of the character reference cmark may write at p, or 0. */
static size_t
entity_at(const char *p, const char *end)
{
	for (size_t i = 0; i < lengthof(entities); i++)
		if (starts_with(p, end, entities[i][0]))
			return strlen(entities[i][0]);
	return 0;
}

/* Whether the scheme of url (NUL-ended, as a browser reads it) is name, without case. */
static bool
scheme_is(const char *url, const char *name)
{
	size_t		len = strlen(name);

	return pg_strncasecmp(url, name, len) == 0 && url[len] == ':';
}

/* An href or src value (still escaped) decoded as a browser reads it, then its scheme checked. */
static void
check_url(const char *what, const char *value, size_t len, const HtmlRules *rules)
{
	StringInfoData url;
	const char *p = value;
	const char *end = value + len;

	initStringInfo(&url);
	while (p < end)
	{
		size_t		n = *p == '&' ? entity_at(p, end) : 0;

		if (n > 0)
		{
			for (size_t i = 0; i < lengthof(entities); i++)
				if (strlen(entities[i][0]) == n && memcmp(p, entities[i][0], n) == 0)
					appendStringInfoString(&url, entities[i][1]);
			p += n;
			continue;
		}
		if (*p == '&')
			FUZZ_FAIL("%s: an '&' in a url that is not one of cmark's references: \"%.*s\"",
					  what, (int) len, value);
		appendStringInfoChar(&url, *p);
		p++;
	}
	check_link(what, url.data, rules->page_urls);
}

/*
 * Fail unless a url (decoded) has a scheme the rule allows (page_urls: see
 * HtmlRules), as a browser reads it.
 */
void
check_link(const char *what, const char *link, bool page_urls)
{
	StringInfoData url;
	const char *p;
	const char *s;
	int			start = 0;

	initStringInfo(&url);
	for (p = link; *p != '\0'; p++)
		if (*p != '\t' && *p != '\n' && *p != '\r')
			appendStringInfoChar(&url, *p);
	while (url.len > 0 && (unsigned char) url.data[url.len - 1] <= ' ')
		url.data[--url.len] = '\0';
	while (start < url.len && (unsigned char) url.data[start] <= ' ')
		start++;
	s = url.data + start;

	/* no scheme: a relative url */
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return;
	for (p = s; (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		 *p == '+' || *p == '-' || *p == '.'; p++)
		;
	if (*p != ':')
		return;
	if (page_urls)
	{
		if (!scheme_is(s, "http") && !scheme_is(s, "https") && !scheme_is(s, "mailto"))
			FUZZ_FAIL("%s: a page links a url that is not http, https or mailto: \"%s\"", what, s);
		return;
	}
	if (scheme_is(s, "javascript") || scheme_is(s, "vbscript") || scheme_is(s, "file") ||
		(scheme_is(s, "data") && pg_strncasecmp(s, "data:image/png", 14) != 0 &&
		 pg_strncasecmp(s, "data:image/gif", 14) != 0 &&
		 pg_strncasecmp(s, "data:image/jpeg", 15) != 0 &&
		 pg_strncasecmp(s, "data:image/webp", 15) != 0))
		FUZZ_FAIL("%s: safe mode let through the url \"%s\"", what, s);
}

/* Whether an attribute name (len bytes) is str. */
static bool
attr_is(const char *attr, size_t len, const char *str)
{
	return strlen(str) == len && memcmp(attr, str, len) == 0;
}

/* The tag opening at p (a '<'): checked against the rules; returns what follows it. */
static const char *
check_tag(const char *what, const char *p, const char *end, const HtmlRules *rules)
{
	const char *tag = p;
	const char *name;
	size_t		name_len;
	bool		closing;

	p++;
	if (rules->comments && starts_with(p, end, "!-- raw HTML omitted -->"))
		return p + strlen("!-- raw HTML omitted -->");
	if (listed(rules->elements, "!DOCTYPE", 8) && starts_with(p, end, "!DOCTYPE html>"))
		return p + strlen("!DOCTYPE html>");
	closing = p < end && *p == '/';
	if (closing)
		p++;
	name = p;
	while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
		p++;
	name_len = p - name;
	if (name_len == 0)
		FUZZ_FAIL("%s: a '<' that opens no tag: \"%.*s\"", what, (int) Min(end - tag, 40), tag);
	if (!listed(rules->elements, name, name_len))
		FUZZ_FAIL("%s: an element <%.*s> it may not hold", what, (int) name_len, name);
	for (;;)
	{
		const char *attr;
		size_t		attr_len;
		const char *value;

		while (p < end && (*p == ' ' || *p == '\n'))
			p++;
		if (p < end && *p == '>')
			return p + 1;
		if (!closing && starts_with(p, end, "/>"))
			return p + 2;
		attr = p;
		while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == ':'))
			p++;
		attr_len = p - attr;
		if (closing || attr_len == 0 || !starts_with(p, end, "=\""))
			FUZZ_FAIL("%s: a malformed tag: \"%.*s\"", what, (int) Min(end - tag, 60), tag);
		value = p + 2;
		p = memchr(value, '"', end - value);
		if (p == NULL)
			FUZZ_FAIL("%s: an attribute value that does not end", what);
		if (memchr(value, '<', p - value) != NULL || memchr(value, '>', p - value) != NULL)
			FUZZ_FAIL("%s: a '<' or '>' in an attribute value: \"%.*s\"", what, (int) (p - value), value);
		if (rules->attributes != NULL)
		{
			char		pair[80];

			snprintf(pair, sizeof(pair), "%.*s %.*s", (int) Min(name_len, 30), name,
					 (int) Min(attr_len, 30), attr);
			if (!listed(rules->attributes, pair, strlen(pair)))
				FUZZ_FAIL("%s: an attribute it may not hold: <%s>", what, pair);
		}
		else if (pg_strncasecmp(attr, "on", 2) == 0 || attr_is(attr, attr_len, "href") ||
				 attr_is(attr, attr_len, "src") || attr_is(attr, attr_len, "xlink:href"))
			FUZZ_FAIL("%s: an attribute %.*s it may not hold", what, (int) attr_len, attr);
		if (attr_is(attr, attr_len, "href") || attr_is(attr, attr_len, "src"))
			check_url(what, value, p - value, rules);
		if (rules->escaped)
		{
			for (const char *v = value; v < p; v++)
				if (*v == '&' && entity_at(v, p) == 0)
					FUZZ_FAIL("%s: an '&' in an attribute that is not one of cmark's references", what);
		}
		p++;
	}
}

/* Fail unless str holds len bytes of valid UTF-8 with no NUL. */
void
check_utf8(const char *what, const char *str, size_t len)
{
	int			valid = pg_encoding_verifymbstr(PG_UTF8, str, len);

	if ((size_t) valid != len)
		FUZZ_FAIL("%s: not valid UTF-8 at byte %d of %zu", what, valid, len);
}

/* Fail unless the HTML holds only what the rules allow (see the file header). */
void
check_html(const char *what, const char *html, size_t len, const HtmlRules *rules)
{
	const char *p = html;
	const char *end = html + len;

	while (p < end)
	{
		size_t		n;

		if (*p == '<')
			p = check_tag(what, p, end, rules);
		else if (*p == '&' && rules->escaped)
		{
			n = entity_at(p, end);
			if (n == 0)
				FUZZ_FAIL("%s: an '&' that is not one of cmark's references: \"%.*s\"",
						  what, (int) Min(end - p, 20), p);
			p += n;
		}
		else if (*p == '>' && rules->escaped)
			FUZZ_FAIL("%s: a '>' outside a tag", what);
		else
			p++;
	}
}

/* Text as cmark's HTML renderer escapes it: &, <, > and ". */
char *
escape_text(const char *str)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (const char *p = str; *p != '\0'; p++)
	{
		if (*p == '&')
			appendStringInfoString(&buf, "&amp;");
		else if (*p == '<')
			appendStringInfoString(&buf, "&lt;");
		else if (*p == '>')
			appendStringInfoString(&buf, "&gt;");
		else if (*p == '"')
			appendStringInfoString(&buf, "&quot;");
		else
			appendStringInfoChar(&buf, *p);
	}
	return buf.data;
}
