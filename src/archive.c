/*-------------------------------------------------------------------------
 *
 * archive.c
 *	  Module entry of the archive extension: the magic block and the
 *	  archive.* settings.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "archive.h"
#include "termcount.h"

PG_MODULE_MAGIC;

int			archive_summary_capacity = 4096;
/*
 * 64 kB: cmark 0.30.2 parses some inputs in quadratic time, the worst
 * measured ("![[]()" repeated) taking 0.16 s at 64 kB, 0.8 s at 128 kB and
 * 148 s at 1 MB.  The maximum, 16 MB, keeps rendered HTML (at most about 14
 * times the input) far from the 1 GB at which cmark abort()s; see render.c.
 */
int			archive_max_markdown_bytes = 64 * 1024;
int			archive_min_topic_posts = 3;
char	   *archive_topic_url = NULL;
bool		archive_refresh_wait = true;
int			archive_progress_after = 5000;
int			archive_page_references = 100;

/* Every setting of the module, for archive.settings(). */
static const char *const archive_setting_names[] = {
	"archive.summary_capacity",
	"archive.max_markdown_bytes",
	"archive.min_topic_posts",
	"archive.topic_url",
	"archive.refresh_wait",
	"archive.progress_after",
	"archive.page_references",
};

void		_PG_init(void);

/* Define the archive.* settings and reserve the prefix. */
void
_PG_init(void)
{
	DefineCustomIntVariable("archive.summary_capacity",
							"Number of terms a tag or motif summary keeps exactly.",
							"A summary counts exactly until it holds twice this many "
							"distinct terms; then it prunes to this many and records "
							"the largest possible undercount as its error.",
							&archive_summary_capacity,
							4096,
							TERMCOUNT_MIN_CAPACITY,
							TERMCOUNT_MAX_CAPACITY,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("archive.max_markdown_bytes",
							"Largest Markdown text, in bytes, that is parsed.",
							"Longer Markdown is refused with an error, which bounds "
							"the time cmark can spend on any one text.",
							&archive_max_markdown_bytes,
							64 * 1024,
							0,
							16 * 1024 * 1024,
							PGC_SUSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);
	DefineCustomIntVariable("archive.min_topic_posts",
							"Public posts a tag needs to become a topic when no topics are defined.",
							NULL,
							&archive_min_topic_posts,
							3,
							1,
							INT_MAX,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
	DefineCustomStringVariable("archive.topic_url",
							   "Url pattern of topic pages, {slug} standing for the topic; empty for no links.",
							   "When set, an adjacent thread that is itself a topic links to its page.",
							   &archive_topic_url,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);
	DefineCustomBoolVariable("archive.refresh_wait",
							 "Whether a refresh waits for a running one to finish.",
							 "When off, a refresh that finds another one running "
							 "returns at once, saying so.",
							 &archive_refresh_wait,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("archive.progress_after",
							"Time after which a refresh or a load reports its phases as notices.",
							"Once a refresh or a load has run this long, each phase it "
							"starts is reported with a NOTICE; 0 reports every phase, "
							"-1 none.  Other sessions see the phase in "
							"archive.refresh_progress whatever this is.",
							&archive_progress_after,
							5000,
							-1,
							INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("archive.page_references",
							"Posts a topic page lists as references, newest first.",
							"A topic with more posts lists its newest this many and says "
							"how many there are; archive.topic_references pages through "
							"all of them.  Keeps a page, and its refresh, bounded "
							"whatever the size of the topic.",
							&archive_page_references,
							100,
							1,
							100000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
	MarkGUCPrefixReserved("archive");
}

/* archive.settings(): the archive.* settings in force, as jsonb (names without the prefix). */
PG_FUNCTION_INFO_V1(archive_settings);
Datum
archive_settings(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int i = 0; i < (int) lengthof(archive_setting_names); i++)
	{
		const char *name = archive_setting_names[i];

		if (i > 0)
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, name + strlen("archive."));
		appendStringInfoString(&buf, ": ");
		escape_json(&buf, GetConfigOption(name, false, false));
	}
	appendStringInfoChar(&buf, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/*
 * The array items (of *capacity elements of size bytes, n of them used) with
 * room for one more: doubled, in its memory context, when full; too_many is
 * the error when it cannot grow.
 */
void *
room_for_one_more(void *items, int n, int *capacity, Size size, const char *too_many)
{
	if (n < *capacity)
		return items;
	if (*capacity >= (int) (MaxAllocSize / size / 2))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s", too_many)));
	*capacity *= 2;
	return repalloc(items, size * *capacity);
}

/*
 * An iterator over the elements of a text[]: its element type is given, so
 * that array_create_iterator does not look it up in the catalog on every
 * call (once per post in the aggregates).
 */
ArrayIterator
text_array_iterator(ArrayType *array)
{
	ArrayMetaState text_type = {0};

	text_type.element_type = TEXTOID;
	text_type.typlen = -1;
	text_type.typbyval = false;
	text_type.typalign = TYPALIGN_INT;
	return array_create_iterator(array, 0, &text_type);
}
