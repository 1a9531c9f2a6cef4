/*-------------------------------------------------------------------------
 *
 * htmlcheck.h
 *	  The fuzz targets' checks of rendered text: valid UTF-8, and HTML that
 *	  holds only the elements, attributes and urls it may.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ARCHIVE_FUZZ_HTMLCHECK_H
#define ARCHIVE_FUZZ_HTMLCHECK_H

/* What a run of HTML may hold. */
typedef struct HtmlRules
{
	const char *const *elements;	/* element names, NULL-ended */
	const char *const *attributes;	/* "element attribute" pairs, NULL-ended;
									 * NULL: any attribute but an event handler,
									 * href or src */
	bool		comments;		/* cmark's "<!-- raw HTML omitted -->" */
	bool		escaped;		/* text and values as cmark writes them: no
								 * '>' outside a tag, '&' only in &amp; &lt;
								 * &gt; &quot; &#39; &#x27; */
	bool		page_urls;		/* href and src relative, http, https or
								 * mailto; else cmark's safe mode: no
								 * javascript:, vbscript:, file:, data: but
								 * images */
} HtmlRules;

/* What cmark's HTML renderer, in safe mode, may write. */
extern const HtmlRules cmark_html_rules;

extern void check_utf8(const char *what, const char *str, size_t len);
extern void check_html(const char *what, const char *html, size_t len, const HtmlRules *rules);
extern void check_link(const char *what, const char *url, bool page_urls);
extern char *escape_text(const char *str);

#endif							/* ARCHIVE_FUZZ_HTMLCHECK_H */
