/*-------------------------------------------------------------------------
 *
 * fuzz_motifs.c
 *	  libFuzzer target over the title tokeniser and motif counting of
 *	  src/motifs.c (included here unchanged, so that its static functions
 *	  can be reached), with src/termcount.c and src/textnorm.c, and shim.c.
 *
 * An input is titles split at 0xFE bytes (invalid UTF-8 and NUL bytes are
 * left out, as text never holds them); its first byte picks the summary's
 * capacity (16, so that it prunes, or 4096).  Each title goes through
 * add_title() as archive.title_terms_agg adds it, with a filler list and a
 * stand-in text-search configuration whose one dictionary stems by cutting
 * "s", "ing" or "ed", knows no word starting with "q", and has the stop
 * words "the", "and", "of" (the real dictionaries need a server).  Checked:
 * no crash, no ASan/UBSan report, no assertion, and the summary made must
 * flatten, read back without an ERROR and flatten to the same bytes.
 *
 *-------------------------------------------------------------------------
 */
#include "../../src/motifs.c"

#include "shim.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---------- the stand-in configuration ---------- */

#define FAKE_CONFIG 900001
#define FAKE_DICT 900002

static Datum
fake_lexize(PG_FUNCTION_ARGS)
{
	const char *word = (const char *) PG_GETARG_POINTER(1);
	int			len = PG_GETARG_INT32(2);
	TSLexeme   *res;
	int			stemlen = len;

	if (len > 0 && word[0] == 'q')
		PG_RETURN_POINTER(NULL);
	res = palloc0(sizeof(TSLexeme) * 2);
	if ((len == 3 && memcmp(word, "the", 3) == 0) || (len == 3 && memcmp(word, "and", 3) == 0) ||
		(len == 2 && memcmp(word, "of", 2) == 0))
		PG_RETURN_POINTER(res);	/* a stop word: no lexeme */
	if (len > 3 && memcmp(word + len - 3, "ing", 3) == 0)
		stemlen = len - 3;
	else if (len > 2 && memcmp(word + len - 2, "ed", 2) == 0)
		stemlen = len - 2;
	else if (len > 1 && word[len - 1] == 's')
		stemlen = len - 1;
	res[0].lexeme = pnstrdup(word, stemlen);
	PG_RETURN_POINTER(res);
}

static Oid	fake_dict_ids[1] = {FAKE_DICT};
static ListDictionary fake_map[4] = {{0, NULL}, {1, fake_dict_ids}, {1, fake_dict_ids}, {1, fake_dict_ids}};
static TSConfigCacheEntry fake_config = {FAKE_CONFIG, true, DEFAULT_TS_PARSER_OID, 4, fake_map};
static TSDictionaryCacheEntry fake_dict;

TSConfigCacheEntry *
lookup_ts_config_cache(Oid cfgId)
{
	if (cfgId != FAKE_CONFIG)
		FUZZ_FAIL("unknown text search configuration %u", cfgId);
	return &fake_config;
}

TSDictionaryCacheEntry *
lookup_ts_dictionary_cache(Oid dictId)
{
	if (dictId != FAKE_DICT)
		FUZZ_FAIL("unknown dictionary %u", dictId);
	fake_dict.dictId = FAKE_DICT;
	fake_dict.isvalid = true;
	fake_dict.lexize.fn_addr = fake_lexize;
	fake_dict.lexize.fn_nargs = 4;
	return &fake_dict;
}

Datum
FunctionCall4Coll(FmgrInfo *flinfo, Oid collation, Datum arg1, Datum arg2, Datum arg3, Datum arg4)
{
	LOCAL_FCINFO(fcinfo, 4);
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, flinfo, 4, collation, NULL, NULL);
	fcinfo->args[0].value = arg1;
	fcinfo->args[1].value = arg2;
	fcinfo->args[2].value = arg3;
	fcinfo->args[3].value = arg4;
	for (int i = 0; i < 4; i++)
		fcinfo->args[i].isnull = false;
	result = flinfo->fn_addr(fcinfo);
	if (fcinfo->isnull)
		FUZZ_FAIL("dictionary returned NULL");
	return result;
}

/* ---------- the target ---------- */

/* The cache motif_cache() would make, with a filler list of its own. */
static MotifCache *
fake_cache(MemoryContext cxt)
{
	static const char *const fillers[] = {"really", "here's", "heres", "things", "new", "it's", "don't"};
	MotifCache *cache = MemoryContextAllocZero(cxt, sizeof(MotifCache));
	bool		found;

	cache->fillers = wordtab_create(cxt, 64, NULL);
	for (int i = 0; i < (int) lengthof(fillers); i++)
		wordtab_insert(cache->fillers, word_key(fillers[i], strlen(fillers[i])), &found);
	cache->stems_mcxt = AllocSetContextCreate(cxt, "fuzz stem cache", ALLOCSET_DEFAULT_SIZES);
	cache->stems = wordtab_create(cache->stems_mcxt, 1024, NULL);
	cache->cfgid = cache->english = FAKE_CONFIG;
	/* non-ASCII titles folded one character at a time through the cache (as in a libc database) */
	cache->fold = fold_cache_create(cxt);
	cache->buflen = 256;
	cache->buf = MemoryContextAlloc(cxt, cache->buflen);
	cache->maxwords = 16;
	cache->words = MemoryContextAlloc(cxt, sizeof(Motif) * cache->maxwords);
	return cache;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	MemoryContext cxt = fuzz_begin();
	sigjmp_buf	jb;

	if (size == 0)
	{
		fuzz_end(cxt);
		return 0;
	}
	if (sigsetjmp(jb, 0) == 0)
	{
		TermCounts *tc;
		MotifCache *cache;
		const char *end = (const char *) data + size;
		const char *title = (const char *) data + 1;
		Size		len;
		Size		len2;
		char	   *flat;
		char	   *flat2;

		fuzz_error_jmp = &jb;
		tc = termcounts_create(cxt, TERMS_MOTIFS, data[0] % 2 ? TERMCOUNT_MIN_CAPACITY : 4096);
		cache = fake_cache(cxt);
		while (title <= end)
		{
			const char *title_end = memchr(title, 0xFE, end - title);
			int			n;
			text	   *t;

			if (title_end == NULL)
				title_end = end;
			n = title_end - title;
			termcounts_add_rows(tc, 1);
			if (pg_encoding_verifymbstr(PG_UTF8, title, n) == n)
			{
				t = palloc(VARHDRSZ + n);
				SET_VARSIZE(t, VARHDRSZ + n);
				memcpy(VARDATA(t), title, n);
				add_title(tc, cache, t);
			}
			title = title_end + 1;
		}
		flat = termcounts_flatten(tc, 0, &len);
		flat2 = termcounts_flatten(termcounts_unflatten(cxt, flat, len), 0, &len2);
		if (len != len2 || memcmp(flat, flat2, len) != 0)
			FUZZ_FAIL("a motif summary read back from its flat form flattens differently");
	}
	else
		FUZZ_FAIL("an ERROR counting titles or reading back their summary");
	fuzz_end(cxt);
	return 0;
}
