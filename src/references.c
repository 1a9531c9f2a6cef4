/*-------------------------------------------------------------------------
 *
 * references.c
 *	  The reference lists a refresh stores per topic and month
 *	  (archive.topic_months.refs: a jsonb array of posts, newest first, each
 *	  with its tags): building them (archive.references_agg), and reading them
 *	  for the reading path's central post.
 *
 * A full refresh builds one list per topic and month, a few posts each, for
 * every membership of the archive.  Built in SQL (jsonb_agg of
 * jsonb_build_object, ORDER BY) that took a third of the refresh: each post
 * went through the variadic "any" call, a jsonb of its own, a copy into the
 * aggregate's and a tuplesort per list.  The aggregate below keeps the posts'
 * fields as they come and builds the array once, sorted, in the final call.
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
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

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

/* One post of a reference list, its fields copied into the aggregate's memory. */
typedef struct ReferencePost
{
	text	   *key;
	text	   *title;
	text	   *url;
	text	   *summary;
	ArrayType  *tags;
	bool		dated;
	TimestampTz published_at;
} ReferencePost;

/* The state of archive.references_agg: the posts so far. */
typedef struct ReferenceList
{
	ReferencePost *posts;
	int			nposts;
	int			capacity;
} ReferenceList;

/* Argument i of the call copied into the current memory context, NULL when SQL NULL. */
static void *
copy_varlena_arg(FunctionCallInfo fcinfo, int i)
{
	return PG_ARGISNULL(i) ? NULL : PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(i));
}

/*
 * The list order: newest first, undated last, then by key descending in the
 * call's collation (NULL keys first), as ORDER BY published_at DESC NULLS
 * LAST, key DESC would sort them.
 */
static int
reference_post_compare(const void *a, const void *b, void *arg)
{
	const ReferencePost *x = a;
	const ReferencePost *y = b;
	Oid			collation = *(Oid *) arg;

	if (x->dated != y->dated)
		return x->dated ? -1 : 1;
	if (x->dated && x->published_at != y->published_at)
		return x->published_at > y->published_at ? -1 : 1;
	if (x->key == NULL || y->key == NULL)
		return (x->key == NULL) == (y->key == NULL) ? 0 : (x->key == NULL ? -1 : 1);
	return -varstr_cmp(VARDATA_ANY(x->key), VARSIZE_ANY_EXHDR(x->key),
					   VARDATA_ANY(y->key), VARSIZE_ANY_EXHDR(y->key), collation);
}

/* Pushes the object key name, then value (a text, or JSON null when NULL). */
static void
push_text_field(JsonbParseState **state, const char *name, text *value)
{
	JsonbValue	jb;

	jb.type = jbvString;
	jb.val.string.val = (char *) name;
	jb.val.string.len = strlen(name);
	pushJsonbValue(state, WJB_KEY, &jb);
	if (value == NULL)
		jb.type = jbvNull;
	else
	{
		jb.val.string.val = VARDATA_ANY(value);
		jb.val.string.len = VARSIZE_ANY_EXHDR(value);
	}
	pushJsonbValue(state, WJB_VALUE, &jb);
}

/* Pushes "tags": the post's tags as a jsonb array of strings (nulls kept), or null. */
static void
push_tags_field(JsonbParseState **state, ArrayType *tags)
{
	JsonbValue	jb;
	Datum	   *datums;
	bool	   *nulls;
	int			n;

	jb.type = jbvString;
	jb.val.string.val = "tags";
	jb.val.string.len = 4;
	pushJsonbValue(state, WJB_KEY, &jb);
	if (tags == NULL)
	{
		jb.type = jbvNull;
		pushJsonbValue(state, WJB_VALUE, &jb);
		return;
	}
	deconstruct_array(tags, TEXTOID, -1, false, TYPALIGN_INT, &datums, &nulls, &n);
	pushJsonbValue(state, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			jb.type = jbvNull;
		else
		{
			text	   *tag = DatumGetTextPP(datums[i]);

			jb.type = jbvString;
			jb.val.string.val = VARDATA_ANY(tag);
			jb.val.string.len = VARSIZE_ANY_EXHDR(tag);
		}
		pushJsonbValue(state, WJB_ELEM, &jb);
	}
	pushJsonbValue(state, WJB_END_ARRAY, NULL);
}

