/*-------------------------------------------------------------------------
 *
 * fuzz_summary.c
 *	  libFuzzer target over src/termcount.c (the summary core: flat-form
 *	  and wire-form decoders, counting, pruning) and src/textnorm.c (tag
 *	  normalisation), compiled unchanged with shim.c.  The first byte of an
 *	  input picks:
 *
 *	  0 mod 4: the rest is a flat summary, as a stored archive.termcounts
 *	        value is.  termcounts_unflatten must raise an ERROR or accept it;
 *	        an accepted one must flatten back to the very same bytes (no
 *	        corrupt value is read as another), and read in place
 *	        (termcounts_view) and merged into an empty summary, too.
 *	  1 mod 4: the rest is the wire form, as archive.termcounts_recv gets it
 *	        from COPY ... FORMAT binary or a client.  termcounts_recv must
 *	        raise an ERROR or accept it; an accepted one must send back the
 *	        very same bytes.
 *	  2 mod 4: the rest is a flat aggregate state (terms in any order), as the
 *	        aggregates' deserialize function gets it after the limit.
 *	        termcounts_unflatten_state must raise an ERROR or accept it; an
 *	        accepted one must flatten, read back and flatten to the same bytes.
 *	  3 mod 4: the rest is posts' tags (posts split at 0xFE bytes, tags at
 *	        0xFF; invalid UTF-8 and NUL bytes are left out, as text never
 *	        holds them), counted as archive.tag_counts_agg does, at capacity
 *	        16 so that it prunes.  Every normalised tag must pass the flat
 *	        form's check, and the summary must flatten, read back without an
 *	        ERROR, and flatten to the same bytes again; the same through the
 *	        wire form.  The even and the odd posts are also counted apart:
 *	        termcounts_subtract_flat of the odd ones from all of them must give
 *	        the even ones' summary, byte for byte, when neither all nor the
 *	        odd ones pruned, and otherwise refuse; termcounts_union_flat of
 *	        the even and the odd ones must give their merge, byte for byte,
 *	        when it does not prune, and otherwise refuse.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "termcount.h"
#include "textnorm.h"
#include "shim.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A ~piece of input as text would hold it: valid UTF-8 without NUL bytes. */
static bool
is_text(const char *str, int len)
{
	return pg_encoding_verifymbstr(PG_UTF8, str, len) == len;
}

/* Flatten, read back, flatten again: must give the same bytes, without an ERROR. */
static void
round_trip(MemoryContext cxt, const TermCounts *tc)
{
	Size		len;
	Size		len2;
	char	   *flat = termcounts_flatten(tc, 0, &len);
	TermCounts *back = termcounts_unflatten(cxt, flat, len);
	char	   *flat2 = termcounts_flatten(back, 0, &len2);

	if (len != len2 || memcmp(flat, flat2, len) != 0)
		FUZZ_FAIL("a summary read back from its flat form flattens differently");
}

/*
 * Read len bytes as the wire form.  The message is in a buffer of its own
 * size (and the NUL byte a StringInfo ends with), so that AddressSanitizer
 * sees any read past it.
 */
static TermCounts *
recv_wire(MemoryContext cxt, const char *bytes, int len)
{
	StringInfoData buf;

	buf.data = palloc(len + 1);
	memcpy(buf.data, bytes, len);
	buf.data[len] = '\0';
	buf.len = len;
	buf.maxlen = len + 1;
	buf.cursor = 0;
	return termcounts_recv(cxt, &buf);
}

/* Send, receive, send again: must give the same bytes, without an ERROR. */
static void
wire_round_trip(MemoryContext cxt, const TermCounts *tc)
{
	StringInfoData wire;
	StringInfoData wire2;

	initStringInfo(&wire);
	termcounts_send(tc, &wire);
	initStringInfo(&wire2);
	termcounts_send(recv_wire(cxt, wire.data, wire.len), &wire2);
	if (wire.len != wire2.len || memcmp(wire.data, wire2.data, wire.len) != 0)
		FUZZ_FAIL("a summary received from its wire form sends other bytes");
}

/* Whether two flat forms (NULL: none) are the same bytes. */
static bool
same_flat(const char *a, Size a_len, const char *b, Size b_len)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a_len == b_len && memcmp(a, b, a_len) == 0;
}

/*
 * The one-pass functions on the even and the odd posts' summaries.
 * termcounts_subtract_flat(all, odd) must give the even posts' summary, byte
 * for byte, when all and odd are exact, and NULL when not.
 * termcounts_union_flat(even, odd) (either way round) must give what merging
 * both into an empty summary and flattening it gives, when that merge does
 * not prune (its error is the sum of theirs), and NULL when it does.
 */
static void
check_one_pass(MemoryContext cxt, const TermCounts *all, const TermCounts *even,
			   const TermCounts *odd)
{
	const TermCounts *parts[3] = {all, even, odd};
	char	   *flat[3];
	Size		len[3];
	TermCountsView view[3];
	TermCounts *merged = termcounts_create(cxt, TERMS_TAGS, TERMCOUNT_MIN_CAPACITY);
	bool		exact = termcounts_error(all) == 0 && termcounts_error(odd) == 0;
	char	   *want;
	Size		want_len;
	char	   *got;
	Size		got_len;

	for (int i = 0; i < 3; i++)
	{
		flat[i] = termcounts_flatten(parts[i], 0, &len[i]);
		termcounts_view(flat[i], len[i], &view[i]);
	}
	got = termcounts_subtract_flat(&view[0], &view[2], 0, &got_len);
	if (!same_flat(got, got_len, exact ? flat[1] : NULL, len[1]))
		FUZZ_FAIL("termcounts_subtract_flat %s", exact ? "did not give the other posts' summary" : "took from a pruned summary");

	termcounts_merge_view(merged, &view[1]);
	termcounts_merge_view(merged, &view[2]);
	want = termcounts_error(merged) == termcounts_error(even) + termcounts_error(odd)
		? termcounts_flatten(merged, 0, &want_len) : NULL;
	for (int way = 0; way < 2; way++)
	{
		got = termcounts_union_flat(&view[1 + way], &view[2 - way], TERMCOUNT_MIN_CAPACITY, 0, &got_len);
		if (!same_flat(got, got_len, want, want_len))
			FUZZ_FAIL("termcounts_union_flat %s", want ? "did not give the merged summary" : "did not refuse a union that prunes");
	}
}

