/*-------------------------------------------------------------------------
 *
 * summary.c
 *	  The SQL type archive.termcounts (a mergeable tag or motif summary) and
 *	  the aggregate machinery shared by every term aggregate: state, combine,
 *	  serialize/deserialize, finals, the union aggregate and the ranking.
 *
 * One summary, three forms:
 *	- inside a query, the transition state is an internal TermAggState in
 *	  the aggregate memory context (fast: no flattening per row);
 *	- stored (tables, partitions) and between the processes of one server
 *	  (parallel workers) it is the flat form of termcount.c, in native byte
 *	  order, as archive.termcounts (varlena) or as the serialized internal
 *	  state (int32 limit, then the flat form);
 *	- in binary send and receive (COPY ... FORMAT binary, clients, other
 *	  servers) it is the wire form of termcount.c, in network byte order.
 *
 * Ranking.  Tags rank by count, then by the tag's bytes.  Motif entries are
 * (stem, surface word) pairs; they rank by the stem's total count, shown as
 * its most frequent surface word (ties: the word first in byte order), then
 * by that word's bytes.  share = count / rows of the summary.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/float.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

#include "archive.h"
#include "argcache.h"
#include "jsonform.h"
#include "summary.h"
#include "textnorm.h"

/* Name of the type in messages. */
#define TERMCOUNTS_TYPE "archive.termcounts"
/* Bytes before the flat form in the serialized internal state: varlena header, limit. */
#define TERMAGG_SERIAL_PREFIX (VARHDRSZ + sizeof(int32))

/* One ranked term on its way into an archive.ranked_term value. */
typedef struct RankedTerm
{
	const char *term;			/* shown word or tag */
	uint32		termlen;
	const char *stem;			/* motifs: the stem; tags: the tag */
	uint32		stemlen;
	int64		count;
} RankedTerm;

/* The stem of a motif summary's key (not NUL-terminated), to group by. */
typedef struct StemKey
{
	const char *str;
	uint32		len;
} StemKey;

/* A stem's group: the index of its RankedTerm. */
typedef struct StemGroup
{
	StemKey		stem;
	uint32		hash;
	char		status;
	int			ranked;
} StemGroup;

#define SH_PREFIX stemtab
#define SH_ELEMENT_TYPE StemGroup
#define SH_KEY_TYPE StemKey
#define SH_KEY stem
#define SH_HASH_KEY(tb, k) hash_bytes((const unsigned char *) (k).str, (int) (k).len)
#define SH_EQUAL(tb, a, b) ((a).len == (b).len && memcmp((a).str, (b).str, (a).len) == 0)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* Per-call cache of the archive.ranked_term row type. */
typedef struct RankedTermType
{
	Oid			elemtype;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	TupleDesc	tupdesc;
} RankedTermType;

/* Read a summary argument into a TermCounts in the current context. */
static TermCounts *
termcounts_arg(FunctionCallInfo fcinfo, int argno)
{
	bytea	   *flat = PG_GETARG_BYTEA_PP(argno);

	return termcounts_unflatten(CurrentMemoryContext, VARDATA_ANY(flat),
								VARSIZE_ANY_EXHDR(flat));
}

/* Read a summary argument in place (see termcounts_view). */
static void
termcounts_view_arg(FunctionCallInfo fcinfo, int argno, TermCountsView *view)
{
	bytea	   *flat = PG_GETARG_BYTEA_PP(argno);

	termcounts_view(VARDATA_ANY(flat), VARSIZE_ANY_EXHDR(flat), view);
}

/* A TermCounts as an archive.termcounts value. */
static Datum
termcounts_datum(const TermCounts *tc)
{
	Size		len;
	char	   *flat = termcounts_flatten(tc, VARHDRSZ, &len);

	SET_VARSIZE(flat, VARHDRSZ + len);
	return PointerGetDatum(flat);
}

/* The memory context of the calling aggregate, or an error outside one. */
static MemoryContext
aggregate_context(FunctionCallInfo fcinfo)
{
	MemoryContext aggcontext;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "archive aggregate support function called in non-aggregate context");
	return aggcontext;
}

/* The transition state in argument 0, created in the aggregate context when NULL. */
TermAggState *
termagg_state(FunctionCallInfo fcinfo, TermKind kind)
{
	MemoryContext aggcontext = aggregate_context(fcinfo);
	TermAggState *state;

	if (!PG_ARGISNULL(0))
		return (TermAggState *) PG_GETARG_POINTER(0);
	state = MemoryContextAllocZero(aggcontext, sizeof(TermAggState));
	state->counts = termcounts_create(aggcontext, kind, archive_summary_capacity);
	return state;
}

/* Check k of a ranking aggregate (argument argno) and keep it in the state. */
void
termagg_set_limit(TermAggState *state, FunctionCallInfo fcinfo, int argno)
{
	int32		k;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("k must not be null")));
	k = PG_GETARG_INT32(argno);
	if (k <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be positive, not %d", k)));
	if (state->limit != 0 && state->limit != k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be the same for every row of a group (%d, then %d)",
						state->limit, k)));
	state->limit = k;
}

/* Order of ranked terms: count descending, then the shown term's bytes. */
static int
ranked_compare(const void *a, const void *b)
{
	const RankedTerm *x = a;
	const RankedTerm *y = b;
	TermCount	tx = {x->term, x->termlen, x->count};
	TermCount	ty = {y->term, y->termlen, y->count};

	return termcount_compare(&tx, &ty);
}

/* Strings to leave out of a ranking, normalised as the summary's terms are. */
typedef struct Exclusions
{
	const char **strs;
	int		   *lens;
	int			n;
} Exclusions;

/* Whether len bytes at str are one of the excluded strings. */
static bool
is_excluded(const Exclusions *ex, const char *str, int len)
{
	for (int i = 0; i < ex->n; i++)
	{
		if (ex->lens[i] == len && memcmp(ex->strs[i], str, len) == 0)
			return true;
	}
	return false;
}

