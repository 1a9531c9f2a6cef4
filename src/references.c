/*-------------------------------------------------------------------------
 *
 * references.c
 *	  The reference lists a refresh stores per topic and month
 *	  (archive.topic_months.refs: a jsonb array of posts, newest first, each
 *	  with its tags): building them (archive.references_agg), updating them
 *	  (archive.references_merge), and reading them for a page's references
 *	  and reading path (archive.reading_refs_agg,
 *	  archive.reference_with_most_tags).
 *
 * A full refresh builds one list per topic and month, a few posts each, for
 * every membership of the archive.  Built in SQL (jsonb_agg of
 * jsonb_build_object, ORDER BY) that took an eighth of the refresh: each post
 * went through the variadic "any" call, a jsonb of its own, a copy into the
 * aggregate's and a tuplesort per list.  The aggregate below keeps the posts'
 * fields as they come and builds the array once, sorted, in the final call.
 * An incremental refresh likewise updates a touched month's list in one
 * call, where SQL unnested, parsed, sorted and aggregated it again.
 *
 * The central post of a topic is the one carrying most of its three
 * strongest adjacent tags.  Those tags depend on the whole archive (lift),
 * so they change with any post anywhere, and the search must read every
 * post of the topic again: it is done here, over the stored jsonb, without
 * turning each post into SQL rows.  archive.reading_refs_agg takes a topic's
 * months at once, so that one pass over them gives the references (the
 * newest posts), the newest, the oldest and the central post, and reads a
 * month's list only when it must: the references stop at the page's number
 * of posts, and the central search at a post that carries every tag sought.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datum.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "archive.h"
#include "argcache.h"
#include "jsonform.h"
#include "span.h"

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

/* The non-NULL strings of a text array, to look for in posts' tags. */
static WantedTags
wanted_tags(ArrayType *tags)
{
	WantedTags	wanted = {NULL, NULL, 0};
	Datum	   *datums;
	bool	   *nulls;
	int			ndatums;

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
	return wanted;
}

/*
 * Of the posts first to end - 1 of a reference list, the first that carries
 * more of the wanted tags than *best_shared (then raised to its count), or -1
 * when none does.  Elements that are not objects carry nothing.
 */
static int
post_with_more_tags(Jsonb *refs, int first, int end, const WantedTags *wanted, int *best_shared)
{
	int			best = -1;

	for (int i = first; i < end && *best_shared < wanted->n; i++)
	{
		JsonbValue *ref = getIthJsonbValueFromContainer(&refs->root, i);
		JsonbValue	tagsbuf;
		int			shared;

		if (ref == NULL || ref->type != jbvBinary || !JsonContainerIsObject(ref->val.binary.data))
			continue;
		shared = count_wanted(getKeyJsonValueFromContainer(ref->val.binary.data, "tags", 4, &tagsbuf),
							  wanted);
		if (shared > *best_shared)
		{
			best = i;
			*best_shared = shared;
		}
	}
	return best;
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
	WantedTags	wanted;
	int			nrefs;
	int			best;
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

	wanted = wanted_tags(tags);
	nrefs = JB_ROOT_IS_ARRAY(refs) && !JB_ROOT_IS_SCALAR(refs) ? JsonContainerSize(&refs->root) : 0;
	best = post_with_more_tags(refs, skip_first ? 1 : 0, skip_last ? nrefs - 1 : nrefs, &wanted, &best_shared);
	if (best >= 0)
	{
		values[0] = Int32GetDatum(best + 1);
		values[1] = Int32GetDatum(best_shared);
		result_nulls[0] = result_nulls[1] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, result_nulls)));
}

/* Argument i of the call copied into the current memory context, NULL when SQL NULL. */
static void *
copy_varlena_arg(FunctionCallInfo fcinfo, int i)
{
	return PG_ARGISNULL(i) ? NULL : PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(i));
}

/* Where a post sorts in a reference list: its date (if dated) and key (NULL: none). */
typedef struct ReferenceOrder
{
	bool		dated;
	TimestampTz published_at;
	const char *key;
	int			keylen;
} ReferenceOrder;

/*
 * The list order: newest first, undated last, then by key descending in the
 * given collation (no key first), as ORDER BY published_at DESC NULLS LAST,
 * key DESC sorts them.
 */
