/*-------------------------------------------------------------------------
 *
 * fuzz_markdown.c
 *	  libFuzzer target over src/render.c's Markdown to HTML, what
 *	  archive.markdown_to_html runs (render_markdown_html), compiled
 *	  unchanged with shim.c and Debian's libcmark.  The first byte of an
 *	  input sets the case, the rest is the Markdown text, as a text value
 *	  holds it (a 4-byte header, or when bit 2 is set and it fits, the
 *	  1-byte header of a short value on disk):
 *
 *	  bits 0-1: archive.max_markdown_bytes.  0: one byte less than the
 *	        text (the text must be refused with an ERROR before anything
 *	        is parsed: no render context is made); 1: exactly the text's
 *	        size; 2 and 3: the default, 64 kB.  Within the cap the text
 *	        must render without an ERROR.
 *	  bit 3: a query cancel first, at the (bits 4-7, plus 1)-th check for
 *	        interrupts; when it ends the render the render context is left
 *	        behind, as it is when a PL/pgSQL exception block catches the
 *	        cancel, and the render that follows must run in a fresh one.
 *
 *	  What must hold of the HTML: valid UTF-8 (render.c converts cmark's
 *	  output to the database encoding, which raises an ERROR otherwise), and
 *	  only what cmark's safe mode writes: its elements and attributes, text
 *	  and attributes escaped, no raw HTML (its comment in place), no href
 *	  or src with a javascript:, vbscript:, file: or (other than image)
 *	  data: scheme as a browser reads it.  After every render, no render
 *	  context is left.
 *
 * cmark itself is Debian's shared library, not instrumented: libFuzzer's
 * coverage is render.c's, so inputs come from the seeds and the mutations
 * and not from feedback inside cmark; AddressSanitizer sees cmark's memory,
 * which it takes from render.c's allocator, through the shim's malloc.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/memnodes.h"

#include "archive.h"
#include "render.h"
#include "htmlcheck.h"
#include "shim.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* archive.max_markdown_bytes, set per input. */
int			archive_max_markdown_bytes;


/* The text as a value of type text: a 4-byte header, or a 1-byte one when short and it fits. */
static Datum
text_value(const uint8_t *bytes, size_t len, bool short_header)
{
	char	   *value;

	if (short_header && len + VARHDRSZ_SHORT <= VARATT_SHORT_MAX)
	{
		value = palloc(VARHDRSZ_SHORT + len);
		SET_VARSIZE_SHORT(value, VARHDRSZ_SHORT + len);
		memcpy(value + VARHDRSZ_SHORT, bytes, len);
	}
	else
	{
		value = palloc(VARHDRSZ + len);
		SET_VARSIZE(value, VARHDRSZ + len);
		memcpy(value + VARHDRSZ, bytes, len);
	}
	return PointerGetDatum(value);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	MemoryContext cxt;
	sigjmp_buf	jb;
	Datum		markdown;
	size_t		len;
	bool		refuse;
	char	   *html;

	if (size == 0)
		return 0;
	cxt = fuzz_begin();
	len = size - 1;
	markdown = text_value(data + 1, len, (data[0] & 4) != 0);
	switch (data[0] & 3)
	{
		case 0:
			archive_max_markdown_bytes = len > 0 ? (int) len - 1 : 0;
			break;
		case 1:
			archive_max_markdown_bytes = (int) len;
			break;
		default:
			archive_max_markdown_bytes = 64 * 1024;
			break;
	}
	refuse = len > (size_t) archive_max_markdown_bytes;

	if ((data[0] & 8) && !refuse)
	{
		if (sigsetjmp(jb, 0) == 0)
		{
			fuzz_error_jmp = &jb;
			fuzz_cancel((data[0] >> 4) + 1);
			(void) render_markdown_html(markdown);
		}
		fuzz_error_jmp = NULL;
		fuzz_cancel(0);
	}

	if (sigsetjmp(jb, 0) == 0)
	{
		fuzz_error_jmp = &jb;
		html = render_markdown_html(markdown);
		fuzz_error_jmp = NULL;
		if (refuse)
			FUZZ_FAIL("Markdown of %zu bytes rendered with archive.max_markdown_bytes at %d",
					  len, archive_max_markdown_bytes);
		check_utf8("markdown_to_html", html, strlen(html));
		check_html("markdown_to_html", html, strlen(html), &cmark_html_rules);
	}
	else if (!refuse)
		FUZZ_FAIL("an ERROR rendering %zu bytes of Markdown within the cap: %s", len, fuzz_error_message());
	if (cxt->firstchild != NULL)
		FUZZ_FAIL("a render left its memory context behind (%s)",
				  refuse ? "refused over the cap" : "rendered");
	fuzz_end(cxt);
	return 0;
}