/*
 * Sort the first k of n elements (in the order of cmp, a total order) to the
 * front of base; returns how many that is, at most k.  For a k well below n
 * (the top 5 of thousands of terms) a bounded heap of the k first seen so far
 * finds them in one pass, where sorting all n would cost n log n.
 */
static int
sort_first(void *base, int n, int k, size_t size,
		   int (*cmp) (const void *, const void *))
{
	char	   *elems = base;
	int		   *heap;			/* max-heap by cmp: heap[0] is the last kept */
	int			nheap = 0;
	char	   *kept;

	if (k >= n / 8)
	{
		qsort(base, n, size, cmp);
		return Min(n, k);
	}
	heap = palloc(sizeof(int) * k);
	for (int i = 0; i < n; i++)
	{
		int			at;

		if (nheap < k)
		{
			/* sift up */
			at = nheap++;
			while (at > 0 && cmp(elems + (Size) i * size, elems + (Size) heap[(at - 1) / 2] * size) > 0)
			{
				heap[at] = heap[(at - 1) / 2];
				at = (at - 1) / 2;
			}
			heap[at] = i;
			continue;
		}
		if (cmp(elems + (Size) i * size, elems + (Size) heap[0] * size) >= 0)
			continue;
		/* replace the last kept, sift down */
		at = 0;
		for (;;)
		{
			int			child = 2 * at + 1;

			if (child >= nheap)
				break;
			if (child + 1 < nheap &&
				cmp(elems + (Size) heap[child + 1] * size, elems + (Size) heap[child] * size) > 0)
				child++;
			if (cmp(elems + (Size) heap[child] * size, elems + (Size) i * size) <= 0)
				break;
			heap[at] = heap[child];
			at = child;
		}
		heap[at] = i;
	}
	kept = palloc(size * Max(nheap, 1));
	for (int i = 0; i < nheap; i++)
		memcpy(kept + (Size) i * size, elems + (Size) heap[i] * size, size);
	qsort(kept, nheap, size, cmp);
	memcpy(base, kept, size * nheap);
	pfree(kept);
	pfree(heap);
	return nheap;
}

/*
 * The terms of a summary as they rank, in no particular order, without the
 * excluded ones: tags as they are, motifs grouped by stem (a stem is left
 * out when it or any of its words is excluded).  When index is not NULL it
 * gets a table from each group's stem to its place in the result.  The
 * strings point into the summary (not NUL-terminated).
 */
static RankedTerm *
group_terms(const TermCountsView *view, const Exclusions *ex, int *ngroups,
			stemtab_hash **index)
{
	int			nterms = view->nterms;
	const TermCount *terms = view->terms;
	RankedTerm *ranked = palloc(sizeof(RankedTerm) * Max(nterms, 1));
	stemtab_hash *groups = NULL;
	int			n = 0;
	int			kept = 0;

	if (view->kind == TERMS_TAGS)
	{
		/* a tag is its own stem and word, and each is kept once */
		for (int i = 0; i < nterms; i++)
		{
			if (!is_excluded(ex, terms[i].key, terms[i].keylen))
				ranked[kept++] = (RankedTerm)
				{
					terms[i].key, terms[i].keylen, terms[i].key, terms[i].keylen, terms[i].count
				};
		}
	}
	else
	{
		bool	   *dropped = palloc0(sizeof(bool) * Max(nterms, 1));
		int		   *shown = palloc(sizeof(int) * Max(nterms, 1));	/* per group: the term whose word it shows */

		/*
		 * Motif keys are "stem NUL word": group by stem (in a hash table),
		 * each group showing its first word in the order of
		 * termcount_compare.
		 */
		groups = stemtab_create(CurrentMemoryContext, Max(nterms, 16), NULL);
		for (int i = 0; i < nterms; i++)
		{
			const char *stem = terms[i].key;
			uint32		stemlen = strlen(stem);
			const char *word = stem + stemlen + 1;
			uint32		wordlen = terms[i].keylen - stemlen - 1;
			StemGroup  *group;
			bool		found;
			int			g;

			group = stemtab_insert(groups, (StemKey) {stem, stemlen}, &found);
			if (!found)
			{
				group->ranked = n;
				ranked[n] = (RankedTerm)
				{
					word, wordlen, stem, stemlen, 0
				};
				shown[n++] = i;
			}
			g = group->ranked;
			ranked[g].count += terms[i].count;
			if (termcount_compare(&terms[i], &terms[shown[g]]) < 0)
			{
				shown[g] = i;
				ranked[g].term = word;
				ranked[g].termlen = wordlen;
			}
			if (is_excluded(ex, word, wordlen) || is_excluded(ex, stem, stemlen))
				dropped[g] = true;
		}
		for (int i = 0; i < n; i++)
		{
			if (!dropped[i])
				ranked[kept++] = ranked[i];
		}
	}

	/* the grouping table already maps each stem to its place unless groups were dropped */
	if (index != NULL && (groups == NULL || kept != n))
	{
		if (groups == NULL)
			groups = stemtab_create(CurrentMemoryContext, Max(kept, 16), NULL);
		else
			stemtab_reset(groups);
		for (int i = 0; i < kept; i++)
		{
			bool		found;

			stemtab_insert(groups, (StemKey) {ranked[i].stem, ranked[i].stemlen}, &found)->ranked = i;
		}
	}
	if (index != NULL)
		*index = groups;
	*ngroups = kept;
	return ranked;
}

/* The k first terms of a summary in ranked order, without the excluded ones (see group_terms). */
static RankedTerm *
rank_terms(const TermCountsView *view, const Exclusions *ex, int k, int *nranked)
{
	int			n;
	RankedTerm *ranked = group_terms(view, ex, &n, NULL);

	*nranked = sort_first(ranked, n, k, sizeof(RankedTerm), ranked_compare);
	return ranked;
}

