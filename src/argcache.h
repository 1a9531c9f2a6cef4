/*-------------------------------------------------------------------------
 *
 * argcache.h
 *	  A value derived from a function argument, kept for the calls of one
 *	  query while the argument's bytes stay the same.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ARCHIVE_ARGCACHE_H
#define ARCHIVE_ARGCACHE_H

#include "fmgr.h"

/* Derives the cached value from a copy of the argument's bytes (it may point into them). */
typedef void *(*ArgCacheBuild) (const char *bytes, Size len);

extern void *argcache_value(FmgrInfo *flinfo, const void *data, Size len, ArgCacheBuild build);

#endif							/* ARCHIVE_ARGCACHE_H */
