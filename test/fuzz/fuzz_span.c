/*-------------------------------------------------------------------------
 *
 * fuzz_span.c
 *	  libFuzzer target over the decoders of src/span.c (archive.span),
 *	  compiled unchanged with shim.c and reached through the type's binary
 *	  receive and send functions.  The first byte of an input picks:
 *
 *	  even: the rest is the wire form, as archive.span_recv gets it from
 *	        COPY ... FORMAT binary or a client.  It must raise an ERROR or be
 *	        accepted; an accepted one must send back the very same bytes (no
 *	        malformed value is read as another).
 *	  odd:  the rest is the flat form, as a stored archive.span value or the
 *	        aggregates' deserialize function gives it to span_unflatten (here
 *	        through archive.span_send).  It must raise an ERROR or be
 *	        accepted; an accepted one must send, and what it sends must read
 *	        back, without an ERROR, to the very same flat bytes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"

#include "shim.h"

extern Datum archive_span_recv(PG_FUNCTION_ARGS);
extern Datum archive_span_send(PG_FUNCTION_ARGS);

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Call a one-argument SQL function of span.c, as the executor would. */
static bytea *
call(PGFunction fn, Datum arg)
{
	LOCAL_FCINFO(fcinfo, 1);

	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = arg;
	fcinfo->args[0].isnull = false;
	return (bytea *) DatumGetPointer(fn(fcinfo));
}

/*
 * archive.span_recv of len bytes: the flat form it accepts them as.  The
 * message is in a buffer of its own size (and the NUL byte a StringInfo
 * ends with), so that AddressSanitizer sees any read past it.
 */
static bytea *
span_recv(const char *bytes, int len)
{
	StringInfoData buf;

	buf.data = palloc(len + 1);
	memcpy(buf.data, bytes, len);
	buf.data[len] = '\0';
	buf.len = len;
	buf.maxlen = len + 1;
	buf.cursor = 0;
	return call(archive_span_recv, PointerGetDatum(&buf));
}

/* archive.span_send of a flat form of len bytes: the wire form. */
static bytea *
span_send(const char *flat, int len)
{
	bytea	   *value = palloc(VARHDRSZ + len);

	SET_VARSIZE(value, VARHDRSZ + len);
	memcpy(VARDATA(value), flat, len);
	return call(archive_span_send, PointerGetDatum(value));
}

/* Whether a bytea holds exactly len bytes equal to bytes. */
static bool
same_bytes(const bytea *value, const char *bytes, int len)
{
	return VARSIZE(value) - VARHDRSZ == (Size) len && memcmp(VARDATA(value), bytes, len) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	MemoryContext cxt = fuzz_begin();
	sigjmp_buf	jb;
	volatile bool must_not_fail = false;
	const char *rest = (const char *) data + 1;
	int			len = (int) size - 1;

	if (size == 0)
	{
		fuzz_end(cxt);
		return 0;
	}
	if (sigsetjmp(jb, 0) == 0)
	{
		fuzz_error_jmp = &jb;
		if (data[0] % 2 == 0)
		{
			bytea	   *flat = span_recv(rest, len);
			bytea	   *wire;

			must_not_fail = true;
			wire = span_send(VARDATA(flat), VARSIZE(flat) - VARHDRSZ);
			if (!same_bytes(wire, rest, len))
				FUZZ_FAIL("an accepted wire form sends back other bytes");
		}
		else
		{
			bytea	   *wire = span_send(rest, len);
			bytea	   *flat;

			must_not_fail = true;
			flat = span_recv(VARDATA(wire), VARSIZE(wire) - VARHDRSZ);
			if (!same_bytes(flat, rest, len))
				FUZZ_FAIL("an accepted flat span reads back from its wire form as other bytes");
		}
	}
	else if (must_not_fail)
		FUZZ_FAIL("an ERROR reading back a span the code itself made");
	fuzz_end(cxt);
	return 0;
}