/* The row type archive.ranked_term behind a function returning ranked_term[]. */
static RankedTermType *
ranked_term_type(FunctionCallInfo fcinfo)
{
	RankedTermType *type = fcinfo->flinfo->fn_extra;

	if (type == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		Oid			rettype = get_func_rettype(fcinfo->flinfo->fn_oid);

		type = palloc(sizeof(RankedTermType));
		type->elemtype = get_element_type(rettype);
		if (type->elemtype == InvalidOid)
			elog(ERROR, "function returning archive.ranked_term[] declared with another type");
		get_typlenbyvalalign(type->elemtype, &type->typlen, &type->typbyval, &type->typalign);
		type->tupdesc = BlessTupleDesc(lookup_rowtype_tupdesc_copy(type->elemtype, -1));
		if (type->tupdesc->natts != 3)
			elog(ERROR, "archive.ranked_term must have three columns");
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = type;
	}
	return type;
}

/*
 * The strings of exclude (a text array, or NULL for none) as a summary of
 * tc's kind compares them: tags normalised, motif words case-folded.
 */
static Exclusions
exclusions_for(TermKind kind, ArrayType *exclude)
{
	Exclusions	ex = {NULL, NULL, 0};
	Datum	   *datums;
	bool	   *nulls;
	int			n;

	if (exclude == NULL)
		return ex;
	deconstruct_array(exclude, TEXTOID, -1, false, TYPALIGN_INT, &datums, &nulls, &n);
	ex.strs = palloc(sizeof(char *) * Max(n, 1));
	ex.lens = palloc(sizeof(int) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		text	   *t;

		if (nulls[i])
			continue;
		t = DatumGetTextPP(datums[i]);
		if (kind == TERMS_TAGS)
			ex.strs[ex.n] = tag_normalize(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &ex.lens[ex.n]);
		else
			ex.strs[ex.n] = fold_case(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &ex.lens[ex.n]);
		if (ex.strs[ex.n] != NULL)
			ex.n++;
	}
	return ex;
}

/*
 * The k strongest terms of a summary as archive.ranked_term[] (term, count,
 * share), leaving out the excluded ones (tags compared normalised, motifs by
 * shown word or stem after case folding).
 */
static Datum
ranked_terms_array(FunctionCallInfo fcinfo, const TermCountsView *view, int32 k,
				   ArrayType *exclude)
{
	RankedTermType *type = ranked_term_type(fcinfo);
	Exclusions	ex = exclusions_for(view->kind, exclude);
	int			nranked;
	RankedTerm *ranked;
	Datum	   *elems;
	int			nelems;
	int64		rows = view->rows;

	ranked = rank_terms(view, &ex, k, &nranked);
	nelems = nranked;
	elems = palloc(sizeof(Datum) * Max(nelems, 1));
	for (int i = 0; i < nelems; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = PointerGetDatum(cstring_to_text_with_len(ranked[i].term, ranked[i].termlen));
		values[1] = Int64GetDatum(ranked[i].count);
		values[2] = Float8GetDatum(rows > 0 ? (double) ranked[i].count / (double) rows : 0.0);
		elems[i] = HeapTupleGetDatum(heap_form_tuple(type->tupdesc, values, nulls));
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, nelems, type->elemtype,
										  type->typlen, type->typbyval, type->typalign));
}

/* ---------- the type archive.termcounts ---------- */

/* Append a JSON string of len bytes (which may not be NUL-terminated). */
static void
append_json_string(StringInfo buf, const char *str, int len)
{
	char	   *copy = pnstrdup(str, len);

	escape_json(buf, copy);
	pfree(copy);
}

/*
 * Text form, JSON: {"kind": "tags", "capacity": 4096, "rows": 3, "error": 0,
 * "terms": [["go", 2], ...]}; motif terms are [stem, word, count].
 */
PG_FUNCTION_INFO_V1(archive_termcounts_out);
Datum
archive_termcounts_out(PG_FUNCTION_ARGS)
{
	TermCountsView view;
	const TermCount *terms;
	StringInfoData buf;

	termcounts_view_arg(fcinfo, 0, &view);
	terms = view.terms;
	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"kind\": \"%s\", \"capacity\": %d, \"rows\": " INT64_FORMAT
					 ", \"error\": " INT64_FORMAT ", \"terms\": [",
					 view.kind == TERMS_TAGS ? "tags" : "motifs",
					 view.capacity, view.rows, view.error);
	for (int i = 0; i < view.nterms; i++)
	{
		appendStringInfoString(&buf, i > 0 ? ", [" : "[");
		if (view.kind == TERMS_TAGS)
			append_json_string(&buf, terms[i].key, terms[i].keylen);
		else
		{
			int			stemlen = strlen(terms[i].key);

			append_json_string(&buf, terms[i].key, stemlen);
			appendStringInfoString(&buf, ", ");
			append_json_string(&buf, terms[i].key + stemlen + 1,
							   terms[i].keylen - stemlen - 1);
		}
		appendStringInfo(&buf, ", " INT64_FORMAT "]", terms[i].count);
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_CSTRING(buf.data);
}

