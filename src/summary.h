/*-------------------------------------------------------------------------
 *
 * summary.h
 *	  The aggregate state behind the tag and motif aggregates, shared by
 *	  their transition functions (adjacency.c, motifs.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ARCHIVE_SUMMARY_H
#define ARCHIVE_SUMMARY_H

#include "fmgr.h"

#include "termcount.h"

/* The internal transition state of every term aggregate. */
typedef struct TermAggState
{
	TermCounts *counts;
	int32		limit;			/* k of a ranking aggregate; 0 for a summary */
} TermAggState;

extern TermAggState *termagg_state(FunctionCallInfo fcinfo, TermKind kind);
extern void termagg_set_limit(TermAggState *state, FunctionCallInfo fcinfo,
							  int argno);

#endif							/* ARCHIVE_SUMMARY_H */
