/*-------------------------------------------------------------------------
 *
 * textnorm.c
 *	  Text normalisation shared by tags and title words.
 *
 * Case folding: ASCII text folds by ASCII rules (so results do not depend on
 * a server's locale, which matters when summaries travel between servers);
 * other text folds with lower() of the database's default collation.
 *
 * Folding with str_tolower() costs a conversion to wide characters and back
 * per call.  Title motifs fold many titles in one query, so they can fold
 * through a FoldCache instead: each character's fold is found once (by
 * str_tolower on that character) and reused.  With the libc provider, which
 * folds each character on its own, that gives exactly what folding the whole
 * text gives; with ICU, whose folding depends on the context (a final sigma),
 * there is no FoldCache and titles fold whole.
 *
 * A tag is normalised by trimming white space, folding runs of inner white
 * space to one space, and folding case: " Design  Systems" -> "design systems".
 * A tag that is empty after trimming is no tag.  archive.normalize_tag()
 * exposes the same function to SQL so that SQL compares tags the same way.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/pg_locale.h"

#include "textnorm.h"

/* The fold of one character: up to FOLD_MAX_BYTES bytes (a longer one is not cached). */
#define FOLD_MAX_BYTES 8

/* A character (its bytes, packed big-endian into a uint32) and its fold. */
typedef struct CharFold
{
	uint32		ch;
	char		status;
	uint8		len;
	char		bytes[FOLD_MAX_BYTES];
} CharFold;

#define SH_PREFIX foldtab
#define SH_ELEMENT_TYPE CharFold
#define SH_KEY_TYPE uint32
#define SH_KEY ch
#define SH_HASH_KEY(tb, k) murmurhash32(k)
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* The folds of the characters seen so far (see the file comment). */
struct FoldCache
{
	foldtab_hash *chars;
};

/* White space inside and around tags: ASCII blanks and control characters. */
static inline bool
is_tag_space(unsigned char c)
{
	return c <= ' ' || c == 0x7f;
}

/* Fold the case of len bytes; returns a palloc'd string of *outlen bytes. */
char *
fold_case(const char *str, int len, int *outlen)
{
	char	   *out;
	bool		ascii = true;

	for (int i = 0; i < len; i++)
	{
		if ((unsigned char) str[i] >= 0x80)
		{
			ascii = false;
			break;
		}
	}
	if (!ascii)
	{
		out = str_tolower(str, len, DEFAULT_COLLATION_OID);
		*outlen = strlen(out);
		return out;
	}
	out = palloc(len + 1);
	for (int i = 0; i < len; i++)
		out[i] = (str[i] >= 'A' && str[i] <= 'Z') ? str[i] + ('a' - 'A') : str[i];
	out[len] = '\0';
	*outlen = len;
	return out;
}

/*
 * A cache for fold_case_cached in mcxt, or NULL when the database's default
 * collation folds characters in context (ICU): then fold_case is the way.
 */
FoldCache *
fold_cache_create(MemoryContext mcxt)
{
	pg_locale_t locale = NULL;
	FoldCache  *cache;

	if (!lc_ctype_is_c(DEFAULT_COLLATION_OID))
		locale = pg_newlocale_from_collation(DEFAULT_COLLATION_OID);
	if (locale != NULL && locale->provider == COLLPROVIDER_ICU)
		return NULL;
	cache = MemoryContextAlloc(mcxt, sizeof(FoldCache));
	cache->chars = foldtab_create(mcxt, 256, NULL);
	return cache;
}

/*
 * fold_case, one character at a time through the cache: the same palloc'd
 * string of *outlen bytes.
 */
char *
fold_case_cached(FoldCache *cache, const char *str, int len, int *outlen)
{
	char	   *out = palloc((Size) len * pg_database_encoding_max_length() + 1);
	int			n = 0;
	int			charlen;

	for (int i = 0; i < len; i += charlen)
	{
		uint32		ch = 0;
		CharFold   *fold;
		bool		found;

		charlen = pg_mblen_with_len(str + i, len - i);
		for (int j = 0; j < charlen; j++)
			ch = (ch << 8) | (unsigned char) str[i + j];
		fold = foldtab_lookup(cache->chars, ch);
		if (fold == NULL)
		{
			char	   *folded = str_tolower(str + i, charlen, DEFAULT_COLLATION_OID);
			int			foldlen = strlen(folded);

			if (foldlen > FOLD_MAX_BYTES)
			{
				/* too long to cache: copied as it comes */
				memcpy(out + n, folded, foldlen);
				n += foldlen;
				continue;
			}
			fold = foldtab_insert(cache->chars, ch, &found);
			fold->len = foldlen;
			memcpy(fold->bytes, folded, foldlen);
		}
		memcpy(out + n, fold->bytes, fold->len);
		n += fold->len;
	}
	out[n] = '\0';
	*outlen = n;
	return out;
}

/*
 * Normalise a tag of len bytes: returns its *outlen normalised bytes (not
 * NUL-terminated), or NULL when nothing but white space is left.  A tag that
 * needs nothing done (the common case: trimmed, lower case ASCII) is returned
 * as is, str itself; any other as a new palloc'd string.
 */
