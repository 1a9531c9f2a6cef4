/*-------------------------------------------------------------------------
 *
 * termcount.c
 *	  The counting core: a bounded, mergeable string -> count summary.
 *
 * Why Misra-Gries.  A topic's tags and title words are counted per group of
 * posts, and groups may hold millions of rows with a large vocabulary.  An
 * exact table would grow with the vocabulary; a summary that must also be
 * merged (parallel workers, partitions, months, shards) needs an error bound
 * that survives merging.  The Misra-Gries "frequent items" summary has both
 * (Agarwal et al., "Mergeable Summaries", PODS 2012):
 *
 *	- Counts are exact until the table holds more than 2 * capacity terms.
 *	- Then it is pruned: let c be the (capacity + 1)-th largest count;
 *	  subtract c from every count, drop the terms left at zero or below, and
 *	  add c to the summary's error.  At most `capacity` terms survive.
 *	- Merging adds counts term by term, adds the errors, then prunes the same
 *	  way if needed.
 *
 * Every kept count is then an underestimate by at most `error`, and a term
 * that is not kept occurred at most `error` times; error never exceeds
 * (sum of all counts) / (capacity + 1).  So a summary with error 0 is exact,
 * and any term whose count is above the error is a real frequent term.
 *
 * Keys are copied into a child memory context that is replaced on each prune,
 * so memory stays proportional to the capacity, not to the input.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "mb/pg_wchar.h"

#include "termcount.h"

/* Version byte of the flat form; bump on any change of layout. */
#define TERMCOUNT_FLAT_VERSION 1
/* Fixed header of the flat form: version, kind, 2 reserved, capacity, rows, error, nterms. */
#define TERMCOUNT_HEADER_SIZE (1 + 1 + 2 + 4 + 8 + 8 + 4)
/* Fixed part of each flat term: count and key length. */
#define TERMCOUNT_TERM_SIZE (8 + 4)

typedef struct TermKey
{
	const char *str;
	uint32		len;
} TermKey;

typedef struct TermEntry
{
	TermKey		key;
	uint32		hash;
	char		status;
	int64		count;
} TermEntry;

#define SH_PREFIX termtab
#define SH_ELEMENT_TYPE TermEntry
#define SH_KEY_TYPE TermKey
#define SH_KEY key
#define SH_HASH_KEY(tb, k) hash_bytes((const unsigned char *) (k).str, (int) (k).len)
#define SH_EQUAL(tb, a, b) ((a).len == (b).len && memcmp((a).str, (b).str, (a).len) == 0)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

struct TermCounts
{
	MemoryContext mcxt;			/* holds this struct and the table */
	MemoryContext keys;			/* holds key bytes; replaced on prune */
	TermKind	kind;
	int32		capacity;
	int64		rows;			/* input rows seen */
	int64		error;			/* largest possible undercount of any term */
	termtab_hash *table;
};

static void termcounts_prune(TermCounts *tc);

/* Allocate an empty summary in mcxt. */
TermCounts *
termcounts_create(MemoryContext mcxt, TermKind kind, int32 capacity)
{
	TermCounts *tc;

	Assert(capacity >= TERMCOUNT_MIN_CAPACITY && capacity <= TERMCOUNT_MAX_CAPACITY);
	tc = MemoryContextAllocZero(mcxt, sizeof(TermCounts));
	tc->mcxt = mcxt;
	tc->keys = AllocSetContextCreate(mcxt, "archive term keys", ALLOCSET_SMALL_SIZES);
	tc->kind = kind;
	tc->capacity = capacity;
	tc->table = termtab_create(mcxt, 16, NULL);
	return tc;
}

/* The summary's kind. */
TermKind
termcounts_kind(const TermCounts *tc)
{
	return tc->kind;
}

/* Number of input rows the summary has seen. */
int64
termcounts_rows(const TermCounts *tc)
{
	return tc->rows;
}

/* Largest possible undercount of any term (0: every count is exact). */
int64
termcounts_error(const TermCounts *tc)
{
	return tc->error;
}

/* The capacity the summary prunes to. */
int32
termcounts_capacity(const TermCounts *tc)
{
	return tc->capacity;
}