/* Parse the text form; every check of the flat form applies too. */
PG_FUNCTION_INFO_V1(archive_termcounts_in);
Datum
archive_termcounts_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	Jsonb	   *jb = jsonform_parse(str, TERMCOUNTS_TYPE);
	const char *kindstr;
	int			kindlen;
	TermKind	kind;
	int64		capacity;
	JsonbContainer *list;
	int			nterms;
	TermCount  *terms;

	jsonform_string(jsonform_field(jb, "kind"), TERMCOUNTS_TYPE, "kind", &kindstr, &kindlen);
	if (kindlen == 4 && memcmp(kindstr, "tags", 4) == 0)
		kind = TERMS_TAGS;
	else if (kindlen == 6 && memcmp(kindstr, "motifs", 6) == 0)
		kind = TERMS_MOTIFS;
	else
		jsonform_error(TERMCOUNTS_TYPE, "kind must be \"tags\" or \"motifs\"");
	capacity = jsonform_integer(jsonform_field(jb, "capacity"), TERMCOUNTS_TYPE, "capacity");
	if (capacity < TERMCOUNT_MIN_CAPACITY || capacity > TERMCOUNT_MAX_CAPACITY)
		jsonform_error(TERMCOUNTS_TYPE, "capacity out of range");
	list = jsonform_array(jsonform_field(jb, "terms"), TERMCOUNTS_TYPE, "terms");
	nterms = JsonContainerSize(list);
	if (nterms > capacity * 2)
		jsonform_error(TERMCOUNTS_TYPE, "more terms than the capacity allows");
	terms = palloc(sizeof(TermCount) * Max(nterms, 1));
	for (int i = 0; i < nterms; i++)
	{
		JsonbContainer *pair = jsonform_array(getIthJsonbValueFromContainer(list, i), TERMCOUNTS_TYPE, "a term");
		int			nparts = kind == TERMS_TAGS ? 2 : 3;
		const char *key;
		int			keylen;

		if ((int) JsonContainerSize(pair) != nparts)
			jsonform_error(TERMCOUNTS_TYPE, kind == TERMS_TAGS ? "a tag term is [tag, count]"
							 : "a motif term is [stem, word, count]");
		jsonform_string(getIthJsonbValueFromContainer(pair, 0), TERMCOUNTS_TYPE, "a term", &key, &keylen);
		if (kind == TERMS_TAGS)
		{
			/* the check of the flat form, which binary input gets too */
			if (!termcounts_tag_is_normal(key, keylen))
				jsonform_error(TERMCOUNTS_TYPE, "a tag must be given normalised (see archive.normalize_tag)");
		}
		else
		{
			const char *word;
			int			wordlen;
			char	   *both;

			jsonform_string(getIthJsonbValueFromContainer(pair, 1), TERMCOUNTS_TYPE, "a word", &word, &wordlen);
			both = palloc(keylen + 1 + wordlen);
			memcpy(both, key, keylen);
			both[keylen] = '\0';
			memcpy(both + keylen + 1, word, wordlen);
			key = both;
			keylen = keylen + 1 + wordlen;
		}
		terms[i].key = key;
		terms[i].keylen = keylen;
		terms[i].count = jsonform_integer(getIthJsonbValueFromContainer(pair, nparts - 1), TERMCOUNTS_TYPE, "a count");
	}
	PG_RETURN_DATUM(termcounts_datum(termcounts_from_terms(CurrentMemoryContext, kind,
														   (int32) capacity,
														   jsonform_integer(jsonform_field(jb, "rows"), TERMCOUNTS_TYPE, "rows"),
														   jsonform_integer(jsonform_field(jb, "error"), TERMCOUNTS_TYPE, "error"),
														   terms, nterms)));
}

/* Binary receive: the portable wire form (see termcounts_recv), checked in full. */
PG_FUNCTION_INFO_V1(archive_termcounts_recv);
Datum
archive_termcounts_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);

	PG_RETURN_DATUM(termcounts_datum(termcounts_recv(CurrentMemoryContext, buf)));
}

/*
 * Binary send: the portable wire form, the same bytes from every server
 * (network byte order; termcounts_send in termcount.c lays it out field by
 * field).
 */
