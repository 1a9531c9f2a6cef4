/*-------------------------------------------------------------------------
 *
 * render.c
 *	  cmark with a palloc allocator: the memory context of a render, the
 *	  CommonMark and HTML renderers other modules call, and Markdown text
 *	  to HTML, the SQL function archive.markdown_to_html.
 *
 * Memory.  Every render (parse a text, or build a node tree, then render
 * it) runs between render_begin() and render_end().  render_begin() creates
 * a memory context under the caller's current one and hands out a cmark_mem
 * whose calloc, realloc and free are palloc0, repalloc and pfree in that
 * context; every node, parser buffer, reference map and output buffer cmark
 * makes comes from it, and render_end() deletes it whole, so nothing is
 * freed node by node.  An ERROR raised inside cmark (out of memory, or a
 * query cancel, see below) longjmps out of cmark's C code, which holds no
 * other resource than this memory: the context goes with its parent when
 * the error resets that, and a reset callback forgets it, so the next
 * render never sees a freed context.  Should an error be caught where the
 * parent lives on (a PL/pgSQL exception block), the orphan is deleted by
 * the next render_begin(): renders never nest, so a live context at that
 * point is always one an error left behind.
 *
 * cmark's hard limits.  cmark_strbuf_grow() calls abort() (which would take
 * the whole server through crash recovery) when a buffer would pass
 * INT32_MAX / 2 bytes.  It asks its allocator for 1.5 times the size it
 * needs, so repalloc's own limit, MaxAllocSize (1 GB - 1), raises an ERROR
 * first as long as the rendered text stays below about 700 MB.  It does:
 * HTML is at most about 14 times its Markdown (nested block quotes),
 * cmark expands link references to no more than the input's size, and
 * archive.max_markdown_bytes is at most 16 MB; topic pages are bounded by
 * the size of the records page.c accepts.  The allocator never returns
 * NULL, so cmark's out-of-memory abort() is never reached either.
 *
 * Time.  cmark has no cancellation hook, and 0.30.2 predates the fixes for
 * its quadratic-time inputs (CVE-2023-22484, CVE-2023-22486): "![[]()"
 * repeated takes 0.16 s at 64 kB and 148 s at 1 MB.  What bounds the time
 * of one parse is the size cap, archive.max_markdown_bytes, checked before
 * anything is parsed.  The allocator also checks for interrupts on every
 * allocation, so a cancel or statement_timeout takes effect at cmark's next
 * allocation; on every quadratic shape measured that came within a few
 * milliseconds, but cmark promises nothing of the kind, so a loop of it
 * that does not allocate would run to its end.
 *
 * Encoding.  cmark reads and writes UTF-8: Markdown is converted from the
 * database encoding before parsing, and rendered output back to it.  But
 * where cmark 0.30 encodes a character itself (its CommonMark renderer does
 * for every character of text and urls, its parser for a character
 * reference such as "&#xFFFF;"), it writes the noncharacters U+FFFE and
 * U+FFFF as the single bytes 0xFE and 0xFF, a quirk of the utf8proc
 * encoder it took them from, which no UTF-8 holds: the conversion refused
 * the output, and one post titled with U+FFFF failed every refresh of the
 * topic pages.  Since valid UTF-8 has no such byte and cmark writes one for
 * nothing else, the output gets the characters' own three bytes back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "archive.h"
#include "render.h"

/*
 * The first block of a render's context: a topic page's render takes some
 * 280 kB.  In one block, it is one malloc and one free of the same size,
 * which the C library hands back and forth; grown from 8 kB, it was five
 * blocks, some of them mapped and unmapped for every render (see page.c's
 * page_call_context for what that cost).
 */
#define RENDER_MEMORY (512 * 1024)

/* The context of the render in progress, NULL between renders. */
static MemoryContext render_context = NULL;

/* Reset callback of a render context: forget it as it goes away. */
static void
render_forget(void *arg)
{
	render_context = NULL;
}

/* cmark's calloc: zeroed memory from the render context. */
static void *
render_calloc(size_t nmemb, size_t size)
{
	Assert(render_context != NULL);
	CHECK_FOR_INTERRUPTS();
	if (size != 0 && nmemb > MaxAllocSize / size)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("invalid memory alloc request size %zu * %zu", nmemb, size)));
	return MemoryContextAllocZero(render_context, nmemb * size);
}

/* cmark's realloc: realloc(NULL, n) allocates from the render context. */
static void *
render_realloc(void *ptr, size_t size)
{
	Assert(render_context != NULL);
	CHECK_FOR_INTERRUPTS();
	if (ptr == NULL)
		return MemoryContextAlloc(render_context, size);
	return repalloc(ptr, size);
}

/* cmark's free: free(NULL) does nothing. */
static void
render_free(void *ptr)
{
	if (ptr != NULL)
		pfree(ptr);
}