static int
reference_order_compare(const ReferenceOrder *x, const ReferenceOrder *y, Oid collation)
{
	if (x->dated != y->dated)
		return x->dated ? -1 : 1;
	if (x->dated && x->published_at != y->published_at)
		return x->published_at > y->published_at ? -1 : 1;
	if (x->key == NULL || y->key == NULL)
		return (x->key == NULL) == (y->key == NULL) ? 0 : (x->key == NULL ? -1 : 1);
	return -varstr_cmp(x->key, x->keylen, y->key, y->keylen, collation);
}

/* The fields of a post in a reference list. */
#define REFERENCE_FIELDS 6

/* One post of a reference list, its fields copied into the aggregate's memory. */
typedef struct ReferencePost
{
	ReferenceOrder order;		/* where it sorts, its key pointing into key */
	text	   *key;
	text	   *title;
	text	   *url;
	text	   *summary;
	ArrayType  *tags;
} ReferencePost;

/* The state of archive.references_agg: the posts so far. */
typedef struct ReferenceList
{
	ReferencePost *posts;
	int			nposts;
	int			capacity;
} ReferenceList;

/* qsort_arg comparator of archive.references_agg's posts; arg points to the collation. */
static int
reference_post_compare(const void *a, const void *b, void *arg)
{
	return reference_order_compare(&((const ReferencePost *) a)->order,
								   &((const ReferencePost *) b)->order, *(Oid *) arg);
}

/* An object key as a jsonb string. */
static JsonbValue
jsonb_key(const char *name)
{
	JsonbValue	jb;

	jb.type = jbvString;
	jb.val.string.val = (char *) name;
	jb.val.string.len = strlen(name);
	return jb;
}

/* Pushes the key of an object being built. */
static void
push_key(JsonbParseState **state, const char *name)
{
	JsonbValue	jb = jsonb_key(name);

	pushJsonbValue(state, WJB_KEY, &jb);
}

/* A text as a jsonb string, JSON null when NULL. */
static JsonbValue
jsonb_text_value(text *value)
{
	JsonbValue	jb;

	if (value == NULL)
		jb.type = jbvNull;
	else
	{
		jb.type = jbvString;
		jb.val.string.val = VARDATA_ANY(value);
		jb.val.string.len = VARSIZE_ANY_EXHDR(value);
	}
	return jb;
}

/* A post's tags as a jsonb array of strings (nulls kept), JSON null when NULL. */
static JsonbValue
jsonb_tags_value(ArrayType *tags)
{
	JsonbValue	jb;
	ArrayIterator it;
	Datum		datum;
	bool		isnull;
	int			n = 0;

	if (tags == NULL)
	{
		jb.type = jbvNull;
		return jb;
	}
	jb.type = jbvArray;
	jb.val.array.rawScalar = false;
	jb.val.array.elems = palloc(sizeof(JsonbValue) * Max(ArrayGetNItems(ARR_NDIM(tags), ARR_DIMS(tags)), 1));
	it = text_array_iterator(tags);
	while (array_iterate(it, &datum, &isnull))
		jb.val.array.elems[n++] = jsonb_text_value(isnull ? NULL : DatumGetTextPP(datum));
	array_free_iterator(it);
	jb.val.array.nElems = n;
	return jb;
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
	list->posts = room_for_one_more(list->posts, list->nposts, &list->capacity, sizeof(ReferencePost),
									"too many posts in one reference list");
	post = &list->posts[list->nposts++];
	post->key = copy_varlena_arg(fcinfo, 1);
	post->title = copy_varlena_arg(fcinfo, 2);
	post->url = copy_varlena_arg(fcinfo, 3);
	post->summary = copy_varlena_arg(fcinfo, 4);
	post->tags = tags;
	post->order = (ReferenceOrder)
	{
		!PG_ARGISNULL(6), PG_ARGISNULL(6) ? 0 : PG_GETARG_TIMESTAMPTZ(6),
			post->key != NULL ? VARDATA_ANY(post->key) : NULL,
			post->key != NULL ? VARSIZE_ANY_EXHDR(post->key) : 0
	};
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
	JsonbValue	result;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "archive_references_final called in non-aggregate context");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	list = (ReferenceList *) PG_GETARG_POINTER(0);
	/* the final function may run again on the same state (window frames): sort in place */
	qsort_arg(list->posts, list->nposts, sizeof(ReferencePost), reference_post_compare, &collation);

	/*
	 * The array as a JsonbValue tree, each object's pairs already in jsonb's
	 * key order (shorter keys first, then by bytes), converted at once.
	 * Through pushJsonbValue every object was copied into a parse state and
	 * its pairs sorted: a fifth of the aggregate, which a full refresh runs
	 * once per membership.
	 */
	result.type = jbvArray;
	result.val.array.rawScalar = false;
	result.val.array.nElems = list->nposts;
	result.val.array.elems = palloc(sizeof(JsonbValue) * Max(list->nposts, 1));
	for (int i = 0; i < list->nposts; i++)
	{
		ReferencePost *post = &list->posts[i];
		JsonbValue *object = &result.val.array.elems[i];
		JsonbPair  *pairs = palloc(sizeof(JsonbPair) * REFERENCE_FIELDS);
		JsonbValue	published;

		if (post->order.dated)
		{
			published.type = jbvString;
			published.val.string.val = JsonEncodeDateTime(NULL, TimestampTzGetDatum(post->order.published_at),
														   TIMESTAMPTZOID, NULL);
			published.val.string.len = strlen(published.val.string.val);
		}
		else
			published.type = jbvNull;
		pairs[0] = (JsonbPair) {jsonb_key("key"), jsonb_text_value(post->key), 0};
		pairs[1] = (JsonbPair) {jsonb_key("url"), jsonb_text_value(post->url), 1};
		pairs[2] = (JsonbPair) {jsonb_key("tags"), jsonb_tags_value(post->tags), 2};
		pairs[3] = (JsonbPair) {jsonb_key("title"), jsonb_text_value(post->title), 3};
		pairs[4] = (JsonbPair) {jsonb_key("summary"), jsonb_text_value(post->summary), 4};
		pairs[5] = (JsonbPair) {jsonb_key("published_at"), published, 5};
		object->type = jbvObject;
		object->val.object.nPairs = REFERENCE_FIELDS;
		object->val.object.pairs = pairs;
	}
	PG_RETURN_JSONB_P(JsonbValueToJsonb(&result));
}