PG_FUNCTION_INFO_V1(archive_termcounts_send);
Datum
archive_termcounts_send(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	termcounts_send(termcounts_arg(fcinfo, 0), &buf);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* archive.rows(termcounts): input rows the summary has seen. */
PG_FUNCTION_INFO_V1(archive_termcounts_rows);
Datum
archive_termcounts_rows(PG_FUNCTION_ARGS)
{
	TermCountsView view;

	termcounts_view_arg(fcinfo, 0, &view);
	PG_RETURN_INT64(view.rows);
}

/* archive.max_error(termcounts): largest possible undercount of any count. */
PG_FUNCTION_INFO_V1(archive_termcounts_error);
Datum
archive_termcounts_error(PG_FUNCTION_ARGS)
{
	TermCountsView view;

	termcounts_view_arg(fcinfo, 0, &view);
	PG_RETURN_INT64(view.error);
}

/*
 * archive.termcounts_subtract(summary, removed): summary without the rows
 * removed summarises, or NULL when that is not known exactly (see
 * termcounts_subtract_flat).
 */
PG_FUNCTION_INFO_V1(archive_termcounts_subtract);
Datum
archive_termcounts_subtract(PG_FUNCTION_ARGS)
{
	TermCountsView from;
	TermCountsView removed;
	Size		len;
	char	   *flat;

	termcounts_view_arg(fcinfo, 0, &from);
	termcounts_view_arg(fcinfo, 1, &removed);
	if (from.kind != removed.kind)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot subtract a tag summary from a motif summary, or the reverse")));
	flat = termcounts_subtract_flat(&from, &removed, VARHDRSZ, &len);
	if (flat == NULL)
		PG_RETURN_NULL();
	SET_VARSIZE(flat, VARHDRSZ + len);
	PG_RETURN_POINTER(flat);
}

/*
 * archive.termcounts_union(a, b): the summary of the rows of both, what
 * archive.termcounts_union_agg gives over a then b (a NULL one left out;
 * NULL when both are), without an aggregate's state and memory per call.
 */
PG_FUNCTION_INFO_V1(archive_termcounts_union);
Datum
archive_termcounts_union(PG_FUNCTION_ARGS)
{
	TermCountsView views[2];
	int			nviews = 0;
	TermCounts *tc;
	Size		len;
	char	   *flat;

	for (int argno = 0; argno < 2; argno++)
	{
		if (!PG_ARGISNULL(argno))
			termcounts_view_arg(fcinfo, argno, &views[nviews++]);
	}
	if (nviews == 0)
		PG_RETURN_NULL();
	if (nviews == 2 && views[0].kind != views[1].kind)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot union a tag summary with a motif summary")));
	if (nviews == 1)
		views[1] = (TermCountsView) {views[0].kind, TERMCOUNT_MIN_CAPACITY, 0, 0, 0, NULL, NULL};
	/* without a prune, in one pass; a union that prunes merges into a table */
	flat = termcounts_union_flat(&views[0], &views[1], archive_summary_capacity, VARHDRSZ, &len);
	if (flat != NULL)
	{
		SET_VARSIZE(flat, VARHDRSZ + len);
		PG_RETURN_POINTER(flat);
	}
	tc = termcounts_create(CurrentMemoryContext, views[0].kind, archive_summary_capacity);
	for (int i = 0; i < nviews; i++)
		termcounts_merge_view(tc, &views[i]);
	PG_RETURN_DATUM(termcounts_datum(tc));
}

/* archive.top_terms(termcounts, k, exclude): the k strongest terms, ranked. */
PG_FUNCTION_INFO_V1(archive_top_terms);
Datum
archive_top_terms(PG_FUNCTION_ARGS)
{
	TermCountsView view;
	TermAggState state = {NULL, 0};

	termcounts_view_arg(fcinfo, 0, &view);
	termagg_set_limit(&state, fcinfo, 1);
	return ranked_terms_array(fcinfo, &view, state.limit, PG_GETARG_ARRAYTYPE_P(2));
}

/* archive.terms(termcounts): every kept term with its stem and count, ranked order. */
PG_FUNCTION_INFO_V1(archive_terms);
Datum
archive_terms(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TermCountsView view;
	const TermCount *terms;

	InitMaterializedSRF(fcinfo, 0);
	termcounts_view_arg(fcinfo, 0, &view);
	terms = view.terms;
	for (int i = 0; i < view.nterms; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		int			stemlen = view.kind == TERMS_TAGS ? terms[i].keylen : strlen(terms[i].key);
		const char *word = view.kind == TERMS_TAGS ? terms[i].key : terms[i].key + stemlen + 1;
		int			wordlen = view.kind == TERMS_TAGS ? terms[i].keylen : terms[i].keylen - stemlen - 1;

		values[0] = PointerGetDatum(cstring_to_text_with_len(word, wordlen));
		values[1] = PointerGetDatum(cstring_to_text_with_len(terms[i].key, stemlen));
		values[2] = Int64GetDatum(terms[i].count);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* A candidate of archive.half_motifs: a stem of the half, with its lead over the other half. */
typedef struct HalfMotif
{
	RankedTerm *term;			/* shown word and count in the half */
	int64		lead;			/* count in the half - count in the other half */
	int64		whole;			/* count in the whole topic */
} HalfMotif;

/* Order of half motifs: lead descending, then whole count descending, then the word's bytes. */
static int
half_motif_compare(const void *a, const void *b)
{
	const HalfMotif *x = a;
	const HalfMotif *y = b;

	if (x->lead != y->lead)
		return x->lead > y->lead ? -1 : 1;
	if (x->whole != y->whole)
		return x->whole > y->whole ? -1 : 1;
	return termkey_compare(x->term->term, x->term->termlen, y->term->term, y->term->termlen);
}

/* A summary's terms grouped by stem (group_terms), with a table from stem to group. */
typedef struct GroupedTerms
{
	RankedTerm *groups;
	int			ngroups;
	stemtab_hash *index;
	int64		rows;
} GroupedTerms;

/* Group a summary's terms (none excluded), with the stem table. */
static void
group_view(const TermCountsView *view, GroupedTerms *grouped)
{
	Exclusions	none = {NULL, NULL, 0};

	grouped->groups = group_terms(view, &none, &grouped->ngroups, &grouped->index);
	grouped->rows = view->rows;
}

/* The count of a stem in grouped terms (NULL: none); 0 when they have none. */
static int64
stem_count(const GroupedTerms *grouped, const RankedTerm *term)
{
	StemGroup  *group;

	if (grouped == NULL || grouped->index == NULL)
		return 0;
	group = stemtab_lookup(grouped->index, (StemKey) {term->stem, term->stemlen});
	return group != NULL ? grouped->groups[group->ranked].count : 0;
}

/* Append a JSON object {term, count, share} of a ranked term, share = count / rows. */
static void
append_ranked_json(StringInfo buf, const RankedTerm *term, int64 rows)
{
	appendStringInfoString(buf, "{\"term\": ");
	append_json_string(buf, term->term, term->termlen);
	appendStringInfo(buf, ", \"count\": " INT64_FORMAT ", \"share\": %s}", term->count,
					 float8out_internal(rows > 0 ? (double) term->count / (double) rows : 0.0));
}

/*
 * Append the half motifs of half against other and whole (either NULL for
 * empty) as a JSON array (see archive.half_motifs); false, with nothing
 * appended, when no stem qualifies.
 */
static bool
append_half_motifs(StringInfo buf, const GroupedTerms *half, const GroupedTerms *other,
				   const GroupedTerms *whole, int k)
{
	HalfMotif  *candidates = palloc(sizeof(HalfMotif) * Max(half->ngroups, 1));
	int			ncandidates = 0;
	int			n;

	for (int i = 0; i < half->ngroups; i++)
	{
		RankedTerm *term = &half->groups[i];
		int64		in_other = stem_count(other, term);

		if (term->count >= 2 && term->count > in_other)
			candidates[ncandidates++] = (HalfMotif)
			{
				term, term->count - in_other, stem_count(whole, term)
			};
	}
	if (ncandidates == 0)
		return false;
	n = sort_first(candidates, ncandidates, k, sizeof(HalfMotif), half_motif_compare);
	appendStringInfoChar(buf, '[');
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoString(buf, ", ");
		append_ranked_json(buf, candidates[i].term, half->rows);
	}
	appendStringInfoChar(buf, ']');
	pfree(candidates);
	return true;
}

/*
 * archive.half_motifs(half, other_half, whole, k): the k motifs that set one
 * half of a topic's posts apart from the other, as a jsonb array of {term,
 * count, share}: stems counted in at least two titles of the half and in
 * more titles of it than of the other half, ranked by that difference, then
 * by titles in the whole topic, then by the shown word's bytes; each stem
 * shown as archive.top_terms shows it, share = count / rows of the half.
 * NULL when the half is NULL or no stem qualifies; a NULL other half or
 * whole counts as empty.
 */
PG_FUNCTION_INFO_V1(archive_half_motifs);
Datum
archive_half_motifs(PG_FUNCTION_ARGS)
{
	TermCountsView views[3];
	GroupedTerms grouped[3];
	TermAggState state = {NULL, 0};
	StringInfoData buf;

	termagg_set_limit(&state, fcinfo, 3);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	for (int argno = 0; argno < 3; argno++)
	{
		if (PG_ARGISNULL(argno))
			continue;
		termcounts_view_arg(fcinfo, argno, &views[argno]);
		group_view(&views[argno], &grouped[argno]);
	}
	initStringInfo(&buf);
	if (!append_half_motifs(&buf, &grouped[0], PG_ARGISNULL(1) ? NULL : &grouped[1],
							PG_ARGISNULL(2) ? NULL : &grouped[2], state.limit))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/* One month of archive.motif_figures_agg: its date, posts and title summary. */
typedef struct MotifMonth
{
	DateADT		month;
	int64		posts;
	bytea	   *titles;			/* flat, copied into the aggregate's memory */
} MotifMonth;

/* State of archive.motif_figures_agg: a topic's months, as they come. */
typedef struct MotifFigures
{
	MotifMonth *months;
	int			nmonths;
	int			capacity;
	TermAggState k;				/* only the limits are used */
	TermAggState half_k;
} MotifFigures;

/* Months in calendar order (-infinity, the undated posts, first). */
static int
motif_month_compare(const void *a, const void *b)
{
	const MotifMonth *x = a;
	const MotifMonth *y = b;

	return (x->month > y->month) - (x->month < y->month);
}

/*
 * archive.motif_figures_agg(month, posts, titles, k, half_k) transition: keeps
 * the month's date, posts and title summary; a row with any of them NULL is
 * left out.  k and half_k are checked as the ranking functions check k.
 */
PG_FUNCTION_INFO_V1(archive_motif_figures_trans);
Datum
archive_motif_figures_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	MemoryContext old;
	MotifFigures *figures;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "archive_motif_figures_trans called in non-aggregate context");
	old = MemoryContextSwitchTo(aggcontext);
	if (PG_ARGISNULL(0))
	{
		figures = palloc0(sizeof(MotifFigures));
		figures->capacity = 64;
		figures->months = palloc(sizeof(MotifMonth) * figures->capacity);
	}
	else
		figures = (MotifFigures *) PG_GETARG_POINTER(0);
	termagg_set_limit(&figures->k, fcinfo, 4);
	termagg_set_limit(&figures->half_k, fcinfo, 5);
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2) && !PG_ARGISNULL(3))
	{
		figures->months = room_for_one_more(figures->months, figures->nmonths, &figures->capacity,
											sizeof(MotifMonth), "too many months in one topic");
		figures->months[figures->nmonths++] = (MotifMonth)
		{
			PG_GETARG_DATEADT(1), PG_GETARG_INT64(2), PG_GETARG_BYTEA_P_COPY(3)
		};
	}
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(figures);
}