/* Record that rows more input rows were seen (whether or not they had terms). */
void
termcounts_add_rows(TermCounts *tc, int64 rows)
{
	tc->rows += rows;
}

/* Add count to a term, copying the key on first sight; prunes when full. */
void
termcounts_add(TermCounts *tc, const char *key, uint32 keylen, int64 count)
{
	TermKey		k = {key, keylen};
	TermEntry  *entry;
	bool		found;

	entry = termtab_insert(tc->table, k, &found);
	if (found)
	{
		entry->count += count;
		return;
	}
	entry->key.str = MemoryContextAlloc(tc->keys, keylen);
	memcpy((char *) entry->key.str, key, keylen);
	entry->count = count;
	if (tc->table->members > (uint32) tc->capacity * 2)
		termcounts_prune(tc);
}

/* Merge src into dst (counts, rows and errors add; prunes as needed). */
void
termcounts_merge(TermCounts *dst, const TermCounts *src)
{
	termtab_iterator it;
	TermEntry  *entry;

	Assert(dst->kind == src->kind);
	dst->rows += src->rows;
	dst->error += src->error;
	dst->capacity = Max(dst->capacity, src->capacity);
	termtab_start_iterate(src->table, &it);
	while ((entry = termtab_iterate(src->table, &it)) != NULL)
		termcounts_add(dst, entry->key.str, entry->key.len, entry->count);
}

/* Order of terms everywhere: higher count first, then key bytes, shorter first. */
int
termcount_compare(const void *a, const void *b)
{
	const TermCount *x = a;
	const TermCount *y = b;
	int			cmp;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	cmp = memcmp(x->key, y->key, Min(x->keylen, y->keylen));
	if (cmp != 0)
		return cmp;
	return (x->keylen > y->keylen) - (x->keylen < y->keylen);
}

/* All terms in canonical order, palloc'd in the current context. */
TermCount *
termcounts_sorted(const TermCounts *tc, int *nterms)
{
	TermCount  *terms;
	termtab_iterator it;
	TermEntry  *entry;
	int			n = 0;

	terms = palloc(sizeof(TermCount) * Max(tc->table->members, 1));
	termtab_start_iterate(tc->table, &it);
	while ((entry = termtab_iterate(tc->table, &it)) != NULL)
	{
		terms[n].key = entry->key.str;
		terms[n].keylen = entry->key.len;
		terms[n].count = entry->count;
		n++;
	}
	qsort(terms, n, sizeof(TermCount), termcount_compare);
	*nterms = n;
	return terms;
}

/* Descending order of counts, for finding the pruning threshold. */
static int
count_desc(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x < y) - (x > y);
}

/*
 * Misra-Gries prune: subtract the (capacity + 1)-th largest count from all
 * counts and keep the terms still above zero, in a fresh table and key context.
 */
static void
termcounts_prune(TermCounts *tc)
{
	termtab_hash *old_table = tc->table;
	MemoryContext old_keys = tc->keys;
	termtab_iterator it;
	TermEntry  *entry;
	int64	   *counts;
	int64		threshold;
	int			n = 0;

	counts = palloc(sizeof(int64) * old_table->members);
	termtab_start_iterate(old_table, &it);
	while ((entry = termtab_iterate(old_table, &it)) != NULL)
		counts[n++] = entry->count;
	qsort(counts, n, sizeof(int64), count_desc);
	threshold = counts[tc->capacity];
	pfree(counts);

	tc->keys = AllocSetContextCreate(tc->mcxt, "archive term keys", ALLOCSET_SMALL_SIZES);
	tc->table = termtab_create(tc->mcxt, tc->capacity * 2, NULL);
	tc->error += threshold;
	termtab_start_iterate(old_table, &it);
	while ((entry = termtab_iterate(old_table, &it)) != NULL)
	{
		if (entry->count > threshold)
			termcounts_add(tc, entry->key.str, entry->key.len, entry->count - threshold);
	}
	termtab_destroy(old_table);
	MemoryContextDelete(old_keys);
}

