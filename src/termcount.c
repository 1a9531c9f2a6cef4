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
 * Keys of up to TERMKEY_INLINE bytes (most tags and motifs) are kept in the
 * table entry itself, so that a probe touches one cache line, not two;
 * longer keys are copied, and freed when a prune drops them, so memory stays
 * proportional to the capacity, not to the input.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"

#include "termcount.h"

/* Version byte of the flat form; bump on any change of layout. */
#define TERMCOUNT_FLAT_VERSION 1
/* Fixed header of the flat form: version, kind, 2 reserved, capacity, rows, error, nterms. */
#define TERMCOUNT_HEADER_SIZE (1 + 1 + 2 + 4 + 8 + 8 + 4)
/* Fixed part of each term, flat and on the wire: count and key length. */
#define TERMCOUNT_TERM_SIZE (8 + 4)
/* Version byte of the wire form (see termcounts_send); 1 was the flat form as it is. */
#define TERMCOUNT_WIRE_VERSION 2
/* Fixed header of the wire form: version, kind, capacity, rows, error, nterms. */
#define TERMCOUNT_WIRE_HEADER_SIZE (1 + 1 + 4 + 8 + 8 + 4)

/* Longest key kept in the table entry itself. */
#define TERMKEY_INLINE 16

/* A key: its bytes in the struct when they fit, else a pointer to them. */
typedef struct TermKey
{
	uint32		len;
	union
	{
		const char *ptr;
		char		bytes[TERMKEY_INLINE];
	}			u;
} TermKey;

typedef struct TermEntry
{
	TermKey		key;
	uint32		hash;
	char		status;
	int64		count;
} TermEntry;

/* The bytes of a key. */
static inline const char *
termkey_str(const TermKey *key)
{
	return key->len <= TERMKEY_INLINE ? key->u.bytes : key->u.ptr;
}

/* A key for len bytes at str (a short one copies them; a long one points at them). */
static inline TermKey
termkey_make(const char *str, uint32 len)
{
	TermKey		key;

	key.len = len;
	if (len <= TERMKEY_INLINE)
		memcpy(key.u.bytes, str, len);
	else
		key.u.ptr = str;
	return key;
}

#define SH_PREFIX termtab
#define SH_ELEMENT_TYPE TermEntry
#define SH_KEY_TYPE TermKey
#define SH_KEY key
#define SH_HASH_KEY(tb, k) termcounts_hash(termkey_str(&(k)), (k).len)
#define SH_EQUAL(tb, a, b) ((a).len == (b).len && memcmp(termkey_str(&(a)), termkey_str(&(b)), (a).len) == 0)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/*
 * Where a summary being read comes from, which decides the error a malformed
 * one raises: the type's text or binary input (invalid input), or a stored
 * value or aggregate state (corrupt data).
 */
typedef enum SummaryOrigin
{
	FROM_STORED,
	FROM_TEXT,
	FROM_BINARY
} SummaryOrigin;

struct TermCounts
{
	MemoryContext mcxt;			/* holds this struct, the table and long keys */
	TermKind	kind;
	int32		capacity;
	int64		rows;			/* input rows seen */
	int64		error;			/* largest possible undercount of any term */
	termtab_hash *table;
};

static void termcounts_prune(TermCounts *tc);
static bool stem_totals_fit(const TermCount *terms, int nterms, int64 rows);

/* A copy of a long key in the summary's context. */
static const char *
keys_copy(TermCounts *tc, const char *key, uint32 keylen)
{
	char	   *copy = MemoryContextAlloc(tc->mcxt, keylen);

	memcpy(copy, key, keylen);
	return copy;
}

/* Allocate an empty summary in mcxt, its table sized for size terms. */
static TermCounts *
summary_create(MemoryContext mcxt, TermKind kind, int32 capacity, uint32 size)
{
	TermCounts *tc;

	Assert(capacity >= TERMCOUNT_MIN_CAPACITY && capacity <= TERMCOUNT_MAX_CAPACITY);
	tc = MemoryContextAllocZero(mcxt, sizeof(TermCounts));
	tc->mcxt = mcxt;
	tc->kind = kind;
	tc->capacity = capacity;
	tc->table = termtab_create(mcxt, size, NULL);
	return tc;
}

/* Allocate an empty summary in mcxt. */
TermCounts *
termcounts_create(MemoryContext mcxt, TermKind kind, int32 capacity)
{
	return summary_create(mcxt, kind, capacity, 16);
}

