/*-------------------------------------------------------------------------
 *
 * shim.h
 *	  The fuzz targets' side of shim.c: where an ERROR lands, and a fresh
 *	  memory context per input.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ARCHIVE_FUZZ_SHIM_H
#define ARCHIVE_FUZZ_SHIM_H

#include <setjmp.h>

extern sigjmp_buf *fuzz_error_jmp;
extern MemoryContext fuzz_begin(void);
extern void fuzz_end(MemoryContext root);

/* A finding: print why and abort, which libFuzzer reports with the input. */
#define FUZZ_FAIL(...) \
	do { fprintf(stderr, "FUZZ FINDING: " __VA_ARGS__); fprintf(stderr, "\n"); abort(); } while (0)

#endif							/* ARCHIVE_FUZZ_SHIM_H */
