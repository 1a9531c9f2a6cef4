/*-------------------------------------------------------------------------
 *
 * references.c
 *	  Reading the reference lists a refresh stores per topic and month
 *	  (archive.topic_months.refs: a jsonb array of posts, newest first, each
 *	  with its tags), for the reading path's central post.
 *
 * The central post of a topic is the one carrying most of its three
 * strongest adjacent tags.  Those tags depend on the whole archive (lift),
 * so they change with any post anywhere, and the search must read every
 * post of the topic again: it is done here, over the stored jsonb, one
 * month's array per call, without turning each post into SQL rows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

/* The given tags, as strings to compare with a post's (already normalised) tags. */
typedef struct WantedTags
{
	char	  **strs;
	int		   *lens;
	int			n;
} WantedTags;

/* How many of the wanted tags the jsonb array of strings "tags" holds. */
static int
count_wanted(JsonbValue *tags, const WantedTags *wanted)
{
	int			found = 0;
	int			ntags;

	if (tags == NULL || tags->type != jbvBinary || !JsonContainerIsArray(tags->val.binary.data))
		return 0;
	ntags = JsonContainerSize(tags->val.binary.data);
	for (int w = 0; w < wanted->n; w++)
	{
		for (int t = 0; t < ntags; t++)
		{
			JsonbValue *tag = getIthJsonbValueFromContainer(tags->val.binary.data, t);

			if (tag != NULL && tag->type == jbvString && tag->val.string.len == wanted->lens[w] &&
				memcmp(tag->val.string.val, wanted->strs[w], wanted->lens[w]) == 0)
			{
				found++;
				break;
			}
		}
	}
	return found;
}

/*
 * archive.reference_with_most_tags(refs jsonb, tags text[], skip_first
 * boolean, skip_last boolean, OUT n integer, OUT shared integer): of the
 * posts of refs (a jsonb array of objects with a "tags" array), the first
 * that carries most of the given tags, and how many of them it carries;
 * NULLs when none carries any.  skip_first and skip_last leave out the first
 * and the last post (the reading path's newest and oldest).  Elements that
 * are not objects, and tags that are not strings, carry nothing.
 */
PG_FUNCTION_INFO_V1(archive_reference_with_most_tags);
Datum
archive_reference_with_most_tags(PG_FUNCTION_ARGS)
{
	Jsonb	   *refs;
	ArrayType  *tags;
	bool		skip_first;
	bool		skip_last;
	WantedTags	wanted = {NULL, NULL, 0};
	Datum	   *datums;
	bool	   *nulls;
	int			ndatums;
	int			nrefs;
	int			best = -1;
	int			best_shared = 0;
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		result_nulls[2] = {true, true};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "archive.reference_with_most_tags must return a record");
	tupdesc = BlessTupleDesc(tupdesc);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, result_nulls)));
	refs = PG_GETARG_JSONB_P(0);
	tags = PG_GETARG_ARRAYTYPE_P(1);
	skip_first = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	skip_last = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);

	deconstruct_array(tags, TEXTOID, -1, false, TYPALIGN_INT, &datums, &nulls, &ndatums);
	wanted.strs = palloc(sizeof(char *) * Max(ndatums, 1));
	wanted.lens = palloc(sizeof(int) * Max(ndatums, 1));
	for (int i = 0; i < ndatums; i++)
	{
		text	   *t;

		if (nulls[i])
			continue;
		t = DatumGetTextPP(datums[i]);
		wanted.strs[wanted.n] = VARDATA_ANY(t);
		wanted.lens[wanted.n++] = VARSIZE_ANY_EXHDR(t);
	}

	nrefs = JB_ROOT_IS_ARRAY(refs) && !JB_ROOT_IS_SCALAR(refs) ? JsonContainerSize(&refs->root) : 0;
	for (int i = skip_first ? 1 : 0; i < (skip_last ? nrefs - 1 : nrefs); i++)
	{
		JsonbValue *ref = getIthJsonbValueFromContainer(&refs->root, i);
		JsonbValue	tagsbuf;
		int			shared;

		if (ref == NULL || ref->type != jbvBinary || !JsonContainerIsObject(ref->val.binary.data))
			continue;
		shared = count_wanted(getKeyJsonValueFromContainer(ref->val.binary.data, "tags", 4, &tagsbuf),
							  &wanted);
		if (shared > best_shared)
		{
			best = i;
			best_shared = shared;
			if (best_shared == wanted.n)
				break;
		}
	}
	if (best >= 0)
	{
		values[0] = Int32GetDatum(best + 1);
		values[1] = Int32GetDatum(best_shared);
		result_nulls[0] = result_nulls[1] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, result_nulls)));
}
