/*-------------------------------------------------------------------------
 *
 * shim.c
 *	  The few backend services that src/termcount.c, src/textnorm.c,
 *	  src/motifs.c, src/span.c, src/page.c, src/page_record.c and
 *	  src/render.c use, for fuzzing them outside a server
 *	  (test/fuzz/build.sh).
 *
 * The sources are compiled unchanged, against the server's headers; only
 * what they call in the backend is replaced here:
 *	- memory contexts: a context is a list of malloc'd chunks (so that
 *	  AddressSanitizer sees every allocation exactly) with the parent/child
 *	  tree of the real ones; deleting or resetting a context frees its chunks
 *	  and its children.  Requests above MaxAllocSize raise an ERROR, as
 *	  palloc does.
 *	- ereport/elog: an ERROR (or worse) longjmps to fuzz_error_jmp, set by the
 *	  target around each call, as PG_TRY would catch it, its message kept
 *	  for fuzz_error_message(); lower levels are dropped.  The target then deletes its context, which frees all.
 *	- encodings: the database encoding is UTF-8; pg_verifymbstr,
 *	  pg_mbstrlen_with_len and pg_mblen_with_len use libpgcommon's UTF-8
 *	  routines, as the backend does for a UTF-8 database.
 *	- str_tolower (case folding of non-ASCII text, which the server does
 *	  through the database's collation): ASCII letters are folded, other
 *	  bytes kept, as a "C" collation does.
 *	- binary messages (libpq/pqformat.h): reading integers and bytes out of
 *	  a StringInfo in network byte order, raising the backend's ERROR when
 *	  the message is too short, and building a bytea result; the rest of
 *	  StringInfo is libpgcommon's.
 *	- varlena arguments: a plain (not toasted, not compressed) value is
 *	  returned as it is, as pg_detoast_datum_packed does, and its size is
 *	  what toast_raw_datum_size gives for it (a 1-byte header included);
 *	  the targets make no other kind.
 *	- encoding conversion in a UTF-8 database: pg_server_to_any to UTF-8
 *	  returns its input, pg_any_to_server from UTF-8 checks it and raises
 *	  the backend's ERROR on an invalid byte sequence, as the server does.
 *	- lists (nodes/pg_list.h): lappend and list_make1 on arrays of cells
 *	  that grow by doubling, in the list's memory context.
 *	- interrupts: CHECK_FOR_INTERRUPTS reads InterruptPending, false unless
 *	  a target calls fuzz_cancel(n): the n-th check from then on raises the
 *	  backend's ERROR, as a query cancel arriving then would.
 *	- timestamp2tm without a time zone (UTC, as span.c asks for it): the
 *	  proleptic Gregorian calendar, years counted astronomically, over the
 *	  range of timestamptz; outside it, -1 as the backend returns.
 *	- Assert: the targets are built with USE_ASSERT_CHECKING, and a failed
 *	  assertion aborts (a finding).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <setjmp.h>

#include "access/detoast.h"
#include "datatype/timestamp.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "port/pg_bswap.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "shim.h"

sigjmp_buf *fuzz_error_jmp = NULL;
static int	cancel_after = 0;
volatile sig_atomic_t InterruptPending = false;
MemoryContext CurrentMemoryContext = NULL;
MemoryContext TopMemoryContext = NULL;
ErrorContextCallback *error_context_stack = NULL;

/* ---------- memory contexts ---------- */

typedef struct Chunk
{
	struct Chunk *prev;
	struct Chunk *next;
	struct ShimContext *owner;
	Size		size;
	/* keep the payload MAXALIGNed (16 bytes for long double on x86-64) */
	long double align;
} Chunk;

typedef struct ShimContext
{
	MemoryContextData base;
	Chunk	   *chunks;
} ShimContext;

#define CHUNK_OF(ptr) ((Chunk *) ((char *) (ptr) - offsetof(Chunk, align)))
#define PAYLOAD_OF(chunk) ((void *) &(chunk)->align)

static void
alloc_error(Size size)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("invalid memory alloc request size %zu", size)));
}