/* The summary's kind. */
TermKind
termcounts_kind(const TermCounts *tc)
{
	return tc->kind;
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

/* Number of terms the summary holds. */
int
termcounts_nterms(const TermCounts *tc)
{
	return (int) tc->table->members;
}

/* Record that rows more input rows were seen (whether or not they had terms). */
void
termcounts_add_rows(TermCounts *tc, int64 rows)
{
	tc->rows += rows;
}

/*
 * The hash of a key in a summary's table.  Callers that add the same key
 * often (motifs.c caches it per word) pass it to termcounts_add_hashed.
 */
uint32
termcounts_hash(const char *key, uint32 keylen)
{
	return hash_bytes((const unsigned char *) key, (int) keylen);
}

/*
 * Start loading the table slot where a term of this termcounts_hash goes.
 * A group's table is rarely in cache when its next row comes (thousands of
 * groups take turns), and one row adds several terms: prefetching all of a
 * row's slots before adding any lets their cache misses overlap instead of
 * queueing one after another.
 */
void
termcounts_prefetch(const TermCounts *tc, uint32 hash)
{
#if defined(__GNUC__) || defined(__clang__)
	__builtin_prefetch(&tc->table->data[hash & tc->table->sizemask]);
#endif
}

/* Add count to a term, copying the key on first sight; prunes when full. */
void
termcounts_add(TermCounts *tc, const char *key, uint32 keylen, int64 count)
{
	termcounts_add_hashed(tc, key, keylen, termcounts_hash(key, keylen), count);
}

/* termcounts_add for a key whose termcounts_hash the caller has. */
void
termcounts_add_hashed(TermCounts *tc, const char *key, uint32 keylen,
					  uint32 hash, int64 count)
{
	TermEntry  *entry;
	bool		found;

	entry = termtab_insert_hash(tc->table, termkey_make(key, keylen), hash, &found);
	if (found)
	{
		entry->count += count;
		return;
	}
	if (keylen > TERMKEY_INLINE)
		entry->key.u.ptr = keys_copy(tc, key, keylen);
	entry->count = count;
	if (tc->table->members > (uint32) tc->capacity * 2)
		termcounts_prune(tc);
}

/*
 * Add a term that is not in the summary yet, with its termcounts_hash
 * (reading a flat form, whose terms are checked to be distinct); no prune.
 */
static void
termcounts_add_new(TermCounts *tc, const char *key, uint32 keylen, uint32 hash,
				   int64 count)
{
	TermEntry  *entry;
	bool		found;

	entry = termtab_insert_hash(tc->table, termkey_make(key, keylen), hash, &found);
	Assert(!found);
	if (keylen > TERMKEY_INLINE)
		entry->key.u.ptr = keys_copy(tc, key, keylen);
	entry->count = count;
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
		termcounts_add_hashed(dst, termkey_str(&entry->key), entry->key.len, entry->hash,
							  entry->count);
}

/*
 * Merge a summary read in place into dst, its terms in their stored
 * (canonical) order, so that where dst prunes midway the result depends on
 * nothing but the two summaries.  As termcounts_merge, without a table for
 * src: what a union of many small stored summaries spends most on.
 */
void
termcounts_merge_view(TermCounts *dst, const TermCountsView *src)
{
	Assert(dst->kind == src->kind);
	dst->rows += src->rows;
	dst->error += src->error;
	dst->capacity = Max(dst->capacity, src->capacity);
	for (int i = 0; i < src->nterms; i++)
		termcounts_add_hashed(dst, src->terms[i].key, src->terms[i].keylen, src->hashes[i],
							  src->terms[i].count);
}

/*
 * A view of a summary's table (terms in table order, pointing into it), for
 * what reads views alone (summary.c's rankings) to read a state as well.
 */
void
termcounts_as_view(const TermCounts *tc, TermCountsView *view)
{
	termtab_iterator it;
	TermEntry  *entry;
	int			n = 0;

	view->kind = tc->kind;
	view->capacity = tc->capacity;
	view->rows = tc->rows;
	view->error = tc->error;
	view->terms = palloc(sizeof(TermCount) * Max(tc->table->members, 1));
	view->hashes = palloc(sizeof(uint32) * Max(tc->table->members, 1));
	termtab_start_iterate(tc->table, &it);
	while ((entry = termtab_iterate(tc->table, &it)) != NULL)
	{
		view->terms[n].key = termkey_str(&entry->key);
		view->terms[n].keylen = entry->key.len;
		view->terms[n].count = entry->count;
		view->hashes[n] = entry->hash;
		n++;
	}
	view->nterms = n;
}

/* Order of keys (and of shown words, on ties): their bytes, a shorter key before a longer one it begins. */
int
termkey_compare(const char *x, uint32 xlen, const char *y, uint32 ylen)
{
	int			cmp = memcmp(x, y, Min(xlen, ylen));

	if (cmp != 0)
		return cmp;
	return (xlen > ylen) - (xlen < ylen);
}

/* Order of terms everywhere: higher count first, then termkey_compare. */
int
termcount_compare(const void *a, const void *b)
{
	const TermCount *x = a;
	const TermCount *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return termkey_compare(x->key, x->keylen, y->key, y->keylen);
}

/* All terms in no particular order, palloc'd in the current context. */
static TermCount *
termcounts_terms(const TermCounts *tc, int *nterms)
{
	TermCountsView view;

	termcounts_as_view(tc, &view);
	pfree(view.hashes);
	*nterms = view.nterms;
	return view.terms;
}

/*
 * A term being sorted into canonical order: its count and the first 8 bytes
 * of its key as a big-endian number (zero-padded), compared as integers
 * before the key itself.  Bytes compare as memcmp compares them, and a
 * shorter key padded with zeros sorts before a longer one it begins, so the
 * order is termcount_compare's; most comparisons of a flatten (thousands of
 * terms, most of them counted once or twice) end there, without memcmp.
 */
typedef struct SortingTerm
{
	int64		count;
	uint64		prefix;
	const TermCount *term;
} SortingTerm;

static inline int
sorting_term_compare(const SortingTerm *a, const SortingTerm *b)
{
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if (a->prefix != b->prefix)
		return a->prefix < b->prefix ? -1 : 1;
	return termcount_compare(a->term, b->term);
}

#define ST_SORT sort_sorting_terms
#define ST_ELEMENT_TYPE SortingTerm
#define ST_COMPARE(a, b) sorting_term_compare(a, b)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* Sort terms into canonical order (termcount_compare's), in place. */
static void
sort_terms(TermCount *terms, int nterms)
{
	SortingTerm *sorting = palloc(sizeof(SortingTerm) * Max(nterms, 1));
	TermCount  *sorted = palloc(sizeof(TermCount) * Max(nterms, 1));

	for (int i = 0; i < nterms; i++)
	{
		uint64		prefix = 0;

		for (uint32 b = 0; b < 8; b++)
			prefix = (prefix << 8) | (b < terms[i].keylen ? (unsigned char) terms[i].key[b] : 0);
		sorting[i] = (SortingTerm) {terms[i].count, prefix, &terms[i]};
	}
	sort_sorting_terms(sorting, nterms);
	for (int i = 0; i < nterms; i++)
		sorted[i] = *sorting[i].term;
	memcpy(terms, sorted, sizeof(TermCount) * nterms);
	pfree(sorted);
	pfree(sorting);
}

/* All terms in canonical order, palloc'd in the current context. */
static TermCount *
termcounts_sorted(const TermCounts *tc, int *nterms)
{
	TermCount  *terms = termcounts_terms(tc, nterms);

	sort_terms(terms, *nterms);
	return terms;
}

/*
 * The k-th largest of n counts (k < n), by selection (Hoare's quickselect):
 * linear on average, where sorting all counts would be n log n.  Reorders
 * counts.
 */
static int64
kth_largest(int64 *counts, int n, int k)
{
	int			lo = 0;
	int			hi = n - 1;

	while (lo < hi)
	{
		int64		pivot = counts[lo + (hi - lo) / 2];
		int			i = lo;
		int			j = hi;

		while (i <= j)
		{
			while (counts[i] > pivot)
				i++;
			while (counts[j] < pivot)
				j--;
			if (i <= j)
			{
				int64		swap = counts[i];

				counts[i++] = counts[j];
				counts[j--] = swap;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return counts[k];
}

/*
 * Misra-Gries prune: subtract the (capacity + 1)-th largest count from all
 * counts and keep the terms still above zero, in a fresh table (in the old
 * table's order); the long keys of the others are freed.
 */
static void
termcounts_prune(TermCounts *tc)
{
	termtab_hash *old_table = tc->table;
	termtab_iterator it;
	TermEntry  *entry;
	int64	   *counts;
	int64		threshold;
	int			n = 0;

	counts = palloc(sizeof(int64) * old_table->members);
	termtab_start_iterate(old_table, &it);
	while ((entry = termtab_iterate(old_table, &it)) != NULL)
		counts[n++] = entry->count;
	threshold = kth_largest(counts, n, tc->capacity);
	pfree(counts);

	tc->table = termtab_create(tc->mcxt, tc->capacity * 2, NULL);
	tc->error += threshold;
	termtab_start_iterate(old_table, &it);
	while ((entry = termtab_iterate(old_table, &it)) != NULL)
	{
		TermEntry  *kept;
		bool		found;

		if (entry->count <= threshold)
		{
			if (entry->key.len > TERMKEY_INLINE)
				pfree(unconstify(char *, entry->key.u.ptr));
			continue;
		}
		/* the key moves to the new table as it is, a long one with its copy */
		kept = termtab_insert_hash(tc->table, entry->key, entry->hash, &found);
		kept->count = entry->count - threshold;
	}
	termtab_destroy(old_table);
}

/*
 * Write the flat form of loose parts into a new palloc'd buffer, after
 * `prefix` bytes left for the caller (a varlena header, say); *len gets the
 * flat size without the prefix.  The layout, in native byte order (it is
 * stored, and handed between the processes of one server; what goes to other
 * servers is the wire form, see termcounts_send):
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

/*
 * The flat form of a summary, after `prefix` free bytes (see write_flat); the
 * terms in canonical order, or, for an aggregate state on its way between the
 * processes of one query (which needs no canonical form), in table order.
 */
static char *
flatten(const TermCounts *tc, bool canonical, Size prefix, Size *len)
{
	TermCount  *terms;
	int			nterms;
	char	   *flat;

	terms = canonical ? termcounts_sorted(tc, &nterms) : termcounts_terms(tc, &nterms);
	flat = write_flat(tc->kind, tc->capacity, tc->rows, tc->error, terms, nterms,
					  prefix, len);
	pfree(terms);
	return flat;
}

/*
 * An open-addressing index of a view's terms by their hashes: slots holding
 * a term's index + 1 (0: empty), their number a power of two at least twice
 * the terms'.  What read_flat checks repeats with, and adjust_flat looks
 * terms up in.
 */
static uint32
view_index_size(int nterms)
{
	uint32		size = 16;

	while (size < (uint32) nterms * 2)
		size <<= 1;
	return size;
}

/* Put a view's term index in the index. */
static void
view_index_add(int *slots, uint32 size, uint32 hash, int index)
{
	uint32		at = hash & (size - 1);

	while (slots[at] != 0)
		at = (at + 1) & (size - 1);
	slots[at] = index + 1;
}

/* The index in the view of a key, through the index; -1 when it is not there. */
static int
view_find(const TermCountsView *view, const int *slots, uint32 size,
		  const char *key, uint32 keylen, uint32 hash)
{
	for (uint32 at = hash & (size - 1); slots[at] != 0; at = (at + 1) & (size - 1))
	{
		const TermCount *term = &view->terms[slots[at] - 1];

		if (view->hashes[slots[at] - 1] == hash && term->keylen == keylen &&
			memcmp(term->key, key, keylen) == 0)
			return slots[at] - 1;
	}
	return -1;
}

/*
 * The flat form (see write_flat) of base with the counts of delta added
 * (sign 1) or taken out (sign -1), as a summary of the given capacity, rows
 * and error; NULL when that summary would hold more than 2 * capacity terms
 * (it would prune), or when delta takes out a term base does not hold as
 * often or leaves a count above the rows (it took out rows that were not
 * part of base).  Both are read in place, in canonical order.
 *
 * A refresh updates a month of a topic (hundreds of posts) by taking out
 * and adding the few posts that changed.  Merging tables would build one
 * of all the month's terms and sort them all again; but the terms delta
 * leaves alone keep their counts, so they stay in canonical order as base
 * lists them.  Only the terms delta touches are sorted, and merged with the
 * others: a pass over base, a table and a sort of delta's terms alone.
 */
static char *
adjust_flat(const TermCountsView *base, const TermCountsView *delta, int sign,
			int32 capacity, int64 rows, int64 error, Size prefix, Size *len)
{
	uint32		size = view_index_size(delta->nterms);
	int		   *slots = palloc0(sizeof(int) * size);
	bool	   *matched = palloc0(sizeof(bool) * Max(delta->nterms, 1));
	TermCount  *kept = palloc(sizeof(TermCount) * Max(base->nterms, 1));
	TermCount  *changed = palloc(sizeof(TermCount) * Max(delta->nterms, 1));
	TermCount  *terms;
	int			nkept = 0;
	int			nchanged = 0;
	int			nterms = 0;
	char	   *flat;

	Assert(base->kind == delta->kind);
	for (int j = 0; j < delta->nterms; j++)
		view_index_add(slots, size, delta->hashes[j], j);
	for (int i = 0; i < base->nterms; i++)
	{
		const TermCount *term = &base->terms[i];
		int			j = view_find(delta, slots, size, term->key, term->keylen, base->hashes[i]);
		int64		count;

		if (j < 0)
		{
			kept[nkept++] = *term;
			continue;
		}
		matched[j] = true;
		count = term->count + sign * delta->terms[j].count;
		if (count < 0)
			return NULL;
		if (count > 0)
			changed[nchanged++] = (TermCount) {term->key, term->keylen, count};
	}
	for (int j = 0; j < delta->nterms; j++)
	{
		if (matched[j])
			continue;
		if (sign < 0)
			return NULL;
		changed[nchanged++] = delta->terms[j];
	}
	if (nkept + nchanged > capacity * 2)
		return NULL;

	sort_terms(changed, nchanged);
	terms = palloc(sizeof(TermCount) * Max(nkept + nchanged, 1));
	for (int i = 0, j = 0; i < nkept || j < nchanged;)
	{
		if (j == nchanged || (i < nkept && termcount_compare(&kept[i], &changed[j]) < 0))
			terms[nterms++] = kept[i++];
		else
			terms[nterms++] = changed[j++];
	}
	/*
	 * What a summary must hold to be read back (see read_flat): no count above
	 * the rows (terms[0] has the largest), no stem's words above them either.
	 * A union of two summaries always does; taking out rows that were not part
	 * of base may not.
	 */
	if (sign < 0 && ((nterms > 0 && terms[0].count > rows) ||
					 (base->kind == TERMS_MOTIFS && !stem_totals_fit(terms, nterms, rows))))
		return NULL;
	flat = write_flat(base->kind, capacity, rows, error, terms, nterms, prefix, len);
	pfree(terms);
	pfree(changed);
	pfree(kept);
	pfree(matched);
	pfree(slots);
	return flat;
}

/*
 * The flat form of the union of two summaries read in place, at least of
 * capacity min_capacity: what merging a and b into an empty summary of that
 * capacity and flattening it gives, when that merge does not prune; NULL
 * when it would (see adjust_flat).
 */
char *
termcounts_union_flat(const TermCountsView *a, const TermCountsView *b, int32 min_capacity,
					  Size prefix, Size *len)
{
	int32		capacity = Max(min_capacity, Max(a->capacity, b->capacity));

	/* the larger one is the base: the smaller one is the table and the sort */
	if (a->nterms < b->nterms)
		return adjust_flat(b, a, 1, capacity, a->rows + b->rows, a->error + b->error, prefix, len);
	return adjust_flat(a, b, 1, capacity, a->rows + b->rows, a->error + b->error, prefix, len);
}

/*
 * The flat form of the summary of the rows of `from` less those `sub`
 * summarises, the inverse of merging them in; NULL when that is not known
 * exactly.  It is exact only when neither summary pruned (a pruned count is
 * a lower bound, and the terms pruning dropped are unknown) and sub is part
 * of from: every term of sub counted in from at least as often, and no more
 * rows (and nothing left counted in more rows than are left).  A term whose
 * count falls to zero leaves the summary, so the result is the summary of
 * the remaining rows, term for term (what a summary made from them alone
 * would hold).
 */
char *
termcounts_subtract_flat(const TermCountsView *from, const TermCountsView *sub,
						 Size prefix, Size *len)
{
	if (from->error != 0 || sub->error != 0 || sub->rows > from->rows)
		return NULL;
	return adjust_flat(from, sub, -1, from->capacity, from->rows - sub->rows, 0, prefix, len);
}

/* The flat form of a summary, terms in canonical order (see flatten). */
char *
termcounts_flatten(const TermCounts *tc, Size prefix, Size *len)
{
	return flatten(tc, true, prefix, len);
}

/* The flat form of an aggregate state, terms in any order (see flatten). */
char *
termcounts_flatten_state(const TermCounts *tc, Size prefix, Size *len)
{
	return flatten(tc, false, prefix, len);
}

/*
 * Raise the error of a malformed summary, by where it came from: text input
 * breaking a rule of the type (22P02), malformed binary input (22P03), or a
 * stored value or aggregate state that is corrupt (XX001).
 */
static void
bad_summary(SummaryOrigin origin, const char *detail)
{
	if (origin == FROM_TEXT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s", "archive.termcounts"),
				 errdetail_internal("%s", detail)));
	if (origin == FROM_BINARY)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary input for type %s", "archive.termcounts"),
				 errdetail_internal("%s", detail)));
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("invalid archive term summary"),
			 errdetail_internal("%s", detail)));
}