/*
 * archive.references_agg(key, title, url, summary, tags, published_at)
 * transition: keeps the post's fields.  Tags must be a one-dimensional text
 * array (public_posts gives normalised ones).
 */
PG_FUNCTION_INFO_V1(archive_references_trans);
Datum
archive_references_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	MemoryContext old;
	ReferenceList *list;
	ReferencePost *post;
	ArrayType  *tags;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "archive_references_trans called in non-aggregate context");
	old = MemoryContextSwitchTo(aggcontext);
	tags = copy_varlena_arg(fcinfo, 5);
	if (tags != NULL && ARR_NDIM(tags) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("tags of a reference must be a one-dimensional array")));
	if (PG_ARGISNULL(0))
	{
		list = palloc(sizeof(ReferenceList));
		list->nposts = 0;
		list->capacity = 8;
		list->posts = palloc(sizeof(ReferencePost) * list->capacity);
	}
	else
		list = (ReferenceList *) PG_GETARG_POINTER(0);
	if (list->nposts == list->capacity)
	{
		if (list->capacity >= (int) (MaxAllocSize / sizeof(ReferencePost) / 2))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many posts in one reference list")));
		list->capacity *= 2;
		list->posts = repalloc(list->posts, sizeof(ReferencePost) * list->capacity);
	}
	post = &list->posts[list->nposts++];
	post->key = copy_varlena_arg(fcinfo, 1);
	post->title = copy_varlena_arg(fcinfo, 2);
	post->url = copy_varlena_arg(fcinfo, 3);
	post->summary = copy_varlena_arg(fcinfo, 4);
	post->tags = tags;
	post->dated = !PG_ARGISNULL(6);
	post->published_at = post->dated ? PG_GETARG_TIMESTAMPTZ(6) : 0;
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(list);
}

/*
 * archive.references_agg final: the posts as a jsonb array of objects (key,
 * title, url, summary, tags, published_at), newest first; the same jsonb as
 * jsonb_agg(jsonb_build_object(...) ORDER BY published_at DESC NULLS LAST,
 * key DESC) gives.
 */
PG_FUNCTION_INFO_V1(archive_references_final);
Datum
archive_references_final(PG_FUNCTION_ARGS)
{
	ReferenceList *list;
	Oid			collation = PG_GET_COLLATION();
	JsonbParseState *state = NULL;
	JsonbValue *result;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "archive_references_final called in non-aggregate context");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	list = (ReferenceList *) PG_GETARG_POINTER(0);
	/* the final function may run again on the same state (window frames): sort in place */
	qsort_arg(list->posts, list->nposts, sizeof(ReferencePost), reference_post_compare, &collation);

	pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < list->nposts; i++)
	{
		ReferencePost *post = &list->posts[i];
		JsonbValue	jb;

		pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
		push_text_field(&state, "key", post->key);
		push_text_field(&state, "title", post->title);
		push_text_field(&state, "url", post->url);
		push_text_field(&state, "summary", post->summary);
		push_tags_field(&state, post->tags);
		jb.type = jbvString;
		jb.val.string.val = "published_at";
		jb.val.string.len = strlen("published_at");
		pushJsonbValue(&state, WJB_KEY, &jb);
		if (post->dated)
		{
			jb.val.string.val = JsonEncodeDateTime(NULL, TimestampTzGetDatum(post->published_at),
												   TIMESTAMPTZOID, NULL);
			jb.val.string.len = strlen(jb.val.string.val);
		}
		else
			jb.type = jbvNull;
		pushJsonbValue(&state, WJB_VALUE, &jb);
		pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	}
	result = pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	PG_RETURN_JSONB_P(JsonbValueToJsonb(result));
}