/* A post key of archive.references_merge's set of keys to leave out. */
typedef struct PostKey
{
	const char *str;
	uint32		len;
} PostKey;

/* An entry of that set. */
typedef struct PostKeyEntry
{
	PostKey		key;
	uint32		hash;
	char		status;
} PostKeyEntry;

#define SH_PREFIX keyset
#define SH_ELEMENT_TYPE PostKeyEntry
#define SH_KEY_TYPE PostKey
#define SH_KEY key
#define SH_HASH_KEY(tb, k) hash_bytes((const unsigned char *) (k).str, (int) (k).len)
#define SH_EQUAL(tb, a, b) ((a).len == (b).len && memcmp((a).str, (b).str, (a).len) == 0)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/*
 * ArgCacheBuild of the set of keys to leave out, from a text array: a
 * refresh passes the same array of every changed post's key (thousands) for
 * each topic month it updates, so the set is built once per query.
 */
static void *
removed_keys_build(const char *bytes, Size len)
{
	keyset_hash *keys;
	Datum	   *datums;
	bool	   *nulls;
	int			n;

	deconstruct_array((ArrayType *) bytes, TEXTOID, -1, false, TYPALIGN_INT, &datums, &nulls, &n);
	keys = keyset_create(CurrentMemoryContext, Max(n, 16), NULL);
	for (int i = 0; i < n; i++)
	{
		text	   *key;
		bool		found;

		if (nulls[i])
			continue;
		key = DatumGetTextPP(datums[i]);
		keyset_insert(keys, (PostKey) {VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key)}, &found);
	}
	return keys;
}

/* A post of a reference list being merged: where it is, and what it sorts by. */
typedef struct MergedRef
{
	JsonbValue *ref;
	ReferenceOrder order;		/* key NULL: no string key */
} MergedRef;

/* qsort_arg comparator of merged posts; arg points to the collation. */
static int
merged_ref_compare(const void *a, const void *b, void *arg)
{
	return reference_order_compare(&((const MergedRef *) a)->order, &((const MergedRef *) b)->order,
								   *(Oid *) arg);
}

/*
 * Adds the posts of a reference list (a jsonb array) to merged, and those
 * whose key is in removed (when not NULL) to dropped instead.  A post's
 * published_at is read as the cast to timestamptz reads it (22007 when it is
 * not a string or null); a missing or null one makes it undated, and a key
 * that is not a string counts as none.
 */