/*
 * Whether a tag is in the form tag_normalize() gives, as far as it does not
 * depend on the database's collation: no white space or control character
 * at either end, none inside but single spaces, no upper-case ASCII letter.
 * The text input and the flat form check the same, so that every summary
 * accepted in either form reads back in the other (a dump in text form
 * restores); case folding beyond ASCII is the collation's, not checked.
 */
bool
termcounts_tag_is_normal(const char *key, uint32 keylen)
{
	for (uint32 i = 0; i < keylen; i++)
	{
		unsigned char c = (unsigned char) key[i];

		if (c == ' ')
		{
			if (i == 0 || i == keylen - 1 || key[i - 1] == ' ')
				return false;
		}
		else if (c < ' ' || c == 0x7f || (c >= 'A' && c <= 'Z'))
			return false;
	}
	return keylen > 0;
}

/*
 * Check one key of a flat summary: length, encoding, and the shape of its
 * kind.  The key's bytes are looked at once, for NUL bytes and for bytes
 * above ASCII; pg_verifymbstr checks only a key that has the latter (ASCII
 * without NUL is valid in every server encoding), where it was called for
 * every key of every stored summary read.
 */
static void
check_flat_key(SummaryOrigin origin, TermKind kind, const char *key, uint32 keylen)
{
	unsigned char bits = 0;
	uint32		nuls = 0;
	uint32		nul_at = 0;

	if (keylen == 0 || keylen > TERMCOUNT_MAX_KEY * 2 + 1)
		bad_summary(origin, "term of bad length");
	for (uint32 i = 0; i < keylen; i++)
	{
		unsigned char c = (unsigned char) key[i];

		bits |= c;
		if (c == '\0' && nuls++ == 0)
			nul_at = i;
	}
	if (kind == TERMS_TAGS)
	{
		if (nuls > 0)
			bad_summary(origin, "tag holds a NUL byte");
		if (IS_HIGHBIT_SET(bits) && !pg_verifymbstr(key, keylen, true))
			bad_summary(origin, "tag is not valid in the database encoding");
		if (!termcounts_tag_is_normal(key, keylen))
			bad_summary(origin, "tag is not normalised");
		return;
	}
	/* motif keys: stem NUL surface, both non-empty, one NUL only */
	if (nuls != 1 || nul_at == 0 || nul_at == keylen - 1)
		bad_summary(origin, "motif term is not stem and word");
	if (IS_HIGHBIT_SET(bits) &&
		(!pg_verifymbstr(key, nul_at, true) ||
		 !pg_verifymbstr(key + nul_at + 1, keylen - nul_at - 1, true)))
		bad_summary(origin, "motif term is not valid in the database encoding");
}