static void *
chunk_alloc(MemoryContext context, Size size, bool zero, bool huge)
{
	ShimContext *cxt = (ShimContext *) context;
	Chunk	   *chunk;

	if (cxt == NULL)
		abort();
	if (huge ? !AllocHugeSizeIsValid(size) : !AllocSizeIsValid(size))
		alloc_error(size);
	chunk = malloc(offsetof(Chunk, align) + (size > 0 ? size : 1));
	if (chunk == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (zero)
		memset(PAYLOAD_OF(chunk), 0, size);
	chunk->owner = cxt;
	chunk->size = size;
	chunk->prev = NULL;
	chunk->next = cxt->chunks;
	if (cxt->chunks)
		cxt->chunks->prev = chunk;
	cxt->chunks = chunk;
	return PAYLOAD_OF(chunk);
}

static void
chunk_unlink(Chunk *chunk)
{
	if (chunk->prev)
		chunk->prev->next = chunk->next;
	else
		chunk->owner->chunks = chunk->next;
	if (chunk->next)
		chunk->next->prev = chunk->prev;
}

MemoryContext
AllocSetContextCreateInternal(MemoryContext parent, const char *name,
							  Size minContextSize, Size initBlockSize, Size maxBlockSize)
{
	ShimContext *cxt = calloc(1, sizeof(ShimContext));

	if (cxt == NULL)
		abort();
	cxt->base.type = T_AllocSetContext;
	cxt->base.name = name;
	cxt->base.parent = parent;
	if (parent)
	{
		cxt->base.nextchild = parent->firstchild;
		if (parent->firstchild)
			parent->firstchild->prevchild = &cxt->base;
		parent->firstchild = &cxt->base;
	}
	return &cxt->base;
}

static void
free_chunks(ShimContext *cxt)
{
	while (cxt->chunks)
	{
		Chunk	   *next = cxt->chunks->next;

		free(cxt->chunks);
		cxt->chunks = next;
	}
}

void
MemoryContextDelete(MemoryContext context)
{
	ShimContext *cxt = (ShimContext *) context;

	while (context->firstchild)
		MemoryContextDelete(context->firstchild);
	for (MemoryContextCallback *cb = context->reset_cbs; cb; cb = cb->next)
		cb->func(cb->arg);
	if (context->parent)
	{
		if (context->prevchild)
			context->prevchild->nextchild = context->nextchild;
		else
			context->parent->firstchild = context->nextchild;
		if (context->nextchild)
			context->nextchild->prevchild = context->prevchild;
	}
	if (CurrentMemoryContext == context)
		CurrentMemoryContext = context->parent;
	free_chunks(cxt);
	free(cxt);
}

void
MemoryContextReset(MemoryContext context)
{
	while (context->firstchild)
		MemoryContextDelete(context->firstchild);
	free_chunks((ShimContext *) context);
}

void
MemoryContextRegisterResetCallback(MemoryContext context, MemoryContextCallback *cb)
{
	cb->next = context->reset_cbs;
	context->reset_cbs = cb;
}

void *
MemoryContextAlloc(MemoryContext context, Size size)
{
	return chunk_alloc(context, size, false, false);
}

void *
MemoryContextAllocZero(MemoryContext context, Size size)
{
	return chunk_alloc(context, size, true, false);
}

void *
MemoryContextAllocZeroAligned(MemoryContext context, Size size)
{
	return chunk_alloc(context, size, true, false);
}

void *
MemoryContextAllocExtended(MemoryContext context, Size size, int flags)
{
	return chunk_alloc(context, size, (flags & MCXT_ALLOC_ZERO) != 0, (flags & MCXT_ALLOC_HUGE) != 0);
}

void *
MemoryContextAllocHuge(MemoryContext context, Size size)
{
	return chunk_alloc(context, size, false, true);
}

void *
palloc(Size size)
{
	return chunk_alloc(CurrentMemoryContext, size, false, false);
}

void *
palloc0(Size size)
{
	return chunk_alloc(CurrentMemoryContext, size, true, false);
}

void *
palloc_extended(Size size, int flags)
{
	return MemoryContextAllocExtended(CurrentMemoryContext, size, flags);
}

static void *
chunk_realloc(void *pointer, Size size, bool huge)
{
	Chunk	   *old = CHUNK_OF(pointer);
	ShimContext *owner = old->owner;
	void	   *fresh = chunk_alloc(&owner->base, size, false, huge);

	memcpy(fresh, pointer, Min(size, old->size));
	chunk_unlink(old);
	free(old);
	return fresh;
}

void *
repalloc(void *pointer, Size size)
{
	return chunk_realloc(pointer, size, false);
}

void *
repalloc_huge(void *pointer, Size size)
{
	return chunk_realloc(pointer, size, true);
}

void
pfree(void *pointer)
{
	Chunk	   *chunk = CHUNK_OF(pointer);

	chunk_unlink(chunk);
	free(chunk);
}

char *
MemoryContextStrdup(MemoryContext context, const char *string)
{
	Size		len = strlen(string) + 1;
	char	   *copy = MemoryContextAlloc(context, len);

	memcpy(copy, string, len);
	return copy;
}

char *
pstrdup(const char *in)
{
	return MemoryContextStrdup(CurrentMemoryContext, in);
}

char *
pnstrdup(const char *in, Size len)
{
	char	   *out;

	len = strnlen(in, len);
	out = palloc(len + 1);
	memcpy(out, in, len);
	out[len] = '\0';
	return out;
}

/* ---------- errors ---------- */

static int	error_level;
static char error_message[256];

bool
errstart(int elevel, const char *domain)
{
	error_level = elevel;
	return elevel >= ERROR;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	if (error_level >= ERROR)
	{
		if (fuzz_error_jmp == NULL)
		{
			fprintf(stderr, "ERROR outside a fuzz call at %s:%d\n", filename, lineno);
			abort();
		}
		siglongjmp(*fuzz_error_jmp, 1);
	}
}

int
errcode(int sqlerrcode)
{
	return 0;
}

int
errmsg(const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	vsnprintf(error_message, sizeof(error_message), fmt, args);
	va_end(args);
	return 0;
}

int
errmsg_internal(const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	vsnprintf(error_message, sizeof(error_message), fmt, args);
	va_end(args);
	return 0;
}

/* The message of the last ERROR, for a finding's report. */
const char *
fuzz_error_message(void)
{
	return error_message;
}

int
errdetail(const char *fmt,...)
{
	return 0;
}

int
errdetail_internal(const char *fmt,...)
{
	return 0;
}

int
errhint(const char *fmt,...)
{
	return 0;
}

void
ExceptionalCondition(const char *conditionName, const char *errorType,
					 const char *fileName, int lineNumber)
{
	fprintf(stderr, "TRAP: %s(\"%s\", File: \"%s\", Line: %d)\n",
			errorType, conditionName, fileName, lineNumber);
	abort();
}

/* ---------- encodings (a UTF-8 database) ---------- */

int
GetDatabaseEncoding(void)
{
	return PG_UTF8;
}

bool
pg_verifymbstr(const char *mbstr, int len, bool noError)
{
	if (pg_encoding_verifymbstr(PG_UTF8, mbstr, len) == len)
		return true;
	if (!noError)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("invalid byte sequence for encoding \"UTF8\"")));
	return false;
}

