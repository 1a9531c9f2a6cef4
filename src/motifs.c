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
 * Stems and the filler list are cached per query in fn_extra; the stem cache
 * is emptied when it exceeds MOTIF_CACHE_WORDS words, so memory stays bounded.
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
#include "tsearch/ts_cache.h"
#include "tsearch/ts_public.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

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

/* A cached word: its stem, or NULL when it is no motif. */
typedef struct StemEntry
{
	const char *word;
	char	   *stem;
	uint32		hash;
	char		status;
} StemEntry;

#define SH_PREFIX wordtab
#define SH_ELEMENT_TYPE StemEntry
#define SH_KEY_TYPE const char *
#define SH_KEY word
#define SH_HASH_KEY(tb, k) hash_bytes((const unsigned char *) (k), strlen(k))
#define SH_EQUAL(tb, a, b) (strcmp((a), (b)) == 0)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* Per-query cache of one configuration's stems and of the filler list. */
typedef struct MotifCache
{
	Oid			cfgid;
	MemoryContext stems_mcxt;	/* holds stems; reset when full */
	wordtab_hash *stems;
	wordtab_hash *fillers;
} MotifCache;

/* A word of the title being added, with its stem. */
typedef struct TitleWord
{
	const char *stem;
	const char *word;
	int			position;
} TitleWord;

/* The words of one title, gathered by the tokeniser. */
typedef struct TitleWords
{
	MotifCache *cache;
	TitleWord  *words;
	int			nwords;
	int			maxwords;
} TitleWords;

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
 * copied into buf (apostrophes written as ').  buf must hold len + 1 bytes.
 */
static void
tokenize(const char *text, int len, char *buf,
		 void (*emit) (char *word, int wordlen, void *arg), void *arg)
{
	const unsigned char *p = (const unsigned char *) text;
	const unsigned char *end = p + len;
	int			n = 0;

	while (p < end)
	{
		int			charlen;
		int			apos;

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
				p += apos;
				continue;
			}
		}
		if (n > 0)
		{
			buf[n] = '\0';
			emit(buf, n, arg);
			n = 0;
		}
		p += charlen;
	}
	if (n > 0)
	{
		buf[n] = '\0';
		emit(buf, n, arg);
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
		wordtab_insert(cache->fillers, MemoryContextStrdup(mcxt, folded), &found);
	}
	SPI_finish();
}

/* The per-query cache for a configuration, created on first use. */
static MotifCache *
motif_cache(FunctionCallInfo fcinfo, Oid cfgid)
{
	MotifCache *cache = fcinfo->flinfo->fn_extra;
	MemoryContext mcxt = fcinfo->flinfo->fn_mcxt;

	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(mcxt, sizeof(MotifCache));
		cache->fillers = wordtab_create(mcxt, 64, NULL);
		load_fillers(cache, mcxt);
		cache->stems_mcxt = AllocSetContextCreate(mcxt, "archive stem cache", ALLOCSET_DEFAULT_SIZES);
		fcinfo->flinfo->fn_extra = cache;
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

/* The stem of a word, through the cache; NULL when it is no motif. */
static const char *
cached_stem(MotifCache *cache, const char *word, int len)
{
	StemEntry  *entry;
	bool		found;

	entry = wordtab_insert(cache->stems, word, &found);
	if (!found)
	{
		MemoryContext old = MemoryContextSwitchTo(cache->stems_mcxt);

		entry->word = pnstrdup(word, len);
		entry->stem = lexize(cache->cfgid, word, len);
		MemoryContextSwitchTo(old);
	}
	return entry->stem;
}

/* Whether a word is on the filler list. */
static bool
is_filler(MotifCache *cache, const char *word)
{
	return wordtab_lookup(cache->fillers, word) != NULL;
}

/* Steps 3 and 4 for one apostrophe-free part of a word. */
static void
add_word_part(TitleWords *tw, char *part, int len)
{
	bool		digits = true;
	const char *stem;

	if (len > MOTIF_MAX_WORD || pg_mbstrlen_with_len(part, len) < 2)
		return;
	for (int i = 0; i < len && digits; i++)
		digits = part[i] >= '0' && part[i] <= '9';
	if (digits || is_filler(tw->cache, part))
		return;
	stem = cached_stem(tw->cache, part, len);
	if (stem == NULL)
		return;
	if (tw->nwords == tw->maxwords)
	{
		tw->maxwords *= 2;
		tw->words = repalloc(tw->words, sizeof(TitleWord) * tw->maxwords);
	}
	tw->words[tw->nwords].stem = stem;
	tw->words[tw->nwords].word = pnstrdup(part, len);
	tw->words[tw->nwords].position = tw->nwords;
	tw->nwords++;
}

/* Step 2 for one word from the tokeniser, then steps 3 and 4 on its parts. */
static void
add_word(char *word, int len, void *arg)
{
	TitleWords *tw = arg;
	char	   *part = word;

	if (len > MOTIF_MAX_WORD || is_filler(tw->cache, word))
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
			add_word_part(tw, part, word + i - part);
			part = word + i + 1;
		}
	}
}

/* Order title words by stem, then position, to keep each stem's first word. */
static int
titleword_compare(const void *a, const void *b)
{
	const TitleWord *x = a;
	const TitleWord *y = b;
	int			cmp = strcmp(x->stem, y->stem);

	if (cmp != 0)
		return cmp;
	return x->position - y->position;
}

/* Add one title to a motif summary: each stem once, with its first word. */
static void
add_title(TermCounts *tc, MotifCache *cache, text *title)
{
	int			len;
	char	   *folded = fold_case(VARDATA_ANY(title), VARSIZE_ANY_EXHDR(title), &len);
	TitleWords	tw = {cache, palloc(sizeof(TitleWord) * 16), 0, 16};

	tokenize(folded, len, palloc(len + 1), add_word, &tw);
	qsort(tw.words, tw.nwords, sizeof(TitleWord), titleword_compare);
	for (int i = 0; i < tw.nwords; i++)
	{
		int			stemlen;
		int			wordlen;
		char	   *key;

		if (i > 0 && strcmp(tw.words[i - 1].stem, tw.words[i].stem) == 0)
			continue;
		stemlen = strlen(tw.words[i].stem);
		wordlen = strlen(tw.words[i].word);
		if (stemlen + 1 + wordlen > TERMCOUNT_MAX_KEY * 2 + 1)
			continue;
		key = palloc(stemlen + 1 + wordlen);
		memcpy(key, tw.words[i].stem, stemlen);
		key[stemlen] = '\0';
		memcpy(key + stemlen + 1, tw.words[i].word, wordlen);
		termcounts_add(tc, key, stemlen + 1 + wordlen, 1);
	}
}

/* The configuration argument at argno, or pg_catalog.english when absent. */
static Oid
config_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_NARGS() > argno)
	{
		if (PG_ARGISNULL(argno))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("text search configuration must not be null")));
		return PG_GETARG_OID(argno);
	}
	return get_ts_config_oid(list_make2(makeString("pg_catalog"), makeString("english")), false);
}

/* Count one title (argument 1) into the state, with the configuration at cfg_argno. */
static Datum
title_trans(FunctionCallInfo fcinfo, TermAggState *state, int cfg_argno)
{
	MotifCache *cache = motif_cache(fcinfo, config_arg(fcinfo, cfg_argno));

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