/*
 * Whether the words of each stem of a motif summary add up to no more than
 * rows: each title counts a stem once, so a stem's total is at most rows.
 * The stems are a view of their own (a stem's key is the terms' key up to
 * its NUL, its count the total of its words), found through a view's index
 * (view_index_add, view_find).  (With a simplehash table, reading the title
 * summaries of the 292,017 topic months of a million posts took 596-630 ms,
 * with an index 535-565 ms, in three alternated runs.)
 */
static bool
stem_totals_fit(const TermCount *terms, int nterms, int64 rows)
{
	uint32		size = view_index_size(nterms);
	int		   *slots = palloc0(sizeof(int) * size);
	TermCountsView stems = {0};
	bool		fit = true;

	stems.terms = palloc(sizeof(TermCount) * Max(nterms, 1));
	stems.hashes = palloc(sizeof(uint32) * Max(nterms, 1));
	for (int i = 0; i < nterms && fit; i++)
	{
		const char *stem = terms[i].key;
		uint32		len = strlen(stem);
		uint32		hash = termcounts_hash(stem, len);
		int			s = view_find(&stems, slots, size, stem, len, hash);

		if (s < 0)
		{
			s = stems.nterms++;
			stems.terms[s] = (TermCount) {stem, len, 0};
			stems.hashes[s] = hash;
			view_index_add(slots, size, hash, s);
		}
		fit = terms[i].count <= rows - stems.terms[s].count;
		stems.terms[s].count += terms[i].count;
	}
	pfree(stems.hashes);
	pfree(stems.terms);
	pfree(slots);
	return fit;
}

