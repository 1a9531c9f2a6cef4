/*-------------------------------------------------------------------------
 *
 * page.h
 *	  The topic page made from its record: its sentences, as plain text or
 *	  as one cmark node tree rendered to CommonMark or to a standalone HTML
 *	  document.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ARCHIVE_PAGE_H
#define ARCHIVE_PAGE_H

#include "page_record.h"

extern Jsonb *page_prose(PageRecord *record);
extern char *page_markdown(PageRecord *record);
extern char *page_html(PageRecord *record);

#endif							/* ARCHIVE_PAGE_H */
