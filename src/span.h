/*-------------------------------------------------------------------------
 *
 * span.h
 *	  A topic span built outside its aggregates (references.c counts the
 *	  posts of a reference list); the type and aggregates are in span.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ARCHIVE_SPAN_H
#define ARCHIVE_SPAN_H

#include "postgres.h"

#include "datatype/timestamp.h"

typedef struct SpanState SpanState;

extern SpanState *span_create(MemoryContext mcxt);
extern void span_add_post(SpanState *state, bool dated, TimestampTz published_at);
extern Datum span_datum(const SpanState *state);

#endif							/* ARCHIVE_SPAN_H */