/*
 * Check that no key of a read summary repeats.  Canonical order catches a key
 * repeated with the same count (its copies would sit side by side); this
 * catches the rest, in an index of the terms by the hashes read_flat
 * computed.
 */
static void
check_no_repeats(SummaryOrigin origin, const TermCountsView *view)
{
	uint32		size = view_index_size(view->nterms);
	int		   *slots = palloc0(sizeof(int) * size);

	for (int i = 0; i < view->nterms; i++)
	{
		if (view_find(view, slots, size, view->terms[i].key, view->terms[i].keylen,
					  view->hashes[i]) >= 0)
			bad_summary(origin, "terms out of order or repeated");
		view_index_add(slots, size, view->hashes[i], i);
	}
	pfree(slots);
}

/*
 * Read a flat summary in place into view, checking everything: version,
 * kind, bounds, lengths, encoding, canonical order (unless it is an
 * aggregate state, see flatten), no repeated term, and count <= rows (for
 * motifs: each stem's total <= rows).  Any failure is an ERROR (which one
 * depends on the origin, see bad_summary), never a wrong answer.
 */
static void
read_flat(const char *data, Size len, bool canonical, SummaryOrigin origin,
		  TermCountsView *view)
{
	uint8		version;
	uint8		kind;
	uint16		reserved;
	int32		nterms;
	const char *end = data + len;

	if (len < TERMCOUNT_HEADER_SIZE)
		bad_summary(origin, "too short");
	memcpy(&version, data, 1);
	memcpy(&kind, data + 1, 1);
	memcpy(&reserved, data + 2, 2);
	memcpy(&view->capacity, data + 4, 4);
	memcpy(&view->rows, data + 8, 8);
	memcpy(&view->error, data + 16, 8);
	memcpy(&nterms, data + 24, 4);
	if (version != TERMCOUNT_FLAT_VERSION)
		bad_summary(origin, "unknown version");
	if ((kind != TERMS_TAGS && kind != TERMS_MOTIFS) || reserved != 0)
		bad_summary(origin, "unknown kind");
	if (view->capacity < TERMCOUNT_MIN_CAPACITY || view->capacity > TERMCOUNT_MAX_CAPACITY)
		bad_summary(origin, "capacity out of range");
	if (view->rows < 0 || view->error < 0 || view->error > view->rows)
		bad_summary(origin, "rows or error out of range");
	if (nterms < 0 || nterms > view->capacity * 2)
		bad_summary(origin, "more terms than the capacity allows");
	/* every term takes its fixed part and at least one key byte */
	if ((Size) nterms > (len - TERMCOUNT_HEADER_SIZE) / (TERMCOUNT_TERM_SIZE + 1))
		bad_summary(origin, "truncated term");

	view->kind = (TermKind) kind;
	view->nterms = nterms;
	view->terms = palloc(sizeof(TermCount) * Max(nterms, 1));
	view->hashes = palloc(sizeof(uint32) * Max(nterms, 1));
	data += TERMCOUNT_HEADER_SIZE;
	for (int i = 0; i < nterms; i++)
	{
		TermCount  *term = &view->terms[i];

		if (end - data < TERMCOUNT_TERM_SIZE)
			bad_summary(origin, "truncated term");
		memcpy(&term->count, data, 8);
		memcpy(&term->keylen, data + 8, 4);
		data += TERMCOUNT_TERM_SIZE;
		if (term->keylen > (Size) (end - data))
			bad_summary(origin, "truncated term");
		term->key = data;
		check_flat_key(origin, view->kind, term->key, term->keylen);
		if (term->count <= 0 || term->count > view->rows)
			bad_summary(origin, "term count out of range");
		if (canonical && i > 0 && termcount_compare(&view->terms[i - 1], term) >= 0)
			bad_summary(origin, "terms out of order or repeated");
		view->hashes[i] = termcounts_hash(term->key, term->keylen);
		data += term->keylen;
	}
	if (data != end)
		bad_summary(origin, "trailing bytes");
	check_no_repeats(origin, view);
	if (view->kind == TERMS_MOTIFS && !stem_totals_fit(view->terms, nterms, view->rows))
		bad_summary(origin, "stem count out of range");
}

