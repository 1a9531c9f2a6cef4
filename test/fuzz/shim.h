/*-------------------------------------------------------------------------
 *
 * shim.h
 *	  The fuzz targets' side of shim.c: where an ERROR lands, a fresh
 *	  memory context per input, and a query cancel to raise.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ARCHIVE_FUZZ_SHIM_H
#define ARCHIVE_FUZZ_SHIM_H

#include <setjmp.h>

extern sigjmp_buf *fuzz_error_jmp;
extern MemoryContext fuzz_begin(void);
extern void fuzz_end(MemoryContext root);
extern void fuzz_cancel(int n);
extern const char *fuzz_error_message(void);

/* A finding: print why and abort, which libFuzzer reports with the input. */
#define FUZZ_FAIL(...) \
	do { fprintf(stderr, "FUZZ FINDING: " __VA_ARGS__); fprintf(stderr, "\n"); abort(); } while (0)

#endif							/* ARCHIVE_FUZZ_SHIM_H */