/*
 * Write the flat form of loose parts into a new palloc'd buffer, after
 * `prefix` bytes left for the caller (a varlena header, say); *len gets the
 * flat size without the prefix.  The layout, in native byte order:
 *
 *	uint8 version, uint8 kind, uint16 reserved (0), int32 capacity,
 *	int64 rows, int64 error, int32 nterms,
 *	then per term, in canonical order: int64 count, uint32 key length, key bytes.
 *
 * The canonical order makes equal summaries byte-for-byte equal.
 */
static char *
write_flat(TermKind kind, int32 capacity, int64 rows, int64 error,
		   const TermCount *terms, int nterms, Size prefix, Size *len)
{
	Size		size = TERMCOUNT_HEADER_SIZE;
	char	   *buf;
	char	   *out;
	uint8		version = TERMCOUNT_FLAT_VERSION;
	uint8		kind8 = (uint8) kind;
	uint16		reserved = 0;
	int32		nterms32 = nterms;

	for (int i = 0; i < nterms; i++)
		size += TERMCOUNT_TERM_SIZE + terms[i].keylen;
	buf = palloc(prefix + size);
	out = buf + prefix;
	memcpy(out, &version, 1);
	memcpy(out + 1, &kind8, 1);
	memcpy(out + 2, &reserved, 2);
	memcpy(out + 4, &capacity, 4);
	memcpy(out + 8, &rows, 8);
	memcpy(out + 16, &error, 8);
	memcpy(out + 24, &nterms32, 4);
	out += TERMCOUNT_HEADER_SIZE;
	for (int i = 0; i < nterms; i++)
	{
		memcpy(out, &terms[i].count, 8);
		memcpy(out + 8, &terms[i].keylen, 4);
		memcpy(out + TERMCOUNT_TERM_SIZE, terms[i].key, terms[i].keylen);
		out += TERMCOUNT_TERM_SIZE + terms[i].keylen;
	}
	*len = size;
	return buf;
}

/* The flat form of a summary, after `prefix` free bytes (see write_flat). */
char *
termcounts_flatten(const TermCounts *tc, Size prefix, Size *len)
{
	TermCount  *terms;
	int			nterms;
	char	   *flat;

	terms = termcounts_sorted(tc, &nterms);
	flat = write_flat(tc->kind, tc->capacity, tc->rows, tc->error, terms, nterms,
					  prefix, len);
	pfree(terms);
	return flat;
}

/* Raise the one error every malformed flat summary gets. */
static void
corrupt_summary(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("invalid archive term summary"),
			 errdetail_internal("%s", detail)));
}

/* Check one key of a flat summary: length, encoding, and the shape of its kind. */
static void
check_flat_key(TermKind kind, const char *key, uint32 keylen)
{
	const char *nul = memchr(key, '\0', keylen);

	if (keylen == 0 || keylen > TERMCOUNT_MAX_KEY * 2 + 1)
		corrupt_summary("term of bad length");
	if (kind == TERMS_TAGS)
	{
		if (nul != NULL)
			corrupt_summary("tag holds a NUL byte");
		if (!pg_verifymbstr(key, keylen, true))
			corrupt_summary("tag is not valid in the database encoding");
		return;
	}
	/* motif keys: stem NUL surface, both non-empty, one NUL only */
	if (nul == NULL || nul == key || nul == key + keylen - 1 ||
		memchr(nul + 1, '\0', keylen - (nul - key) - 1) != NULL)
		corrupt_summary("motif term is not stem and word");
	if (!pg_verifymbstr(key, nul - key, true) ||
		!pg_verifymbstr(nul + 1, keylen - (nul - key) - 1, true))
		corrupt_summary("motif term is not valid in the database encoding");
}

/* Order of motif terms by stem (strcmp stops at the NUL after the stem). */
static int
stem_compare(const void *a, const void *b)
{
	return strcmp(((const TermCount *) a)->key, ((const TermCount *) b)->key);
}

/*
 * Check that the words of each stem of a motif summary add up to no more than
 * rows: each title counts a stem once, so a stem's total is at most rows.
 * Sorts terms.
 */
static void
check_stem_totals(TermCount *terms, int nterms, int64 rows)
{
	int64		total = 0;

	qsort(terms, nterms, sizeof(TermCount), stem_compare);
	for (int i = 0; i < nterms; i++)
	{
		if (i > 0 && stem_compare(&terms[i - 1], &terms[i]) != 0)
			total = 0;
		if (terms[i].count > rows - total)
			corrupt_summary("stem count out of range");
		total += terms[i].count;
	}
}