/*
 * Read a flat summary into a new TermCounts in mcxt, checked in full (see
 * read_flat), its table sized for its terms at once.
 */
static TermCounts *
unflatten(MemoryContext mcxt, const char *data, Size len, bool canonical,
		  SummaryOrigin origin)
{
	TermCountsView view;
	TermCounts *tc;

	read_flat(data, len, canonical, origin, &view);
	tc = summary_create(mcxt, view.kind, view.capacity, Max(view.nterms, 16));
	tc->rows = view.rows;
	tc->error = view.error;
	for (int i = 0; i < view.nterms; i++)
		termcounts_add_new(tc, view.terms[i].key, view.terms[i].keylen, view.hashes[i],
						   view.terms[i].count);
	pfree(view.terms);
	pfree(view.hashes);
	return tc;
}

/*
 * Read a stored summary in place, checked in full (see read_flat): for what
 * only reads its terms, or merges them into another summary, no table.
 */
void
termcounts_view(const char *data, Size len, TermCountsView *view)
{
	read_flat(data, len, true, FROM_STORED, view);
}

/* Read a flat summary, in canonical order (see unflatten). */
TermCounts *
termcounts_unflatten(MemoryContext mcxt, const char *data, Size len)
{
	return unflatten(mcxt, data, len, true, FROM_STORED);
}

