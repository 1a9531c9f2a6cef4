/*-------------------------------------------------------------------------
 *
 * motifs.c
 *	  Title motifs: the title tokeniser, stemming through a text-search
 *	  configuration (cached per word), the filler list, and the transition
 *	  functions of archive.title_terms_agg and archive.title_motifs.
 *
 * A title becomes motif candidates in four steps:
 *
 * 1. Fold case (textnorm.c) and split into words.  A word is a run of ASCII
 *	  letters and digits and of non-ASCII characters other than punctuation,
 *	  symbols and emoji (see is_word_char).  An apostrophe (' or U+2019)
 *	  between two word characters stays inside the word; every other
 *	  character separates words, so "AI-Native" gives "ai" and "native", and
 *	  "Go 1.22" gives "go", "1" and "22".
 * 2. Drop filler: a word listed in archive.filler_words (headline filler such
 *	  as "actually", "here's", "things") is no motif.  A trailing "'s" is then
 *	  removed ("Go's" -> "go"), and what is left is split at apostrophes.
 * 3. Drop words of one character, words of digits only (numbers are no
 *	  motifs), and words longer than MOTIF_MAX_WORD bytes.
 * 4. Stem through the configuration: the word goes to the dictionaries the
 *	  configuration maps to its token type (asciiword, word or numword of the
 *	  default parser), in order, as to_tsvector does; the first dictionary
 *	  that recognises it gives the stem (its first lexeme).  A stop word, or
 *	  a word no dictionary recognises, is no motif.
 *
 * Each stem counts once per title, with the first surface word that gave it;
 * the summary keys are "stem NUL word" so the shown word can be chosen as
 * the stem's most frequent surface form (summary.c).
 *
 * Speed.  Every word is looked up once in a per-query cache (fn_extra) that
 * holds its verdict after steps 3 and 4 (no motif, or its stem), and the key
 * the summary counts it under with that key's hash, so a title costs one
 * pass over its bytes, one cache probe per word and one summary probe per
 * stem; nothing is allocated for an ASCII title, which is folded on the way,
 * and other titles fold one character at a time through a FoldCache
 * (textnorm.c).  The word cache is emptied when it exceeds MOTIF_CACHE_WORDS
 * words, so memory stays bounded.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "nodes/value.h"
#include "port/pg_bswap.h"
#include "tsearch/ts_cache.h"
#include "tsearch/ts_public.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "archive.h"
#include "summary.h"
#include "textnorm.h"

/* OID of the default text-search parser (pg_ts_parser.dat), whose token types we use. */
#define DEFAULT_TS_PARSER_OID 3722
/* Token types of the default parser. */
#define TOKEN_ASCIIWORD 1
#define TOKEN_WORD 2
#define TOKEN_NUMWORD 3

/* Longest word considered, in bytes. */
#define MOTIF_MAX_WORD 100
/* Stem cache size at which it is emptied. */
#define MOTIF_CACHE_WORDS 100000

/* Longest word kept in its cache entry itself (a probe then touches one cache line). */
#define WORD_INLINE 16

/* A word of len bytes (not NUL-terminated): in the struct when it fits. */
typedef struct WordKey
{
	int			len;
	union
	{
		const char *ptr;
		char		bytes[WORD_INLINE];
	}			u;
} WordKey;

/* The bytes of a word. */
static inline const char *
word_str(const WordKey *word)
{
	return word->len <= WORD_INLINE ? word->u.bytes : word->u.ptr;
}

/* A word key for len bytes at str (a short word is copied, a long one pointed at). */
static inline WordKey
word_key(const char *str, int len)
{
	WordKey		word;

	word.len = len;
	if (len <= WORD_INLINE)
		memcpy(word.u.bytes, str, len);
	else
		word.u.ptr = str;
	return word;
}

/*
 * What a word (apostrophe-free, folded) gives: its stem, or NULL when it is
 * no motif, and the summary key "stem NUL word" with its termcounts_hash (key
 * NULL when the key would be too long to count).
 */
typedef struct Motif
{
	const char *stem;
	uint64		stemprefix;		/* the stem's first 8 bytes, big-endian, 0-padded */
	const char *key;
	uint32		keylen;
	uint32		keyhash;
} Motif;

/* A cached word and its motif. */
typedef struct StemEntry
{
	WordKey		word;
	uint32		hash;
	char		status;
	Motif		motif;
} StemEntry;

