/*-------------------------------------------------------------------------
 *
 * termcount.h
 *	  The counting core: a bounded, mergeable string -> count summary.
 *
 * A TermCounts counts how many input rows (posts, titles) carried each term.
 * It keeps at most 2 * capacity terms; beyond that it prunes with the
 * Misra-Gries rule (see termcount.c), which keeps the summary mergeable and
 * its error known: a term's true count lies in [count, count + error].
 *
 * No SQL here: the SQL types and aggregates are in summary.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ARCHIVE_TERMCOUNT_H
#define ARCHIVE_TERMCOUNT_H

#include "postgres.h"

#include "lib/stringinfo.h"

/* What the terms are; summaries of different kinds never merge. */
typedef enum TermKind
{
	TERMS_TAGS = 1,				/* key: a normalised tag */
	TERMS_MOTIFS = 2			/* key: stem, NUL byte, surface word */
} TermKind;

/* Bounds on the capacity of a summary (also the range of the setting). */
#define TERMCOUNT_MIN_CAPACITY 16
#define TERMCOUNT_MAX_CAPACITY (1 << 20)

/* Longest key accepted, in bytes (longer tags and words are not counted). */
#define TERMCOUNT_MAX_KEY 1000

/* One counted term, as handed out in sorted order. */
typedef struct TermCount
{
	const char *key;
	uint32		keylen;
	int64		count;
} TermCount;

typedef struct TermCounts TermCounts;

/*
 * A summary's terms as an array: a stored one read in place (termcounts_view,
 * checked in full, terms in canonical order, pointing into the flat bytes),
 * or a table's (termcounts_as_view, table order); each term with its
 * termcounts_hash.
 */
typedef struct TermCountsView
{
	TermKind	kind;
	int32		capacity;
	int64		rows;
	int64		error;
	int			nterms;
	TermCount  *terms;
	uint32	   *hashes;
} TermCountsView;

extern TermCounts *termcounts_create(MemoryContext mcxt, TermKind kind,
									 int32 capacity);
extern TermKind termcounts_kind(const TermCounts *tc);
extern int64 termcounts_error(const TermCounts *tc);
extern int32 termcounts_capacity(const TermCounts *tc);
extern int	termcounts_nterms(const TermCounts *tc);
extern void termcounts_add_rows(TermCounts *tc, int64 rows);
extern uint32 termcounts_hash(const char *key, uint32 keylen);
extern void termcounts_prefetch(const TermCounts *tc, uint32 hash);
extern void termcounts_add(TermCounts *tc, const char *key, uint32 keylen,
						   int64 count);
extern void termcounts_add_hashed(TermCounts *tc, const char *key, uint32 keylen,
								  uint32 hash, int64 count);
extern void termcounts_merge(TermCounts *dst, const TermCounts *src);
extern void termcounts_merge_view(TermCounts *dst, const TermCountsView *src);
extern void termcounts_as_view(const TermCounts *tc, TermCountsView *view);
extern int	termkey_compare(const char *x, uint32 xlen, const char *y, uint32 ylen);
extern int	termcount_compare(const void *a, const void *b);
extern bool termcounts_tag_is_normal(const char *key, uint32 keylen);

/*
 * The flat form: a version byte, then the summary, in native byte order (see
 * termcount.c); what is stored, and what aggregate states are between the
 * processes of one server.
 */
extern char *termcounts_flatten(const TermCounts *tc, Size prefix, Size *len);
extern TermCounts *termcounts_unflatten(MemoryContext mcxt, const char *data,
										Size len);
extern void termcounts_view(const char *data, Size len, TermCountsView *view);
extern char *termcounts_union_flat(const TermCountsView *a, const TermCountsView *b,
								   int32 min_capacity, Size prefix, Size *len);
extern char *termcounts_subtract_flat(const TermCountsView *from, const TermCountsView *sub,
									  Size prefix, Size *len);
extern char *termcounts_flatten_state(const TermCounts *tc, Size prefix, Size *len);
extern TermCounts *termcounts_unflatten_state(MemoryContext mcxt, const char *data,
											  Size len);
extern TermCounts *termcounts_from_terms(MemoryContext mcxt, TermKind kind,
										 int32 capacity, int64 rows, int64 error,
										 TermCount *terms, int nterms);

/* The wire form: the portable binary form of the SQL type (see termcount.c). */
extern void termcounts_send(const TermCounts *tc, StringInfo buf);
extern TermCounts *termcounts_recv(MemoryContext mcxt, StringInfo buf);

#endif							/* ARCHIVE_TERMCOUNT_H */
