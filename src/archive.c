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

#include "fmgr.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "archive.h"
#include "termcount.h"

PG_MODULE_MAGIC;

int			archive_summary_capacity = 4096;
int			archive_max_markdown_bytes = 1024 * 1024;
int			archive_min_topic_posts = 3;
char	   *archive_topic_url = NULL;

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
							1024 * 1024,
							0,
							MaxAllocSize / 2,
							PGC_USERSET,
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
	MarkGUCPrefixReserved("archive");
}