/* An accepted flat summary read in place and merged into an empty one: the same bytes again. */
static void
check_view(MemoryContext cxt, const char *flat, Size len)
{
	TermCountsView view;
	TermCounts *merged;
	char	   *again;
	Size		again_len;

	termcounts_view(flat, len, &view);
	merged = termcounts_create(cxt, view.kind, view.capacity);
	termcounts_merge_view(merged, &view);
	again = termcounts_flatten(merged, 0, &again_len);
	if (again_len != len || memcmp(again, flat, len) != 0)
		FUZZ_FAIL("a flat summary read in place and merged flattens to other bytes");
}

static void
count_tags(MemoryContext cxt, const char *data, size_t size)
{
	TermCounts *tc = termcounts_create(cxt, TERMS_TAGS, TERMCOUNT_MIN_CAPACITY);
	TermCounts *parts[2] = {
		termcounts_create(cxt, TERMS_TAGS, TERMCOUNT_MIN_CAPACITY),
		termcounts_create(cxt, TERMS_TAGS, TERMCOUNT_MIN_CAPACITY)
	};
	int			nposts = 0;
	const char *end = data + size;
	const char *post = data;

	while (post <= end)
	{
		const char *post_end = memchr(post, 0xFE, end - post);
		const char *tag = post;
		const char **seen;
		int		   *seen_len;
		int			nseen = 0;

		if (post_end == NULL)
			post_end = end;
		seen = palloc(sizeof(char *) * (post_end - post + 1));
		seen_len = palloc(sizeof(int) * (post_end - post + 1));
		termcounts_add_rows(tc, 1);
		termcounts_add_rows(parts[nposts % 2], 1);
		while (tag <= post_end)
		{
			const char *tag_end = memchr(tag, 0xFF, post_end - tag);
			const char *norm;
			int			normlen;
			bool		dup = false;

			if (tag_end == NULL)
				tag_end = post_end;
			if (is_text(tag, tag_end - tag) &&
				(norm = tag_normalize(tag, tag_end - tag, &normlen)) != NULL &&
				normlen <= TERMCOUNT_MAX_KEY)
			{
				if (!termcounts_tag_is_normal(norm, normlen))
					FUZZ_FAIL("tag_normalize gave \"%s\", which the flat form refuses", norm);
				for (int i = 0; i < nseen && !dup; i++)
					dup = seen_len[i] == normlen && memcmp(seen[i], norm, normlen) == 0;
				if (!dup)
				{
					seen[nseen] = norm;
					seen_len[nseen++] = normlen;
					termcounts_add(tc, norm, normlen, 1);
					termcounts_add(parts[nposts % 2], norm, normlen, 1);
				}
			}
			tag = tag_end + 1;
		}
		post = post_end + 1;
		nposts++;
	}
	round_trip(cxt, tc);
	wire_round_trip(cxt, tc);
	check_one_pass(cxt, tc, parts[0], parts[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	MemoryContext cxt = fuzz_begin();
	sigjmp_buf	jb;
	volatile bool must_not_fail = false;

	if (size == 0)
	{
		fuzz_end(cxt);
		return 0;
	}
	if (sigsetjmp(jb, 0) == 0)
	{
		fuzz_error_jmp = &jb;
		if (data[0] % 4 == 2)
		{
			TermCounts *tc = termcounts_unflatten_state(cxt, (const char *) data + 1, size - 1);

			must_not_fail = true;
			round_trip(cxt, tc);
		}
		else if (data[0] % 4 == 0)
		{
			TermCounts *tc = termcounts_unflatten(cxt, (const char *) data + 1, size - 1);
			Size		len;
			char	   *flat;

			must_not_fail = true;
			flat = termcounts_flatten(tc, 0, &len);
			if (len != size - 1 || memcmp(flat, data + 1, len) != 0)
				FUZZ_FAIL("an accepted flat summary flattens to other bytes");
			check_view(cxt, (const char *) data + 1, size - 1);
		}
		else if (data[0] % 4 == 1)
		{
			TermCounts *tc = recv_wire(cxt, (const char *) data + 1, (int) size - 1);
			StringInfoData wire;

			must_not_fail = true;
			initStringInfo(&wire);
			termcounts_send(tc, &wire);
			if ((size_t) wire.len != size - 1 || memcmp(wire.data, data + 1, wire.len) != 0)
				FUZZ_FAIL("an accepted wire form sends back other bytes");
		}
		else
		{
			must_not_fail = true;
			count_tags(cxt, (const char *) data + 1, size - 1);
		}
	}
	else if (must_not_fail)
		FUZZ_FAIL("an ERROR reading back a summary the code itself made");
	fuzz_end(cxt);
	return 0;
}