/* Read a flat aggregate state, terms in any order (see unflatten). */
TermCounts *
termcounts_unflatten_state(MemoryContext mcxt, const char *data, Size len)
{
	return unflatten(mcxt, data, len, false, FROM_STORED);
}

/*
 * Build a summary from loose parts (the text input form), checked exactly as
 * a flat summary is: sort the terms into canonical order, flatten, unflatten;
 * a broken rule is invalid text input.
 */
TermCounts *
termcounts_from_terms(MemoryContext mcxt, TermKind kind, int32 capacity,
					  int64 rows, int64 error, TermCount *terms, int nterms)
{
	char	   *flat;
	Size		len;

	sort_terms(terms, nterms);
	flat = write_flat(kind, capacity, rows, error, terms, nterms, 0, &len);
	return unflatten(mcxt, flat, len, true, FROM_TEXT);
}

/*
 * Append the wire form of a summary to buf: the binary form of
 * archive.termcounts (its send and receive functions), which any server
 * reads whatever its byte order or the sender's.  Every integer is in
 * network byte order (big-endian), as in PostgreSQL's own binary forms:
 *
 *	uint8	version: 2 (TERMCOUNT_WIRE_VERSION)
 *	uint8	kind: 1 tags, 2 motifs
 *	int32	capacity
 *	int64	rows
 *	int64	error
 *	int32	nterms
 *	then nterms terms, in canonical order (count descending, then key bytes):
 *	int64	count
 *	int32	key length in bytes
 *	bytes	the key: the tag, or for motifs the stem, a NUL byte and the
 *			word; not NUL-terminated
 *
 * Version 1 was the flat form sent as it is stored, in the sender's byte
 * order; it is refused on input.  The canonical order makes equal summaries
 * send equal bytes.
 */