int
pg_mbstrlen_with_len(const char *mbstr, int limit)
{
	int			len = 0;

	while (limit > 0 && *mbstr)
	{
		int			l = pg_utf_mblen((const unsigned char *) mbstr);

		limit -= l;
		mbstr += l;
		len++;
	}
	return len;
}

int
pg_database_encoding_max_length(void)
{
	return pg_encoding_max_length(PG_UTF8);
}

int
pg_mblen_with_len(const char *mbstr, int limit)
{
	int			len = pg_utf_mblen((const unsigned char *) mbstr);

	if (len > limit)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("invalid byte sequence for encoding \"UTF8\"")));
	return len;
}

/* The database's collation is "C" (see str_tolower). */
bool
lc_ctype_is_c(Oid collation)
{
	return true;
}

char *
str_tolower(const char *buff, size_t nbytes, Oid collid)
{
	char	   *out = palloc(nbytes + 1);

	for (size_t i = 0; i < nbytes; i++)
		out[i] = (buff[i] >= 'A' && buff[i] <= 'Z') ? buff[i] + ('a' - 'A') : buff[i];
	out[nbytes] = '\0';
	return out;
}

/* Text from the database encoding (UTF-8) to UTF-8: no conversion, no check, as the server does. */
char *
pg_server_to_any(const char *s, int len, int encoding)
{
	if (encoding != PG_UTF8)
	{
		fprintf(stderr, "fuzz shim: pg_server_to_any to encoding %d\n", encoding);
		abort();
	}
	return unconstify(char *, s);
}

