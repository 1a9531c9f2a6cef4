/*-------------------------------------------------------------------------
 *
 * archive.h
 *	  The module's settings (archive.*), read by the other modules.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ARCHIVE_H
#define ARCHIVE_H

/* archive.summary_capacity: terms a summary keeps exactly before pruning (x2). */
extern int	archive_summary_capacity;
/* archive.max_markdown_bytes: largest Markdown text that is parsed. */
extern int	archive_max_markdown_bytes;

#endif							/* ARCHIVE_H */