/*
 * Merge the halves, in order, into the whole topic's summary as
 * termcounts_union_agg merges their stored forms: each half's terms in
 * canonical order.  Where a merge cannot prune (the whole and the half's
 * terms fit the capacity together), the order cannot matter, and the tables
 * are merged as they are.
 */
static TermCounts *
merge_halves(TermCounts **halves, int nhalves)
{
	TermCounts *whole = termcounts_create(CurrentMemoryContext, TERMS_MOTIFS, archive_summary_capacity);

	for (int h = 0; h < nhalves; h++)
	{
		int32		capacity;

		if (halves[h] == NULL)
			continue;
		capacity = Max(termcounts_capacity(whole), termcounts_capacity(halves[h]));
		if ((int64) termcounts_nterms(whole) + termcounts_nterms(halves[h]) <= (int64) capacity * 2)
			termcounts_merge(whole, halves[h]);
		else
		{
			Size		len;
			char	   *flat = termcounts_flatten(halves[h], 0, &len);
			TermCountsView view;

			termcounts_view(flat, len, &view);
			termcounts_merge_view(whole, &view);
		}
	}
	return whole;
}

/*
 * archive.motif_figures_agg final: a topic's title motifs from its months, as
 * a jsonb object of three arrays of {term, count, share}:
 *
 *   title_motifs   the k strongest motifs of the whole topic (archive.top_terms)
 *                  that recur in at least two titles;
 *   early_motifs   the half_k motifs of the older half against the newer
 *   recent_motifs  (archive.half_motifs), and the reverse.
 *
 * The older half is the dated months that begin before half the topic's
 * dated posts; undated posts (month -infinity) are in neither half, but in
 * the whole.  Each half is its months' summaries merged in calendar order,
 * the whole the older half, the newer and the undated posts merged in that
 * order: the summaries page_figures used to build with termcounts_union_agg,
 * built here without flattening and reading back each of them.
 */