static void
collect_refs(Jsonb *refs, keyset_hash *removed, MergedRef *merged, int *nmerged,
			 JsonbValue **dropped, int *ndropped)
{
	int			n = JB_ROOT_IS_ARRAY(refs) && !JB_ROOT_IS_SCALAR(refs) ? JsonContainerSize(&refs->root) : 0;

	for (int i = 0; i < n; i++)
	{
		JsonbValue *ref = getIthJsonbValueFromContainer(&refs->root, i);
		MergedRef  *m = &merged[*nmerged];
		JsonbValue	buf;
		JsonbValue *field;

		m->ref = ref;
		m->order = (ReferenceOrder) {false, 0, NULL, 0};
		if (ref->type == jbvBinary && JsonContainerIsObject(ref->val.binary.data))
		{
			field = getKeyJsonValueFromContainer(ref->val.binary.data, "key", 3, &buf);
			if (field != NULL && field->type == jbvString)
			{
				m->order.key = field->val.string.val;
				m->order.keylen = field->val.string.len;
				if (removed != NULL &&
					keyset_lookup(removed, (PostKey) {m->order.key, m->order.keylen}) != NULL)
				{
					dropped[(*ndropped)++] = ref;
					continue;
				}
			}
			field = getKeyJsonValueFromContainer(ref->val.binary.data, "published_at", 12, &buf);
			if (field != NULL && field->type != jbvNull)
			{
				if (field->type != jbvString)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
							 errmsg("published_at of a reference must be a string or null")));
				m->order.dated = true;
				m->order.published_at = jsonform_time(field->val.string.val, field->val.string.len);
			}
		}
		(*nmerged)++;
	}
}

/* A jsonb array of n values; NULL when n is 0. */
static Jsonb *
jsonb_array_of(JsonbValue **values, int n)
{
	JsonbParseState *state = NULL;
	JsonbValue *result;

	if (n == 0)
		return NULL;
	pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < n; i++)
		pushJsonbValue(&state, WJB_ELEM, values[i]);
	result = pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	return JsonbValueToJsonb(result);
}

/*
 * archive.references_merge(refs jsonb, removed text[], added jsonb, OUT
 * merged, OUT posts, OUT span, OUT dropped): merged, the posts of refs whose
 * key is not in removed and those of added, as one reference list in its
 * order (newest first, undated last, then by key descending), NULL when that
 * is no post; posts, how many; span, their archive.span (NULL when none), as
 * archive.topic_span gives it over their times; dropped, the posts of refs
 * left out, in their order (NULL when none).  An incremental refresh updates
 * a topic month with it: the posts that changed go, their new versions come,
 * and the old versions' summaries come out of the month's (from dropped).
 * NULL refs or added count as empty lists, NULL removed as no key.
 */
PG_FUNCTION_INFO_V1(archive_references_merge);
Datum
archive_references_merge(PG_FUNCTION_ARGS)
{
	Oid			collation = PG_GET_COLLATION();
	Jsonb	   *refs = PG_ARGISNULL(0) ? NULL : PG_GETARG_JSONB_P(0);
	ArrayType  *removed_array = PG_ARGISNULL(1) ? NULL : PG_GETARG_ARRAYTYPE_P(1);
	keyset_hash *removed = removed_array == NULL ? NULL
		: argcache_value(fcinfo->flinfo, removed_array, VARSIZE(removed_array), removed_keys_build);
	Jsonb	   *added = PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2);
	TupleDesc	tupdesc;
	int			capacity = 0;
	MergedRef  *merged;
	int			nmerged = 0;
	JsonbValue **dropped;
	int			ndropped = 0;
	JsonbValue **listed;
	SpanState  *span;
	Jsonb	   *merged_list;
	Jsonb	   *dropped_list;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "archive.references_merge must return a record");
	if (refs != NULL && JB_ROOT_IS_ARRAY(refs) && !JB_ROOT_IS_SCALAR(refs))
		capacity += JsonContainerSize(&refs->root);
	if (added != NULL && JB_ROOT_IS_ARRAY(added) && !JB_ROOT_IS_SCALAR(added))
		capacity += JsonContainerSize(&added->root);
	merged = palloc(sizeof(MergedRef) * Max(capacity, 1));
	dropped = palloc(sizeof(JsonbValue *) * Max(capacity, 1));
	if (refs != NULL)
		collect_refs(refs, removed, merged, &nmerged, dropped, &ndropped);
	if (added != NULL)
		collect_refs(added, NULL, merged, &nmerged, dropped, &ndropped);
	qsort_arg(merged, nmerged, sizeof(MergedRef), merged_ref_compare, &collation);

	listed = palloc(sizeof(JsonbValue *) * Max(nmerged, 1));
	span = span_create(CurrentMemoryContext);
	for (int i = 0; i < nmerged; i++)
	{
		listed[i] = merged[i].ref;
		span_add_post(span, merged[i].order.dated, merged[i].order.published_at);
	}
	merged_list = jsonb_array_of(listed, nmerged);
	dropped_list = jsonb_array_of(dropped, ndropped);
	values[0] = PointerGetDatum(merged_list);
	nulls[0] = merged_list == NULL;
	values[1] = Int32GetDatum(nmerged);
	values[2] = nmerged > 0 ? span_datum(span) : (Datum) 0;
	nulls[2] = nmerged == 0;
	values[3] = PointerGetDatum(dropped_list);
	nulls[3] = dropped_list == NULL;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/* One month of a topic in archive.reading_refs_agg: the month and its reference list, as stored. */
