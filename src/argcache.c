/*-------------------------------------------------------------------------
 *
 * argcache.c
 *	  A value derived from a function argument, kept for the calls of one
 *	  query while the argument's bytes stay the same.
 *
 * Some functions are called once per topic or per topic month with one
 * argument that is the same for every call: the whole archive's tag summary
 * (archive.adjacent_tags), the keys of every changed post
 * (archive.references_merge).  Reading it into a table on each call would
 * cost each call as much as its own work.  The cache lives in the call
 * site's fn_extra, in a memory context of its own under fn_mcxt, and holds
 * a copy of the argument's bytes: a call with the same bytes gets the value
 * built before, a call with other bytes drops it and builds a new one.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "argcache.h"

/* What fn_extra holds: the bytes the value was built from, and the value. */
typedef struct ArgCache
{
	MemoryContext context;		/* holds this struct, the bytes and the value */
	char	   *bytes;
	Size		len;
	void	   *value;
} ArgCache;

/*
 * The value build derives from the len bytes at data, built (in the cache's
 * memory, from a copy of the bytes) only when the last call's bytes differ.
 */
void *
argcache_value(FmgrInfo *flinfo, const void *data, Size len, ArgCacheBuild build)
{
	ArgCache   *cache = flinfo->fn_extra;
	MemoryContext context;
	MemoryContext old;

	if (cache != NULL && cache->len == len && memcmp(cache->bytes, data, len) == 0)
		return cache->value;
	if (cache != NULL)
		MemoryContextDelete(cache->context);
	/* a build that fails leaves no cache behind (its context goes with fn_mcxt) */
	flinfo->fn_extra = NULL;
	context = AllocSetContextCreate(flinfo->fn_mcxt, "archive argument cache", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(context);
	cache = palloc(sizeof(ArgCache));
	cache->context = context;
	cache->bytes = palloc(Max(len, 1));
	memcpy(cache->bytes, data, len);
	cache->len = len;
	cache->value = build(cache->bytes, len);
	MemoryContextSwitchTo(old);
	flinfo->fn_extra = cache;
	return cache->value;
}