PG_FUNCTION_INFO_V1(archive_motif_figures_final);
Datum
archive_motif_figures_final(PG_FUNCTION_ARGS)
{
	enum
	{
		EARLY, RECENT, UNDATED, NHALVES
	};
	MotifFigures *figures;
	TermCounts *halves[NHALVES] = {NULL, NULL, NULL};
	TermCounts *whole;
	TermCountsView views[NHALVES + 1];
	GroupedTerms grouped[NHALVES + 1];
	int64		dated = 0;
	int64		before = 0;
	int			nshown;
	StringInfoData buf;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "archive_motif_figures_final called in non-aggregate context");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	figures = (MotifFigures *) PG_GETARG_POINTER(0);
	qsort(figures->months, figures->nmonths, sizeof(MotifMonth), motif_month_compare);
	for (int m = 0; m < figures->nmonths; m++)
	{
		if (figures->months[m].month != DATEVAL_NOBEGIN)
			dated += figures->months[m].posts;
	}
	for (int m = 0; m < figures->nmonths; m++)
	{
		MotifMonth *month = &figures->months[m];
		TermCountsView view;
		int			half;

		termcounts_view(VARDATA(month->titles), VARSIZE(month->titles) - VARHDRSZ, &view);
		if (view.kind != TERMS_MOTIFS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("archive.motif_figures_agg needs motif summaries, not tag summaries")));
		if (month->month == DATEVAL_NOBEGIN)
			half = UNDATED;
		else
		{
			half = before * 2 >= dated ? RECENT : EARLY;
			before += month->posts;
		}
		if (halves[half] == NULL)
			halves[half] = termcounts_create(CurrentMemoryContext, TERMS_MOTIFS, archive_summary_capacity);
		termcounts_merge_view(halves[half], &view);
	}
	whole = merge_halves(halves, NHALVES);
	for (int h = 0; h < NHALVES; h++)
	{
		if (halves[h] != NULL && h != UNDATED)
		{
			termcounts_as_view(halves[h], &views[h]);
			group_view(&views[h], &grouped[h]);
		}
	}
	termcounts_as_view(whole, &views[NHALVES]);
	group_view(&views[NHALVES], &grouped[NHALVES]);

	/* the halves first: ranking the whole's groups below reorders them */
	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"early_motifs\": ");
	if (halves[EARLY] == NULL ||
		!append_half_motifs(&buf, &grouped[EARLY], halves[RECENT] ? &grouped[RECENT] : NULL,
							&grouped[NHALVES], figures->half_k.limit))
		appendStringInfoString(&buf, "[]");
	appendStringInfoString(&buf, ", \"recent_motifs\": ");
	if (halves[RECENT] == NULL ||
		!append_half_motifs(&buf, &grouped[RECENT], halves[EARLY] ? &grouped[EARLY] : NULL,
							&grouped[NHALVES], figures->half_k.limit))
		appendStringInfoString(&buf, "[]");
	appendStringInfoString(&buf, ", \"title_motifs\": [");
	nshown = sort_first(grouped[NHALVES].groups, grouped[NHALVES].ngroups, figures->k.limit,
						sizeof(RankedTerm), ranked_compare);
	for (int i = 0, appended = 0; i < nshown; i++)
	{
		if (grouped[NHALVES].groups[i].count < 2)
			continue;
		if (appended++ > 0)
			appendStringInfoString(&buf, ", ");
		append_ranked_json(&buf, &grouped[NHALVES].groups[i], grouped[NHALVES].rows);
	}
	appendStringInfoChar(&buf, ']');
	appendStringInfoChar(&buf, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/* A tag of archive.adjacent_tags: its count and share in the topic, lift and strength. */
typedef struct AdjacentTag
{
	RankedTerm *term;
	double		share;
	double		lift;
	double		strength;
} AdjacentTag;

/* Order of adjacent tags: strength descending, then count descending, then the tag's bytes. */
static int
adjacent_tag_compare(const void *a, const void *b)
{
	const AdjacentTag *x = a;
	const AdjacentTag *y = b;

	if (x->strength != y->strength)
		return x->strength > y->strength ? -1 : 1;
	if (x->term->count != y->term->count)
		return x->term->count > y->term->count ? -1 : 1;
	return termkey_compare(x->term->term, x->term->termlen, y->term->term, y->term->termlen);
}

/* Refuses a motif summary given to archive.adjacent_tags. */
static void
adjacent_tags_require_tags(const TermCountsView *view)
{
	if (view->kind != TERMS_TAGS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("archive.adjacent_tags needs tag summaries, not motif summaries")));
}

/* ArgCacheBuild of archive.adjacent_tags' whole archive: its tags grouped once per query (argcache.c). */
static void *
whole_tags_build(const char *bytes, Size len)
{
	TermCountsView view;
	GroupedTerms *whole = palloc(sizeof(GroupedTerms));

	termcounts_view(bytes, len, &view);
	adjacent_tags_require_tags(&view);
	group_view(&view, whole);
	return whole;
}

/*
 * archive.adjacent_tags(topic_tags, archive_tags, own_tags, k): the k tags
 * that travel with a topic most strongly, as rows (term, count, share, lift,
 * strength).  share is the tag's count / rows of the topic's summary, lift
 * its share in the topic / its share in the whole archive (archive_tags),
 * strength count * ln(lift); only tags with lift > 1 that the archive's
 * summary keeps count, and the topic's own tags are left out.  Ranked by
 * strength, then count, then the tag's bytes.  No rows when either summary
 * is NULL.
 */
