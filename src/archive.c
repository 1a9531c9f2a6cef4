/*-------------------------------------------------------------------------
 *
 * archive.c
 *	  Module entry of the archive extension: the magic block and the
 *	  archive.* settings.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "archive.h"
#include "termcount.h"

PG_MODULE_MAGIC;

int			archive_summary_capacity = 4096;
int			archive_max_markdown_bytes = 1024 * 1024;

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
	MarkGUCPrefixReserved("archive");
}