void
termcounts_send(const TermCounts *tc, StringInfo buf)
{
	int			nterms;
	TermCount  *terms = termcounts_sorted(tc, &nterms);

	pq_sendint8(buf, TERMCOUNT_WIRE_VERSION);
	pq_sendint8(buf, (uint8) tc->kind);
	pq_sendint32(buf, tc->capacity);
	pq_sendint64(buf, tc->rows);
	pq_sendint64(buf, tc->error);
	pq_sendint32(buf, nterms);
	for (int i = 0; i < nterms; i++)
	{
		pq_sendint64(buf, terms[i].count);
		pq_sendint32(buf, terms[i].keylen);
		pq_sendbytes(buf, terms[i].key, terms[i].keylen);
	}
	pfree(terms);
}

/* Raise the binary input's error unless buf holds n more bytes. */
static void
recv_need(StringInfo buf, Size n)
{
	if (n > (Size) (buf->len - buf->cursor))
		bad_summary(FROM_BINARY, "truncated");
}

/*
 * Read the wire form (see termcounts_send) into a new TermCounts in mcxt.
 * Each length is checked against what is left of the message before it is
 * read, and the message must end with the last term; the summary then gets
 * every check of the flat form, in canonical order, so that it sends back
 * the very bytes it came from.  Anything else is invalid binary input.
 */
TermCounts *
termcounts_recv(MemoryContext mcxt, StringInfo buf)
{
	int			version;
	int			kind;
	int32		capacity;
	int64		rows;
	int64		error;
	int32		nterms;
	TermCount  *terms;
	char	   *flat;
	Size		len;
	TermCounts *tc;

	recv_need(buf, TERMCOUNT_WIRE_HEADER_SIZE);
	version = pq_getmsgbyte(buf);
	if (version != TERMCOUNT_WIRE_VERSION)
		bad_summary(FROM_BINARY, psprintf("unsupported format version %d (expected %d)",
										  version, TERMCOUNT_WIRE_VERSION));
	kind = pq_getmsgbyte(buf);
	capacity = (int32) pq_getmsgint(buf, 4);
	rows = pq_getmsgint64(buf);
	error = pq_getmsgint64(buf);
	nterms = (int32) pq_getmsgint(buf, 4);
	/* every term takes its fixed part and at least one key byte */
	if (nterms < 0 || nterms > (buf->len - buf->cursor) / (TERMCOUNT_TERM_SIZE + 1))
		bad_summary(FROM_BINARY, "term count does not fit the message");
	terms = palloc(sizeof(TermCount) * Max(nterms, 1));
	for (int i = 0; i < nterms; i++)
	{
		recv_need(buf, TERMCOUNT_TERM_SIZE);
		terms[i].count = pq_getmsgint64(buf);
		terms[i].keylen = pq_getmsgint(buf, 4);
		recv_need(buf, terms[i].keylen);
		terms[i].key = pq_getmsgbytes(buf, (int) terms[i].keylen);
	}
	if (buf->cursor != buf->len)
		bad_summary(FROM_BINARY, "trailing bytes");
	/* kind is checked with the rest, by unflatten */
	flat = write_flat((TermKind) kind, capacity, rows, error, terms, nterms, 0, &len);
	tc = unflatten(mcxt, flat, len, true, FROM_BINARY);
	pfree(flat);
	pfree(terms);
	return tc;
}
