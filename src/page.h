/*-------------------------------------------------------------------------
 *
 * page.h
 *	  The topic page: its sentences, as plain text or as one cmark node tree
 *	  rendered to CommonMark or to a standalone HTML document.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ARCHIVE_PAGE_H
#define ARCHIVE_PAGE_H

#include "utils/jsonb.h"

extern Jsonb *page_prose(Jsonb *record);
extern char *page_markdown(Jsonb *record);
extern char *page_html(Jsonb *record);

#endif							/* ARCHIVE_PAGE_H */