static cmark_mem render_allocator = {render_calloc, render_realloc, render_free};

/* Start a render: a fresh memory context, and the cmark allocator drawing on it. */
cmark_mem *
render_begin(void)
{
	MemoryContextCallback *forget;

	if (render_context != NULL)
		MemoryContextDelete(render_context);
	render_context = AllocSetContextCreate(CurrentMemoryContext,
										   "archive render",
										   RENDER_MEMORY, RENDER_MEMORY,
										   ALLOCSET_DEFAULT_MAXSIZE);
	forget = MemoryContextAlloc(render_context, sizeof(MemoryContextCallback));
	forget->func = render_forget;
	forget->arg = NULL;
	MemoryContextRegisterResetCallback(render_context, forget);
	return &render_allocator;
}

/* End a render: delete its context with every node and buffer cmark made. */
void
render_end(void)
{
	Assert(render_context != NULL);
	MemoryContextDelete(render_context);
	Assert(render_context == NULL);
}

/*
 * cmark's UTF-8 output, in the database encoding in the caller's context,
 * its bytes 0xFE and 0xFF first written as U+FFFE and U+FFFF (see the file
 * header).
 */
static char *
render_output(char *out)
{
	size_t		len = strlen(out);
	bool		copied = false;
	char	   *converted;

	if (strpbrk(out, "\xFE\xFF") != NULL)
	{
		StringInfoData utf8;

		initStringInfo(&utf8);
		for (const char *p = out; *p != '\0'; p++)
		{
			if ((unsigned char) *p == 0xFE)
				appendStringInfoString(&utf8, "\xEF\xBF\xBE");
			else if ((unsigned char) *p == 0xFF)
				appendStringInfoString(&utf8, "\xEF\xBF\xBF");
			else
				appendStringInfoChar(&utf8, *p);
		}
		out = utf8.data;
		len = utf8.len;
		copied = true;
	}
	converted = pg_any_to_server(out, len, PG_UTF8);
	return (converted != out || copied) ? converted : pnstrdup(out, len);
}

/* A node tree as CommonMark, lines never wrapped. */
char *
render_commonmark(cmark_node *root)
{
	return render_output(cmark_render_commonmark(root, CMARK_OPT_DEFAULT, 0));
}

/*
 * A node tree as HTML in cmark's safe mode (the default since cmark 0.29,
 * which CMARK_OPT_UNSAFE would turn off): raw HTML is left out and link
 * urls with a javascript:, vbscript:, file: or (other than image) data:
 * scheme become empty.
 */
char *
render_html(cmark_node *root)
{
	return render_output(cmark_render_html(root, CMARK_OPT_DEFAULT));
}

/* Append text with the characters HTML gives meaning to escaped. */
void
render_escape_html(StringInfo buf, const char *str)
{
	for (const char *p = str; *p != '\0'; p++)
	{
		switch (*p)
		{
			case '&':
				appendStringInfoString(buf, "&amp;");
				break;
			case '<':
				appendStringInfoString(buf, "&lt;");
				break;
			case '>':
				appendStringInfoString(buf, "&gt;");
				break;
			case '"':
				appendStringInfoString(buf, "&quot;");
				break;
			case '\'':
				appendStringInfoString(buf, "&#39;");
				break;
			default:
				appendStringInfoChar(buf, *p);
				break;
		}
	}
}

/*
 * Markdown text (a text Datum, maybe toasted) as safe HTML, in the database
 * encoding: refused above archive.max_markdown_bytes, checked on the raw
 * size before the value is even detoasted.
 */
char *
render_markdown_html(Datum markdown)
{
	Size		size = toast_raw_datum_size(markdown) - VARHDRSZ;
	text	   *value;
	char	   *source;
	char	   *utf8;
	size_t		len;
	cmark_parser *parser;
	char	   *html;

	if (size > (Size) archive_max_markdown_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("Markdown text is longer than archive.max_markdown_bytes allows"),
				 errdetail("The text has %zu bytes; the limit is %d bytes.",
						   size, archive_max_markdown_bytes)));
	value = DatumGetTextPP(markdown);
	source = VARDATA_ANY(value);
	len = VARSIZE_ANY_EXHDR(value);
	utf8 = pg_server_to_any(source, len, PG_UTF8);
	if (utf8 != source)
		len = strlen(utf8);

	parser = cmark_parser_new_with_mem(CMARK_OPT_VALIDATE_UTF8, render_begin());
	cmark_parser_feed(parser, utf8, len);
	html = render_html(cmark_parser_finish(parser));
	render_end();
	return html;
}

/* archive.markdown_to_html(markdown text): the Markdown as safe HTML (see render_markdown_html). */
PG_FUNCTION_INFO_V1(archive_markdown_to_html);
Datum
archive_markdown_to_html(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(render_markdown_html(PG_GETARG_DATUM(0))));
}
