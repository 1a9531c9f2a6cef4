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

#endif							/* ARCHIVE_H */