/* Text from UTF-8 to the database encoding (UTF-8): checked, else the server's ERROR. */
char *
pg_any_to_server(const char *s, int len, int encoding)
{
	if (encoding != PG_UTF8)
	{
		fprintf(stderr, "fuzz shim: pg_any_to_server from encoding %d\n", encoding);
		abort();
	}
	if (len > 0)
		(void) pg_verifymbstr(s, len, false);
	return unconstify(char *, s);
}

/* ---------- lists ---------- */

/* A list of n cells, room for at least min_size. */
static List *
list_new(NodeTag type, int length, int min_size)
{
	List	   *list = palloc(offsetof(List, initial_elements) + sizeof(ListCell) * min_size);

	list->type = type;
	list->length = length;
	list->max_length = min_size;
	list->elements = list->initial_elements;
	return list;
}

List *
list_make1_impl(NodeTag t, ListCell datum1)
{
	List	   *list = list_new(t, 1, 1);

	list->elements[0] = datum1;
	return list;
}

List *
lappend(List *list, void *datum)
{
	if (list == NIL)
		list = list_new(T_List, 0, 4);
	if (list->length == list->max_length)
	{
		MemoryContext owner = &CHUNK_OF(list)->owner->base;
		ListCell   *cells = MemoryContextAlloc(owner, sizeof(ListCell) * list->max_length * 2);

		memcpy(cells, list->elements, sizeof(ListCell) * list->length);
		if (list->elements != list->initial_elements)
			pfree(list->elements);
		list->elements = cells;
		list->max_length *= 2;
	}
	list->elements[list->length++].ptr_value = datum;
	return list;
}

/* ---------- interrupts ---------- */

/* A query cancel, pending from now: the n-th CHECK_FOR_INTERRUPTS raises it; 0: none pending. */
void
fuzz_cancel(int n)
{
	cancel_after = n;
	InterruptPending = n > 0;
}

/* The pending cancel: the backend's ERROR at the check fuzz_cancel() named. */
void
ProcessInterrupts(void)
{
	if (--cancel_after > 0)
		return;
	InterruptPending = false;
	ereport(ERROR,
			(errcode(ERRCODE_QUERY_CANCELED),
			 errmsg("canceling statement due to user request")));
}

/* ---------- binary messages and varlena arguments ---------- */

/* Take n bytes out of msg, or raise the backend's error when fewer are left. */
static const char *
msg_take(StringInfo msg, int n)
{
	const char *at;

	if (n < 0 || n > msg->len - msg->cursor)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("insufficient data left in message")));
	at = msg->data + msg->cursor;
	msg->cursor += n;
	return at;
}

int
pq_getmsgbyte(StringInfo msg)
{
	return (unsigned char) *msg_take(msg, 1);
}

unsigned int
pq_getmsgint(StringInfo msg, int b)
{
	uint16		n16;
	uint32		n32;

	switch (b)
	{
		case 1:
			return (unsigned char) *msg_take(msg, 1);
		case 2:
			memcpy(&n16, msg_take(msg, 2), 2);
			return pg_ntoh16(n16);
		case 4:
			memcpy(&n32, msg_take(msg, 4), 4);
			return pg_ntoh32(n32);
	}
	fprintf(stderr, "fuzz shim: pq_getmsgint of %d bytes\n", b);
	abort();
}