PG_FUNCTION_INFO_V1(archive_adjacent_tags);
Datum
archive_adjacent_tags(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TermCountsView topic;
	bytea	   *whole_flat;
	GroupedTerms *whole;
	Exclusions	ex;
	RankedTerm *tags;
	AdjacentTag *adjacent;
	int			ntags;
	int			nadjacent = 0;
	TermAggState limit = {NULL, 0};
	int64		rows;

	InitMaterializedSRF(fcinfo, 0);
	termagg_set_limit(&limit, fcinfo, 3);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		return (Datum) 0;
	termcounts_view_arg(fcinfo, 0, &topic);
	adjacent_tags_require_tags(&topic);
	whole_flat = PG_GETARG_BYTEA_PP(1);
	whole = argcache_value(fcinfo->flinfo, VARDATA_ANY(whole_flat), VARSIZE_ANY_EXHDR(whole_flat),
						   whole_tags_build);
	ex = exclusions_for(topic.kind, PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2));
	rows = topic.rows;
	tags = group_terms(&topic, &ex, &ntags, NULL);

	/* shares as SQL computes them: count::float8 / rows, the archive's rows at least 1 */
	adjacent = palloc(sizeof(AdjacentTag) * Max(ntags, 1));
	for (int i = 0; i < ntags; i++)
	{
		int64		in_whole = stem_count(whole, &tags[i]);
		double		share = rows > 0 ? (double) tags[i].count / (double) rows : 0.0;
		double		whole_share;

		if (in_whole == 0)
			continue;
		whole_share = (double) in_whole / (double) Max(whole->rows, 1);
		if (!(share > whole_share))
			continue;
		adjacent[nadjacent++] = (AdjacentTag)
		{
			&tags[i], share, share / whole_share, (double) tags[i].count * log(share / whole_share)
		};
	}
	nadjacent = sort_first(adjacent, nadjacent, limit.limit, sizeof(AdjacentTag), adjacent_tag_compare);
	for (int i = 0; i < nadjacent; i++)
	{
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		values[0] = PointerGetDatum(cstring_to_text_with_len(adjacent[i].term->term, adjacent[i].term->termlen));
		values[1] = Int64GetDatum(adjacent[i].term->count);
		values[2] = Float8GetDatum(adjacent[i].share);
		values[3] = Float8GetDatum(adjacent[i].lift);
		values[4] = Float8GetDatum(adjacent[i].strength);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* ---------- aggregate support ---------- */

/* Combine: merge the second state into the first (either may be NULL). */
PG_FUNCTION_INFO_V1(archive_termagg_combine);
Datum
archive_termagg_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo);
	TermAggState *dst = PG_ARGISNULL(0) ? NULL : (TermAggState *) PG_GETARG_POINTER(0);
	TermAggState *src = PG_ARGISNULL(1) ? NULL : (TermAggState *) PG_GETARG_POINTER(1);

	if (src == NULL)
		PG_RETURN_POINTER(dst);
	/* a group's first state, deserialized into this aggregate's memory, becomes its own */
	if (dst == NULL && GetMemoryChunkContext(src) == aggcontext)
		PG_RETURN_POINTER(src);
	if (dst == NULL)
	{
		dst = MemoryContextAllocZero(aggcontext, sizeof(TermAggState));
		dst->counts = termcounts_create(aggcontext, termcounts_kind(src->counts),
										termcounts_capacity(src->counts));
		dst->limit = src->limit;
	}
	if (termcounts_kind(dst->counts) != termcounts_kind(src->counts) ||
		(dst->limit != 0 && src->limit != 0 && dst->limit != src->limit))
		elog(ERROR, "archive: cannot combine states of different aggregates");
	dst->limit = Max(dst->limit, src->limit);
	termcounts_merge(dst->counts, src->counts);
	PG_RETURN_POINTER(dst);
}

/*
 * Serialize: int32 limit, then the flat summary, in native byte order: a
 * serialized state only passes between the processes of one server (parallel
 * workers), never to another server, so it needs no portable form.
 */
PG_FUNCTION_INFO_V1(archive_termagg_serialize);
Datum
archive_termagg_serialize(PG_FUNCTION_ARGS)
{
	TermAggState *state = (TermAggState *) PG_GETARG_POINTER(0);
	Size		len;
	char	   *out;

	aggregate_context(fcinfo);
	out = termcounts_flatten_state(state->counts, TERMAGG_SERIAL_PREFIX, &len);
	memcpy(out + VARHDRSZ, &state->limit, sizeof(int32));
	SET_VARSIZE(out, TERMAGG_SERIAL_PREFIX + len);
	PG_RETURN_BYTEA_P((bytea *) out);
}

/*
 * Deserialize a state written by archive_termagg_serialize on this server
 * (native byte order), checked in full; a malformed one is corrupt (XX001).
 */
PG_FUNCTION_INFO_V1(archive_termagg_deserialize);
Datum
archive_termagg_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo);
	bytea	   *serial = PG_GETARG_BYTEA_PP(0);
	const char *data = VARDATA_ANY(serial);
	Size		len = VARSIZE_ANY_EXHDR(serial);
	TermAggState *state;

	if (len < sizeof(int32))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid archive aggregate state")));
	state = MemoryContextAllocZero(aggcontext, sizeof(TermAggState));
	memcpy(&state->limit, data, sizeof(int32));
	if (state->limit < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid archive aggregate state")));
	state->counts = termcounts_unflatten_state(aggcontext, data + sizeof(int32), len - sizeof(int32));
	PG_RETURN_POINTER(state);
}

/* Final function of the summary aggregates: the state as archive.termcounts. */
PG_FUNCTION_INFO_V1(archive_termagg_summary_final);
Datum
archive_termagg_summary_final(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	aggregate_context(fcinfo);
	PG_RETURN_DATUM(termcounts_datum(((TermAggState *) PG_GETARG_POINTER(0))->counts));
}

/* Final function of the ranking aggregates: the k strongest terms. */
PG_FUNCTION_INFO_V1(archive_termagg_ranked_final);
Datum
archive_termagg_ranked_final(PG_FUNCTION_ARGS)
{
	TermAggState *state;
	TermCountsView view;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	aggregate_context(fcinfo);
	state = (TermAggState *) PG_GETARG_POINTER(0);
	termcounts_as_view(state->counts, &view);
	return ranked_terms_array(fcinfo, &view, state->limit, NULL);
}

/* Transition of archive.termcounts_union_agg: merge one stored summary. */
PG_FUNCTION_INFO_V1(archive_termcounts_union_trans);
Datum
archive_termcounts_union_trans(PG_FUNCTION_ARGS)
{
	TermAggState *state;
	TermCountsView view;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	termcounts_view_arg(fcinfo, 1, &view);
	state = termagg_state(fcinfo, view.kind);
	if (termcounts_kind(state->counts) != view.kind)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot union a tag summary with a motif summary")));
	termcounts_merge_view(state->counts, &view);
	PG_RETURN_POINTER(state);
}