const char *
tag_normalize(const char *str, int len, int *outlen)
{
	char	   *squeezed;
	int			n = 0;
	bool		spaced = false;
	bool		plain = true;

	for (int i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) str[i];

		if (is_tag_space(c) && (c != ' ' || i == 0 || i == len - 1 || str[i - 1] == ' '))
			spaced = true;
		else if (c >= 0x80 || (c >= 'A' && c <= 'Z'))
			plain = false;
	}
	if (!spaced && len > 0)
	{
		if (plain)
		{
			*outlen = len;
			return str;
		}
		return fold_case(str, len, outlen);
	}
	squeezed = palloc(len + 1);
	for (int i = 0; i < len; i++)
	{
		if (!is_tag_space((unsigned char) str[i]))
			squeezed[n++] = str[i];
		else if (n > 0 && squeezed[n - 1] != ' ')
			squeezed[n++] = ' ';
	}
	if (n > 0 && squeezed[n - 1] == ' ')
		n--;
	if (n == 0)
	{
		pfree(squeezed);
		return NULL;
	}
	return fold_case(squeezed, n, outlen);
}

/* archive.normalize_tag(text): the tag as every comparison sees it, or NULL. */
PG_FUNCTION_INFO_V1(archive_normalize_tag);
Datum
archive_normalize_tag(PG_FUNCTION_ARGS)
{
	text	   *tag = PG_GETARG_TEXT_PP(0);
	const char *norm;
	int			len;

	norm = tag_normalize(VARDATA_ANY(tag), VARSIZE_ANY_EXHDR(tag), &len);
	if (norm == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(norm, len));
}

/* One normalised element of an array, with its position, for deduplication. */
typedef struct PositionedTag
{
	const char *str;
	int			len;
	int			position;
} PositionedTag;

/* Order by tag bytes, then position, so the first of equal tags comes first. */
static int
positioned_tag_compare(const void *a, const void *b)
{
	const PositionedTag *x = a;
	const PositionedTag *y = b;
	int			cmp = memcmp(x->str, y->str, Min(x->len, y->len));

	if (cmp != 0)
		return cmp;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->position - y->position;
}

/* Order by position. */
static int
position_compare(const void *a, const void *b)
{
	return ((const PositionedTag *) a)->position - ((const PositionedTag *) b)->position;
}

/*
 * Whether an array's tags are what normalize_tags would make of them: a plain
 * one-dimensional array from 1 (or an empty one) of a few distinct tags that
 * need nothing done.  Most stored tag arrays are; they are returned as they
 * are, without building the same array again (normalize_tags over a million
 * posts' tags, in alternated runs: 830-865 ms, then 460-466 ms).
 */
static bool
tags_already_normal(ArrayType *array, Datum *datums, int n)
{
	if (n > 16 || ARR_HASNULL(array) || (ARR_NDIM(array) == 1 && ARR_LBOUND(array)[0] != 1))
		return false;
	for (int i = 0; i < n; i++)
	{
		text	   *t = DatumGetTextPP(datums[i]);
		int			len;

		if (tag_normalize(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &len) != VARDATA_ANY(t))
			return false;
		for (int j = 0; j < i; j++)
		{
			text	   *other = DatumGetTextPP(datums[j]);

			if ((int) VARSIZE_ANY_EXHDR(other) == len && memcmp(VARDATA_ANY(other), VARDATA_ANY(t), len) == 0)
				return false;
		}
	}
	return true;
}

/*
 * archive.normalize_tags(text[]): the distinct normalised tags of an array in
 * order of first appearance, NULL and blank elements left out.
 */
PG_FUNCTION_INFO_V1(archive_normalize_tags);
Datum
archive_normalize_tags(PG_FUNCTION_ARGS)
{
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(0);
	Datum	   *datums;
	bool	   *nulls;
	int			n;
	PositionedTag *tags;
	int			kept = 0;
	int			unique = 0;
	Datum	   *out;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("tags must be a one-dimensional array")));
	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &datums, &nulls, &n);
	if (tags_already_normal(array, datums, n))
		PG_RETURN_ARRAYTYPE_P(array);
	tags = palloc(sizeof(PositionedTag) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		text	   *t;

		if (nulls[i])
			continue;
		t = DatumGetTextPP(datums[i]);
		tags[kept].str = tag_normalize(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &tags[kept].len);
		tags[kept].position = i;
		if (tags[kept].str != NULL)
			kept++;
	}
	qsort(tags, kept, sizeof(PositionedTag), positioned_tag_compare);
	for (int i = 0; i < kept; i++)
	{
		if (unique > 0 && tags[unique - 1].len == tags[i].len &&
			memcmp(tags[unique - 1].str, tags[i].str, tags[i].len) == 0)
			continue;
		tags[unique++] = tags[i];
	}
	qsort(tags, unique, sizeof(PositionedTag), position_compare);
	out = palloc(sizeof(Datum) * Max(unique, 1));
	for (int i = 0; i < unique; i++)
		out[i] = PointerGetDatum(cstring_to_text_with_len(tags[i].str, tags[i].len));
	PG_RETURN_ARRAYTYPE_P(construct_array(out, unique, TEXTOID, -1, false, TYPALIGN_INT));
}