#define SH_PREFIX wordtab
#define SH_ELEMENT_TYPE StemEntry
#define SH_KEY_TYPE WordKey
#define SH_KEY word
#define SH_HASH_KEY(tb, k) hash_bytes((const unsigned char *) word_str(&(k)), (k).len)
#define SH_EQUAL(tb, a, b) ((a).len == (b).len && memcmp(word_str(&(a)), word_str(&(b)), (a).len) == 0)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/*
 * Per-query cache of one configuration's stems and of the filler list, and
 * the buffers a title is taken apart in (reused from title to title).
 */
typedef struct MotifCache
{
	Oid			cfgid;
	Oid			english;		/* pg_catalog.english, the default configuration */
	MemoryContext stems_mcxt;	/* holds stems; reset when full */
	wordtab_hash *stems;
	wordtab_hash *fillers;
	FoldCache  *fold;			/* folds non-ASCII titles; NULL: fold_case */
	char	   *buf;			/* the word being cut out of a title */
	int			buflen;
	Motif	   *words;			/* the motifs of the title's words, in order */
	int			nwords;
	int			maxwords;
} MotifCache;

/*
 * Length of the UTF-8 character at p (at most len bytes) and whether it
 * belongs in a word.  Separators: ASCII other than letters and digits, Latin-1
 * punctuation and symbols, General Punctuation, CJK punctuation, full-width
 * ASCII punctuation, and emoji and other symbols from U+2190 and U+1F000 on.
 */
