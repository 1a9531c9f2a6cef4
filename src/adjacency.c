/*-------------------------------------------------------------------------
 *
 * adjacency.c
 *	  Tag adjacency: the transition function of archive.tag_counts_agg and
 *	  archive.tag_adjacency.
 *
 * Each row is one post's tag array.  Tags are normalised (textnorm.c), NULL
 * and blank tags are skipped, duplicates inside one post count once, and
 * tags passed as the group's own (tag_adjacency's third argument) are not
 * counted: a topic's own tag is not its neighbour.  Every row counts towards
 * the summary's rows, tagged or not, so that count / rows is the share of
 * the group's posts that carry a tag, and share / (the same share over the
 * whole archive) is the tag's lift.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/array.h"

#include "archive.h"
#include "summary.h"
#include "textnorm.h"

/* One normalised tag of the row being added. */
typedef struct RowTag
{
	const char *str;
	int			len;
	uint32		hash;			/* termcounts_hash, once the tag is to be counted */
} RowTag;

/* Byte order of normalised tags, to find duplicates in a row. */
static int
rowtag_compare(const void *a, const void *b)
{
	const RowTag *x = a;
	const RowTag *y = b;

	return termkey_compare(x->str, x->len, y->str, y->len);
}

/*
 * Normalise the non-NULL, non-blank elements of a text[]; returns how many.
 * The strings may point into the array (see tag_normalize).
 */
static int
normalized_tags(ArrayType *array, RowTag **tags)
{
	ArrayIterator it;
	Datum		datum;
	bool		isnull;
	int			kept = 0;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("tags must be a one-dimensional array")));
	*tags = palloc(sizeof(RowTag) * Max(ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array)), 1));
	it = text_array_iterator(array);
	while (array_iterate(it, &datum, &isnull))
	{
		text	   *t;

		if (isnull)
			continue;
		t = DatumGetTextPP(datum);
		(*tags)[kept].str = tag_normalize(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &(*tags)[kept].len);
		if ((*tags)[kept].str != NULL && (*tags)[kept].len <= TERMCOUNT_MAX_KEY)
			kept++;
	}
	return kept;
}

/*
 * Transition of archive.tag_counts_agg(tags) and
 * archive.tag_adjacency(tags, k, own_tags): count one post's distinct tags.
 */
PG_FUNCTION_INFO_V1(archive_tags_trans);
Datum
archive_tags_trans(PG_FUNCTION_ARGS)
{
	TermAggState *state = termagg_state(fcinfo, TERMS_TAGS);
	RowTag	   *tags = NULL;
	RowTag	   *own = NULL;
	int			ntags = 0;
	int			nown = 0;
	int			ncounted = 0;

	if (PG_NARGS() > 2)
		termagg_set_limit(state, fcinfo, 2);
	if (PG_NARGS() > 3 && !PG_ARGISNULL(3))
		nown = normalized_tags(PG_GETARG_ARRAYTYPE_P(3), &own);
	termcounts_add_rows(state->counts, 1);
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(state);

	ntags = normalized_tags(PG_GETARG_ARRAYTYPE_P(1), &tags);
	if (ntags > 16)
		qsort(tags, ntags, sizeof(RowTag), rowtag_compare);
	else
	{
		/* a post's handful of tags: an insertion sort, with the compare inlined */
		for (int i = 1; i < ntags; i++)
		{
			RowTag		tag = tags[i];
			int			j = i;

			for (; j > 0 && rowtag_compare(&tags[j - 1], &tag) > 0; j--)
				tags[j] = tags[j - 1];
			tags[j] = tag;
		}
	}
	/* the tags to count, each with its table slot prefetched, then counted */
	for (int i = 0; i < ntags; i++)
	{
		bool		is_own = false;

		if (i > 0 && rowtag_compare(&tags[i - 1], &tags[i]) == 0)
			continue;
		for (int j = 0; j < nown && !is_own; j++)
			is_own = rowtag_compare(&own[j], &tags[i]) == 0;
		if (is_own)
			continue;
		tags[ncounted] = tags[i];
		tags[ncounted].hash = termcounts_hash(tags[i].str, tags[i].len);
		termcounts_prefetch(state->counts, tags[ncounted].hash);
		ncounted++;
	}
	for (int i = 0; i < ncounted; i++)
		termcounts_add_hashed(state->counts, tags[i].str, tags[i].len, tags[i].hash, 1);
	PG_RETURN_POINTER(state);
}
