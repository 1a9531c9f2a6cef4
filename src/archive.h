/*-------------------------------------------------------------------------
 *
 * archive.h
 *	  The module's settings (archive.*), read by the other modules, the one
 *	  helper for the arrays that grow one element at a time, and the one way
 *	  to walk a text[].
 *
 *-------------------------------------------------------------------------
 */
#ifndef ARCHIVE_H
#define ARCHIVE_H

#include "utils/array.h"

/* archive.summary_capacity: terms a summary keeps exactly before pruning (x2). */
extern int	archive_summary_capacity;
/* archive.max_markdown_bytes: largest Markdown text that is parsed. */
extern int	archive_max_markdown_bytes;

/* archive.min_topic_posts: public posts a tag needs to be a topic when none are defined. */
extern int	archive_min_topic_posts;
/* archive.topic_url: url pattern of topic pages ({slug} is replaced); empty: no links. */
extern char *archive_topic_url;

/* archive.refresh_wait: whether a refresh waits for a running one. */
extern bool archive_refresh_wait;

/* archive.progress_after: ms after which a refresh or load reports its phases (-1: never). */
extern int	archive_progress_after;

/* archive.page_references: posts a topic page lists as references. */
extern int	archive_page_references;

/* items with room for one more element (doubled when full; too_many: the error when it cannot grow). */
extern void *room_for_one_more(void *items, int n, int *capacity, Size size,
							   const char *too_many);

/* An iterator over the elements of a text[], its element type given rather than looked up. */
extern ArrayIterator text_array_iterator(ArrayType *array);

#endif							/* ARCHIVE_H */
