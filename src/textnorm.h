/*-------------------------------------------------------------------------
 *
 * textnorm.h
 *	  Text normalisation shared by tags and title words: case folding and
 *	  the one tag normalisation every tag comparison uses.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ARCHIVE_TEXTNORM_H
#define ARCHIVE_TEXTNORM_H

typedef struct FoldCache FoldCache;

extern char *fold_case(const char *str, int len, int *outlen);
extern FoldCache *fold_cache_create(MemoryContext mcxt);
extern char *fold_case_cached(FoldCache *cache, const char *str, int len, int *outlen);
extern const char *tag_normalize(const char *str, int len, int *outlen);

#endif							/* ARCHIVE_TEXTNORM_H */