/*
 * Read a flat summary into a new TermCounts in mcxt, checking everything:
 * version, kind, bounds, lengths, encoding, canonical order, no repeated
 * term, and count <= rows (for motifs: each stem's total <= rows).  Any
 * failure is an ERROR, never a wrong answer.
 */
TermCounts *
termcounts_unflatten(MemoryContext mcxt, const char *data, Size len)
{
	uint8		version;
	uint8		kind;
	uint16		reserved;
	int32		capacity;
	int64		rows;
	int64		error;
	int32		nterms;
	const char *end = data + len;
	TermCounts *tc;
	TermCount	prev = {NULL, 0, 0};
	TermCount  *terms;

	if (len < TERMCOUNT_HEADER_SIZE)
		corrupt_summary("too short");
	memcpy(&version, data, 1);
	memcpy(&kind, data + 1, 1);
	memcpy(&reserved, data + 2, 2);
	memcpy(&capacity, data + 4, 4);
	memcpy(&rows, data + 8, 8);
	memcpy(&error, data + 16, 8);
	memcpy(&nterms, data + 24, 4);
	if (version != TERMCOUNT_FLAT_VERSION)
		corrupt_summary("unknown version");
	if ((kind != TERMS_TAGS && kind != TERMS_MOTIFS) || reserved != 0)
		corrupt_summary("unknown kind");
	if (capacity < TERMCOUNT_MIN_CAPACITY || capacity > TERMCOUNT_MAX_CAPACITY)
		corrupt_summary("capacity out of range");
	if (rows < 0 || error < 0 || error > rows)
		corrupt_summary("rows or error out of range");
	if (nterms < 0 || nterms > capacity * 2)
		corrupt_summary("more terms than the capacity allows");
	/* every term takes its fixed part and at least one key byte */
	if ((Size) nterms > (len - TERMCOUNT_HEADER_SIZE) / (TERMCOUNT_TERM_SIZE + 1))
		corrupt_summary("truncated term");

	tc = termcounts_create(mcxt, (TermKind) kind, capacity);
	tc->rows = rows;
	tc->error = error;
	terms = palloc(sizeof(TermCount) * Max(nterms, 1));
	data += TERMCOUNT_HEADER_SIZE;
	for (int i = 0; i < nterms; i++)
	{
		TermCount	term;

		if (end - data < TERMCOUNT_TERM_SIZE)
			corrupt_summary("truncated term");
		memcpy(&term.count, data, 8);
		memcpy(&term.keylen, data + 8, 4);
		data += TERMCOUNT_TERM_SIZE;
		if (term.keylen > (Size) (end - data))
			corrupt_summary("truncated term");
		term.key = data;
		check_flat_key(tc->kind, term.key, term.keylen);
		if (term.count <= 0 || term.count > rows)
			corrupt_summary("term count out of range");
		if (i > 0 && termcount_compare(&prev, &term) >= 0)
			corrupt_summary("terms out of order or repeated");
		/* the order is by count first, so a key repeated with another count is found here */
		if (termtab_lookup(tc->table, (TermKey) {term.key, term.keylen}) != NULL)
			corrupt_summary("terms out of order or repeated");
		termcounts_add(tc, term.key, term.keylen, term.count);
		terms[i] = term;
		prev = term;
		data += term.keylen;
	}
	if (data != end)
		corrupt_summary("trailing bytes");
	if (tc->kind == TERMS_MOTIFS)
		check_stem_totals(terms, nterms, rows);
	pfree(terms);
	return tc;
}

/*
 * Build a summary from loose parts (the text input form), checked exactly as
 * a flat summary is: sort the terms into canonical order, flatten, unflatten.
 */
TermCounts *
termcounts_from_terms(MemoryContext mcxt, TermKind kind, int32 capacity,
					  int64 rows, int64 error, TermCount *terms, int nterms)
{
	char	   *flat;
	Size		len;

	qsort(terms, nterms, sizeof(TermCount), termcount_compare);
	flat = write_flat(kind, capacity, rows, error, terms, nterms, 0, &len);
	return termcounts_unflatten(mcxt, flat, len);
}