static bool
is_word_char(const unsigned char *p, int len, int *charlen)
{
	uint32		cp;

	if (p[0] < 0x80)
	{
		*charlen = 1;
		return (p[0] >= 'a' && p[0] <= 'z') || (p[0] >= '0' && p[0] <= '9') ||
			(p[0] >= 'A' && p[0] <= 'Z');
	}
	*charlen = pg_utf_mblen(p);
	if (*charlen > len || *charlen < 2)
	{
		*charlen = 1;
		return false;
	}
	cp = utf8_to_unicode(p);
	if (cp < 0xC0)
		return cp == 0xAA || cp == 0xB5 || cp == 0xBA;
	if (cp == 0xD7 || cp == 0xF7)
		return false;
	if ((cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) ||
		(cp >= 0xFF00 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
		cp >= 0x1F000 || (cp >= 0xFE00 && cp <= 0xFE0F))
		return false;
	return true;
}

/* Length of the apostrophe at p (' or U+2019), or 0. */
static int
apostrophe_len(const unsigned char *p, int len)
{
	if (p[0] == '\'')
		return 1;
	if (len >= 3 && p[0] == 0xE2 && p[1] == 0x80 && p[2] == 0x99)
		return 3;
	return 0;
}

/*
 * Split folded text into words (step 1), calling emit for each with the word
 * copied into buf (apostrophes written as ') and whether it holds one.  buf
 * must hold len + 1 bytes.  With fold_ascii the text is ASCII not yet folded,
 * and is folded on the way (as fold_case would).
 */
static void
tokenize(const char *text, int len, bool fold_ascii, char *buf,
		 void (*emit) (char *word, int wordlen, bool apostrophe, void *arg), void *arg)
{
	const unsigned char *p = (const unsigned char *) text;
	const unsigned char *end = p + len;
	int			n = 0;
	bool		apostrophe = false;

	while (p < end)
	{
		int			charlen;
		int			apos;

		if (p[0] < 0x80 && ((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z'))
		{
			buf[n++] = fold_ascii ? (p[0] | 0x20) : p[0];
			p++;
			continue;
		}
		if (is_word_char(p, end - p, &charlen))
		{
			memcpy(buf + n, p, charlen);
			n += charlen;
			p += charlen;
			continue;
		}
		apos = apostrophe_len(p, end - p);
		if (apos > 0 && n > 0 && p + apos < end)
		{
			int			nextlen;

			if (is_word_char(p + apos, end - p - apos, &nextlen))
			{
				buf[n++] = '\'';
				apostrophe = true;
				p += apos;
				continue;
			}
		}
		if (n > 0)
		{
			buf[n] = '\0';
			emit(buf, n, apostrophe, arg);
			n = 0;
			apostrophe = false;
		}
		p += charlen;
	}
	if (n > 0)
	{
		buf[n] = '\0';
		emit(buf, n, apostrophe, arg);
	}
}

/* Token type the default parser gives a word: asciiword, word or numword. */
static int
token_type(const char *word, int len)
{
	bool		ascii = true;

	for (int i = 0; i < len; i++)
	{
		if (word[i] >= '0' && word[i] <= '9')
			return TOKEN_NUMWORD;
		if ((unsigned char) word[i] >= 0x80)
			ascii = false;
	}
	return ascii ? TOKEN_ASCIIWORD : TOKEN_WORD;
}

/*
 * Stem a word through the configuration's dictionaries (step 4); returns a
 * palloc'd stem, or NULL for a stop word or an unrecognised word.
 */
static char *
lexize(Oid cfgid, const char *word, int len)
{
	TSConfigCacheEntry *cfg = lookup_ts_config_cache(cfgid);
	int			type = token_type(word, len);
	ListDictionary *map;

	if (type >= cfg->lenmap)
		return NULL;
	map = &cfg->map[type];
	for (int i = 0; i < map->len; i++)
	{
		TSDictionaryCacheEntry *dict = lookup_ts_dictionary_cache(map->dictIds[i]);
		DictSubState dstate = {false, false, NULL};
		TSLexeme   *res;

		res = (TSLexeme *) DatumGetPointer(FunctionCall4(&dict->lexize,
														 PointerGetDatum(dict->dictData),
														 PointerGetDatum(word),
														 Int32GetDatum(len),
														 PointerGetDatum(&dstate)));
		if (res == NULL)
			continue;			/* not recognised: ask the next dictionary */
		if (res[0].lexeme == NULL || res[0].lexeme[0] == '\0')
			return NULL;		/* a stop word */
		return pstrdup(res[0].lexeme);
	}
	return NULL;
}

/* Load archive.filler_words into the cache's filler set. */
static void
load_fillers(MotifCache *cache, MemoryContext mcxt)
{
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "archive: SPI_connect failed");
	ret = SPI_execute("SELECT word FROM archive.filler_words", true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "archive: reading archive.filler_words failed: %s",
			 SPI_result_code_string(ret));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *word = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		int			len;
		char	   *folded;
		bool		found;

		if (word == NULL)
			continue;
		folded = fold_case(word, strlen(word), &len);
		wordtab_insert(cache->fillers, word_key(MemoryContextStrdup(mcxt, folded), len), &found);
	}
	SPI_finish();
}

/*
 * The per-query cache, created on first use, for the configuration at argno
 * (pg_catalog.english when the aggregate has no such argument).
 */
static MotifCache *
motif_cache(FunctionCallInfo fcinfo, int argno)
{
	MotifCache *cache = fcinfo->flinfo->fn_extra;
	MemoryContext mcxt = fcinfo->flinfo->fn_mcxt;
	Oid			cfgid;

	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(mcxt, sizeof(MotifCache));
		cache->fillers = wordtab_create(mcxt, 64, NULL);
		load_fillers(cache, mcxt);
		cache->stems_mcxt = AllocSetContextCreate(mcxt, "archive stem cache", ALLOCSET_DEFAULT_SIZES);
		cache->english = get_ts_config_oid(list_make2(makeString("pg_catalog"),
													  makeString("english")), false);
		cache->fold = fold_cache_create(mcxt);
		cache->buflen = 256;
		cache->buf = MemoryContextAlloc(mcxt, cache->buflen);
		cache->maxwords = 16;
		cache->words = MemoryContextAlloc(mcxt, sizeof(Motif) * cache->maxwords);
		fcinfo->flinfo->fn_extra = cache;
	}
	cfgid = cache->english;
	if (PG_NARGS() > argno)
	{
		if (PG_ARGISNULL(argno))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("text search configuration must not be null")));
		cfgid = PG_GETARG_OID(argno);
	}
	if (cache->cfgid != cfgid || cache->stems == NULL ||
		cache->stems->members > MOTIF_CACHE_WORDS)
	{
		if (lookup_ts_config_cache(cfgid)->prsId != DEFAULT_TS_PARSER_OID)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("title motifs need a text search configuration that uses the default parser")));
		MemoryContextReset(cache->stems_mcxt);
		cache->stems = wordtab_create(cache->stems_mcxt, 1024, NULL);
		cache->cfgid = cfgid;
	}
	return cache;
}