typedef struct MonthRefs
{
	DateADT		month;
	Datum		refs;			/* a copy of the stored value, read when needed */
	Jsonb	   *read;			/* the list once read in this final call, or NULL */
} MonthRefs;

/* The state of archive.reading_refs_agg: a topic's months, its strongest tags, the list length. */
typedef struct ReadingState
{
	MonthRefs  *months;
	int			nmonths;
	int			capacity;
	ArrayType  *strongest;		/* NULL: no adjacent tags, no central post */
	int32		max_refs;
} ReadingState;

/* Months newest first; undated posts (month -infinity, the smallest date) come last. */
static int
month_refs_compare(const void *a, const void *b)
{
	const MonthRefs *x = a;
	const MonthRefs *y = b;

	return (x->month < y->month) - (x->month > y->month);
}

/* The reference list of a month, read (detoasted) once. */
static Jsonb *
month_refs(MonthRefs *month)
{
	if (month->read == NULL)
		month->read = DatumGetJsonbP(month->refs);
	return month->read;
}

/* How many posts a month's reference list holds (0 when it is not an array). */
static int
month_refs_count(MonthRefs *month)
{
	Jsonb	   *refs = month_refs(month);

	return JB_ROOT_IS_ARRAY(refs) && !JB_ROOT_IS_SCALAR(refs) ? JsonContainerSize(&refs->root) : 0;
}

/* Pushes post i of a month's list as a value (JSON null when there is none). */
static void
push_ref(JsonbParseState **state, MonthRefs *month, int i)
{
	JsonbValue	null = {.type = jbvNull};
	JsonbValue *ref = month != NULL && i >= 0 && i < month_refs_count(month)
		? getIthJsonbValueFromContainer(&month_refs(month)->root, i) : NULL;

	pushJsonbValue(state, WJB_VALUE, ref != NULL ? ref : &null);
}

/*
 * archive.reading_refs_agg(month, refs, strongest, max_refs) transition:
 * keeps the month and its reference list (not read yet); strongest and
 * max_refs are the topic's, the same on every row.
 */
PG_FUNCTION_INFO_V1(archive_reading_refs_trans);
Datum
archive_reading_refs_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	MemoryContext old;
	ReadingState *reading;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "archive_reading_refs_trans called in non-aggregate context");
	if (PG_ARGISNULL(4) || PG_GETARG_INT32(4) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_refs must be zero or positive")));
	old = MemoryContextSwitchTo(aggcontext);
	if (PG_ARGISNULL(0))
	{
		reading = palloc(sizeof(ReadingState));
		reading->nmonths = 0;
		reading->capacity = 64;
		reading->months = palloc(sizeof(MonthRefs) * reading->capacity);
		reading->strongest = PG_ARGISNULL(3) ? NULL : PG_GETARG_ARRAYTYPE_P_COPY(3);
		reading->max_refs = PG_GETARG_INT32(4);
	}
	else
		reading = (ReadingState *) PG_GETARG_POINTER(0);
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
	{
		reading->months = room_for_one_more(reading->months, reading->nmonths, &reading->capacity,
											sizeof(MonthRefs), "too many months in one topic");
		reading->months[reading->nmonths++] = (MonthRefs)
		{
			PG_GETARG_DATEADT(1), datumCopy(PG_GETARG_DATUM(2), false, -1), NULL
		};
	}
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(reading);
}

