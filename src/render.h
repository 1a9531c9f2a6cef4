/*-------------------------------------------------------------------------
 *
 * render.h
 *	  cmark with a palloc allocator: node trees built, parsed and rendered
 *	  inside a memory context of their own, one per render.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ARCHIVE_RENDER_H
#define ARCHIVE_RENDER_H

#include <cmark.h>

#include "lib/stringinfo.h"

extern cmark_mem *render_begin(void);
extern void render_end(void);
extern char *render_commonmark(cmark_node *root);
extern char *render_html(cmark_node *root);
extern void render_escape_html(StringInfo buf, const char *str);
extern char *render_markdown_html(Datum markdown);

#endif							/* ARCHIVE_RENDER_H */