/* Whether a word of len bytes is on the filler list. */
static bool
is_filler(MotifCache *cache, const char *word, int len)
{
	return wordtab_lookup(cache->fillers, word_key(word, len)) != NULL;
}

/*
 * Steps 3 and 4 for a NUL-terminated, apostrophe-free word: its stem, or NULL
 * when it is no motif.  Palloc'd in the current context.
 */
static char *
part_stem(MotifCache *cache, const char *part, int len)
{
	bool		digits = true;

	if (pg_mbstrlen_with_len(part, len) < 2)
		return NULL;
	for (int i = 0; i < len && digits; i++)
		digits = part[i] >= '0' && part[i] <= '9';
	if (digits || is_filler(cache, part, len))
		return NULL;
	return lexize(cache->cfgid, part, len);
}

/*
 * The motif of an apostrophe-free word (part) of len bytes, through the cache
 * (its strings live as long as the cache; the entry itself may move).
 */
static Motif
cached_motif(MotifCache *cache, const char *part, int len)
{
	StemEntry  *entry;
	bool		found;
	MemoryContext old;
	Motif		motif = {NULL, 0, NULL, 0, 0};
	int			stemlen;
	char	   *key;
	uint64		prefix = 0;

	entry = wordtab_insert(cache->stems, word_key(part, len), &found);
	if (found)
		return entry->motif;
	old = MemoryContextSwitchTo(cache->stems_mcxt);
	if (len > WORD_INLINE)
		entry->word.u.ptr = pnstrdup(part, len);
	motif.stem = part_stem(cache, part, len);
	if (motif.stem != NULL)
	{
		memcpy(&prefix, motif.stem, Min(strlen(motif.stem), 8));
		motif.stemprefix = pg_ntoh64(prefix);
	}
	if (motif.stem != NULL && (stemlen = strlen(motif.stem)) + 1 + len <= TERMCOUNT_MAX_KEY * 2 + 1)
	{
		key = palloc(stemlen + 1 + len);
		memcpy(key, motif.stem, stemlen + 1);
		memcpy(key + stemlen + 1, part, len);
		motif.key = key;
		motif.keylen = stemlen + 1 + len;
		motif.keyhash = termcounts_hash(key, motif.keylen);
	}
	MemoryContextSwitchTo(old);
	entry->motif = motif;
	return motif;
}

/* Steps 3 and 4 for one apostrophe-free part of a word: keep it when it is a motif. */
static void
add_word_part(MotifCache *cache, const char *part, int len)
{
	Motif		motif = cached_motif(cache, part, len);

	if (motif.stem == NULL)
		return;
	cache->words = room_for_one_more(cache->words, cache->nwords, &cache->maxwords, sizeof(Motif),
									 "too many words in one title");
	cache->words[cache->nwords++] = motif;
}

/* Step 2 for one word from the tokeniser, then steps 3 and 4 on its parts. */
static void
add_word(char *word, int len, bool apostrophe, void *arg)
{
	MotifCache *cache = arg;
	char	   *part = word;

	if (len > MOTIF_MAX_WORD)
		return;
	/* no apostrophe: the word is its one part, whose verdict covers the filler list */
	if (!apostrophe)
	{
		add_word_part(cache, word, len);
		return;
	}
	if (is_filler(cache, word, len))
		return;
	if (len > 2 && word[len - 2] == '\'' && word[len - 1] == 's')
	{
		len -= 2;
		word[len] = '\0';
	}
	for (int i = 0; i <= len; i++)
	{
		if (i == len || word[i] == '\'')
		{
			word[i] = '\0';
			add_word_part(cache, part, word + i - part);
			part = word + i + 1;
		}
	}
}

/*
 * strcmp of two motifs' stems, mostly decided by their 8-byte prefixes (the
 * zero padding orders a shorter stem first, as its NUL does for strcmp).
 */
static inline int
stem_cmp(const Motif *a, const Motif *b)
{
	if (a->stemprefix != b->stemprefix)
		return a->stemprefix < b->stemprefix ? -1 : 1;
	if ((a->stemprefix & 0xFF) == 0)
		return 0;				/* equal, both shorter than 8 bytes */
	return strcmp(a->stem + 8, b->stem + 8);
}