/*
 * archive.reading_refs_agg final: a topic's references and reading path
 * from its months' reference lists (each newest first), as a jsonb object:
 *
 *   references  the first max_refs posts, months newest first, undated last,
 *               each without its key;
 *   newest      the first post of the newest dated month;
 *   oldest      the last post of the oldest dated month, null when the topic
 *               has one dated post;
 *   central     the post carrying most of the strongest tags (at least one),
 *               newest month first and then first in its month on ties, not
 *               the newest or the oldest; null when none carries any.
 *
 * A month's list is read only when needed: the central post's search stops at
 * a post carrying every strongest tag, and the references at max_refs posts.
 */
PG_FUNCTION_INFO_V1(archive_reading_refs_final);
Datum
archive_reading_refs_final(PG_FUNCTION_ARGS)
{
	ReadingState *reading;
	MonthRefs  *newest = NULL;
	MonthRefs  *oldest = NULL;
	bool		oldest_listed;
	MonthRefs  *central = NULL;
	int			central_at = -1;
	int			central_shared = 0;
	int			listed = 0;
	JsonbParseState *state = NULL;
	JsonbValue *result;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "archive_reading_refs_final called in non-aggregate context");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	reading = (ReadingState *) PG_GETARG_POINTER(0);
	/* as a window aggregate this runs again on the state: lists read last time are gone */
	for (int m = 0; m < reading->nmonths; m++)
		reading->months[m].read = NULL;
	qsort(reading->months, reading->nmonths, sizeof(MonthRefs), month_refs_compare);
	for (int m = 0; m < reading->nmonths; m++)
	{
		if (reading->months[m].month == DATEVAL_NOBEGIN)
			continue;
		if (newest == NULL)
			newest = &reading->months[m];
		oldest = &reading->months[m];
	}
	/* a topic with one dated post has it as its newest, and no oldest */
	oldest_listed = oldest != NULL && !(oldest == newest && month_refs_count(oldest) == 1);

	if (reading->strongest != NULL)
	{
		WantedTags	wanted = wanted_tags(reading->strongest);

		for (int m = 0; m < reading->nmonths && wanted.n > 0 && central_shared < wanted.n; m++)
		{
			MonthRefs  *month = &reading->months[m];
			int			at = post_with_more_tags(month_refs(month), month == newest ? 1 : 0,
												 month_refs_count(month) - (month == oldest ? 1 : 0),
												 &wanted, &central_shared);

			if (at >= 0)
			{
				central = month;
				central_at = at;
			}
		}
	}

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	push_key(&state, "references");
	pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	for (int m = 0; m < reading->nmonths && listed < reading->max_refs; m++)
	{
		MonthRefs  *month = &reading->months[m];
		int			n = month_refs_count(month);

		for (int i = 0; i < n && listed < reading->max_refs; i++, listed++)
		{
			JsonbValue *ref = getIthJsonbValueFromContainer(&month_refs(month)->root, i);
			JsonbIterator *it;
			JsonbValue	v;
			JsonbIteratorToken token;

			if (ref->type != jbvBinary || !JsonContainerIsObject(ref->val.binary.data))
			{
				pushJsonbValue(&state, WJB_ELEM, ref);
				continue;
			}
			/* the post without its key */
			it = JsonbIteratorInit(ref->val.binary.data);
			while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
			{
				if (token == WJB_KEY && v.val.string.len == 3 && memcmp(v.val.string.val, "key", 3) == 0)
				{
					(void) JsonbIteratorNext(&it, &v, true);
					continue;
				}
				pushJsonbValue(&state, token, token == WJB_BEGIN_OBJECT || token == WJB_END_OBJECT ? NULL : &v);
			}
		}
	}
	pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	push_key(&state, "newest");
	push_ref(&state, newest, 0);
	push_key(&state, "central");
	push_ref(&state, central, central_at);
	push_key(&state, "oldest");
	push_ref(&state, oldest, oldest_listed ? month_refs_count(oldest) - 1 : -1);
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	PG_RETURN_JSONB_P(JsonbValueToJsonb(result));
}