int64
pq_getmsgint64(StringInfo msg)
{
	uint64		n64;

	memcpy(&n64, msg_take(msg, 8), 8);
	return (int64) pg_ntoh64(n64);
}

const char *
pq_getmsgbytes(StringInfo msg, int datalen)
{
	return msg_take(msg, datalen);
}

void
pq_sendbytes(StringInfo buf, const char *data, int datalen)
{
	appendBinaryStringInfo(buf, data, datalen);
}

void
pq_begintypsend(StringInfo buf)
{
	initStringInfo(buf);
	appendBinaryStringInfo(buf, "\0\0\0\0", VARHDRSZ);
}

bytea *
pq_endtypsend(StringInfo buf)
{
	SET_VARSIZE(buf->data, buf->len);
	return (bytea *) buf->data;
}

struct varlena *
pg_detoast_datum_packed(struct varlena *datum)
{
	if (VARATT_IS_EXTERNAL(datum) || VARATT_IS_COMPRESSED(datum))
	{
		fprintf(stderr, "fuzz shim: a toasted value\n");
		abort();
	}
	return datum;
}

Size
toast_raw_datum_size(Datum value)
{
	struct varlena *attr = (struct varlena *) DatumGetPointer(value);

	if (VARATT_IS_EXTERNAL(attr) || VARATT_IS_COMPRESSED(attr))
	{
		fprintf(stderr, "fuzz shim: a toasted value\n");
		abort();
	}
	if (VARATT_IS_SHORT(attr))
		return VARSIZE_SHORT(attr) - VARHDRSZ_SHORT + VARHDRSZ;
	return VARSIZE(attr);
}

/* ---------- time ---------- */

int
timestamp2tm(Timestamp dt, int *tzp, struct pg_tm *tm, fsec_t *fsec,
			 const char **tzn, pg_tz *attimezone)
{
	int64		days;
	int64		usecs;
	int64		era;
	int64		doe;
	int64		yoe;
	int64		doy;
	int64		mp;

	if (tzp != NULL)
	{
		fprintf(stderr, "fuzz shim: timestamp2tm in a time zone\n");
		abort();
	}
	if (!IS_VALID_TIMESTAMP(dt))
		return -1;
	days = dt / USECS_PER_DAY;
	usecs = dt % USECS_PER_DAY;
	if (usecs < 0)
	{
		days--;
		usecs += USECS_PER_DAY;
	}

	/*
	 * Days to a civil date (H. Hinnant, "chrono-Compatible Low-Level Date
	 * Algorithms"): count from 0000-03-01, in 400-year eras of 146097 days,
	 * so that a leap day ends its year.  2000-01-01 is day 730425.
	 */
	days += 730425;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	tm->tm_mday = (int) (doy - (153 * mp + 2) / 5 + 1);
	tm->tm_mon = (int) (mp < 10 ? mp + 3 : mp - 9);
	tm->tm_year = (int) (yoe + era * 400 + (tm->tm_mon <= 2));
	tm->tm_hour = (int) (usecs / USECS_PER_HOUR);
	tm->tm_min = (int) (usecs / USECS_PER_MINUTE % MINS_PER_HOUR);
	tm->tm_sec = (int) (usecs / USECS_PER_SEC % SECS_PER_MINUTE);
	*fsec = (fsec_t) (usecs % USECS_PER_SEC);
	tm->tm_isdst = -1;
	tm->tm_gmtoff = 0;
	tm->tm_zone = NULL;
	if (tzn != NULL)
		*tzn = NULL;
	return 0;
}

/* ---------- per-input setup ---------- */

MemoryContext
fuzz_begin(void)
{
	MemoryContext root = AllocSetContextCreate((MemoryContext) NULL, "fuzz input", ALLOCSET_DEFAULT_SIZES);

	TopMemoryContext = root;
	CurrentMemoryContext = root;
	return root;
}

void
fuzz_end(MemoryContext root)
{
	fuzz_error_jmp = NULL;
	cancel_after = 0;
	InterruptPending = false;
	MemoryContextDelete(root);
	CurrentMemoryContext = NULL;
	TopMemoryContext = NULL;
}