/* Order of pointers into a title's motifs: by stem, then by position (stable). */
static int
motif_ptr_cmp(const void *a, const void *b)
{
	const Motif *x = *(const Motif *const *) a;
	const Motif *y = *(const Motif *const *) b;
	int			cmp = stem_cmp(x, y);

	if (cmp != 0)
		return cmp;
	return (x > y) - (x < y);
}

/*
 * Add one title to a motif summary: each stem once, with its first word, in
 * the order of the stems' bytes (the order matters once the summary prunes).
 */
static void
add_title(TermCounts *tc, MotifCache *cache, text *title)
{
	const char *str = VARDATA_ANY(title);
	int			len = VARSIZE_ANY_EXHDR(title);
	bool		ascii = true;
	Motif	   *words;

	for (int i = 0; i < len && ascii; i++)
		ascii = (unsigned char) str[i] < 0x80;
	if (!ascii)
		str = cache->fold != NULL ? fold_case_cached(cache->fold, str, len, &len)
			: fold_case(str, len, &len);
	if (cache->buflen < len + 1)
	{
		cache->buf = repalloc(cache->buf, len + 1);
		cache->buflen = len + 1;
	}
	cache->nwords = 0;
	tokenize(str, len, ascii, cache->buf, add_word, cache);

	/*
	 * A long title (a 1 MB one has some 100,000 words): sort pointers, ties
	 * by position, in n log n; insertion sort would be quadratic.  Same order.
	 */
	if (cache->nwords > 64)
	{
		Motif	  **sorted = palloc(sizeof(Motif *) * cache->nwords);

		for (int i = 0; i < cache->nwords; i++)
			sorted[i] = &cache->words[i];
		qsort(sorted, cache->nwords, sizeof(Motif *), motif_ptr_cmp);
		for (int i = 0; i < cache->nwords; i++)
		{
			if (i > 0 && stem_cmp(sorted[i - 1], sorted[i]) == 0)
				continue;
			if (sorted[i]->key != NULL)
				termcounts_add_hashed(tc, sorted[i]->key, sorted[i]->keylen, sorted[i]->keyhash, 1);
		}
		pfree(sorted);
		return;
	}

	/* insertion sort by stem, stable: a stem's first word comes first */
	words = cache->words;
	for (int i = 1; i < cache->nwords; i++)
	{
		Motif		word = words[i];
		int			j = i;

		for (; j > 0 && stem_cmp(&words[j - 1], &word) > 0; j--)
			words[j] = words[j - 1];
		words[j] = word;
	}
	/* the table slots of all the title's words first, so that their cache misses overlap */
	for (int i = 0; i < cache->nwords; i++)
		if (words[i].key != NULL)
			termcounts_prefetch(tc, words[i].keyhash);
	for (int i = 0; i < cache->nwords; i++)
	{
		if (i > 0 && stem_cmp(&words[i - 1], &words[i]) == 0)
			continue;
		if (words[i].key != NULL)
			termcounts_add_hashed(tc, words[i].key, words[i].keylen, words[i].keyhash, 1);
	}
}

/* Count one title (argument 1) into the state, with the configuration at cfg_argno. */
static Datum
title_trans(FunctionCallInfo fcinfo, TermAggState *state, int cfg_argno)
{
	MotifCache *cache = motif_cache(fcinfo, cfg_argno);

	termcounts_add_rows(state->counts, 1);
	if (!PG_ARGISNULL(1))
		add_title(state->counts, cache, PG_GETARG_TEXT_PP(1));
	PG_RETURN_POINTER(state);
}

/* Transition of archive.title_terms_agg(title [, config]). */
PG_FUNCTION_INFO_V1(archive_title_terms_trans);
Datum
archive_title_terms_trans(PG_FUNCTION_ARGS)
{
	return title_trans(fcinfo, termagg_state(fcinfo, TERMS_MOTIFS), 2);
}

/* Transition of archive.title_motifs(title, k [, config]). */
PG_FUNCTION_INFO_V1(archive_title_motifs_trans);
Datum
archive_title_motifs_trans(PG_FUNCTION_ARGS)
{
	TermAggState *state = termagg_state(fcinfo, TERMS_MOTIFS);

	termagg_set_limit(state, fcinfo, 2);
	return title_trans(fcinfo, state, 3);
}
