/*-------------------------------------------------------------------------
 *
 * span.c
 *	  Topic span: the type archive.span (posts, undated posts, first and
 *	  last publication, posts per calendar month), the aggregates
 *	  archive.topic_span and archive.span_union_agg, and its accessors.
 *
 * Months are calendar months in UTC, so that a span means the same on every
 * server whatever its TimeZone.  A row with a NULL time counts as a post and
 * as undated; it is in no month.  Infinite times are refused.
 *
 * Flat form (native byte order; what is stored, and what aggregate states
 * are between the processes of one server): uint8 version, 3 reserved bytes
 * (0), int32 nmonths, int64 posts, int64 undated, int64 first, int64 last,
 * then nmonths times (int32 month, int64 posts), months ascending, where
 * month is year * 12 + month - 1.  first and last are 0 when no post is
 * dated.  Binary send and receive use the portable wire form instead
 * (network byte order, see archive_span_send).
 *
 * Memory is one entry per distinct month of the input, whatever the rows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "jsonform.h"
#include "span.h"

/* Name of the type in messages. */
#define SPAN_TYPE "archive.span"
#define SPAN_FLAT_VERSION 1
#define SPAN_HEADER_SIZE (1 + 3 + 4 + 8 + 8 + 8 + 8)
/* One month, flat and on the wire: month and posts. */
#define SPAN_MONTH_SIZE (4 + 8)
/* Version byte of the wire form (see archive_span_send); 1 was the flat form as it is. */
#define SPAN_WIRE_VERSION 2
/* Fixed header of the wire form: version, posts, undated, first, last, nmonths. */
#define SPAN_WIRE_HEADER_SIZE (1 + 8 + 8 + 8 + 8 + 4)

/*
 * Where a span being read comes from, which decides the error a malformed
 * one raises: the type's text or binary input (invalid input), or a stored
 * value or aggregate state (corrupt data).
 */
typedef enum SpanOrigin
{
	FROM_STORED,
	FROM_TEXT,
	FROM_BINARY
} SpanOrigin;

typedef struct MonthEntry
{
	int32		month;
	char		status;
	int64		posts;
} MonthEntry;

#define SH_PREFIX monthtab
#define SH_ELEMENT_TYPE MonthEntry
#define SH_KEY_TYPE int32
#define SH_KEY month
#define SH_HASH_KEY(tb, k) murmurhash32((uint32) (k))
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* The transition state of the span aggregates. */
struct SpanState
{
	int64		posts;
	int64		undated;
	TimestampTz first;
	TimestampTz last;
	monthtab_hash *months;
	/* the month of the previous row, to skip the calendar for sorted input */
	TimestampTz cached_from;
	TimestampTz cached_to;
	MonthEntry *cached_entry;
};

/* One month of a span, for sorting and output. */
typedef struct SpanMonth
{
	int32		month;
	int64		posts;
} SpanMonth;

/* The memory context of the calling aggregate, or an error outside one. */
static MemoryContext
span_aggregate_context(FunctionCallInfo fcinfo)
{
	MemoryContext aggcontext;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "archive span function called in non-aggregate context");
	return aggcontext;
}

/* An empty span state in mcxt. */
SpanState *
span_create(MemoryContext mcxt)
{
	SpanState  *state = MemoryContextAllocZero(mcxt, sizeof(SpanState));

	state->months = monthtab_create(mcxt, 16, NULL);
	return state;
}

/* Calendar fields of a finite time in UTC. */
static void
utc_fields(TimestampTz ts, struct pg_tm *tm)
{
	fsec_t		fsec;

	if (timestamp2tm(ts, NULL, tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
}

/* The start of a month index, as a UTC time. */
static TimestampTz
month_start(int32 month)
{
	struct pg_tm tm = {0};
	TimestampTz ts;

	tm.tm_year = (month >= 0 ? month / 12 : (month - 11) / 12);
	tm.tm_mon = month - tm.tm_year * 12 + 1;
	tm.tm_mday = 1;
	if (tm2timestamp(&tm, 0, NULL, &ts) != 0)
		return DT_NOBEGIN;
	return ts;
}

/* Count n posts at time ts (a month's entry is found through the cache of the last one). */
static void
span_add(SpanState *state, TimestampTz ts, int64 n)
{
	struct pg_tm tm;
	int32		month;
	bool		found;

	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("publication time must be finite")));
	if (state->posts == state->undated)
		state->first = state->last = ts;
	else
	{
		state->first = Min(state->first, ts);
		state->last = Max(state->last, ts);
	}
	state->posts += n;
	if (state->cached_entry != NULL && ts >= state->cached_from && ts < state->cached_to)
	{
		state->cached_entry->posts += n;
		return;
	}
	utc_fields(ts, &tm);
	month = tm.tm_year * 12 + tm.tm_mon - 1;
	state->cached_entry = monthtab_insert(state->months, month, &found);
	if (!found)
		state->cached_entry->posts = 0;
	state->cached_entry->posts += n;
	state->cached_from = month_start(month);
	state->cached_to = month_start(month + 1);
}

/* Count one post: at published_at, or undated (in no month); memory in the current context. */
void
span_add_post(SpanState *state, bool dated, TimestampTz published_at)
{
	if (dated)
		span_add(state, published_at, 1);
	else
	{
		state->posts++;
		state->undated++;
	}
}

/* Months of a state, ascending, palloc'd in the current context. */
static int
span_months_cmp(const void *a, const void *b)
{
	int32		x = ((const SpanMonth *) a)->month;
	int32		y = ((const SpanMonth *) b)->month;

	return (x > y) - (x < y);
}

static SpanMonth *
span_sorted_months(const SpanState *state, int *nmonths)
{
	SpanMonth  *months = palloc(sizeof(SpanMonth) * Max(state->months->members, 1));
	monthtab_iterator it;
	MonthEntry *entry;
	int			n = 0;

	monthtab_start_iterate(state->months, &it);
	while ((entry = monthtab_iterate(state->months, &it)) != NULL)
	{
		months[n].month = entry->month;
		months[n].posts = entry->posts;
		n++;
	}
	qsort(months, n, sizeof(SpanMonth), span_months_cmp);
	*nmonths = n;
	return months;
}

/*
 * Write the flat form of loose parts into a new palloc'd buffer after prefix
 * free bytes (a varlena header, say); *len excludes the prefix.
 */
static char *
span_write_flat(int64 posts, int64 undated, TimestampTz first, TimestampTz last,
				const SpanMonth *months, int nmonths, Size prefix, Size *len)
{
	Size		size = SPAN_HEADER_SIZE + (Size) nmonths * SPAN_MONTH_SIZE;
	char	   *buf = palloc0(prefix + size);
	char	   *out = buf + prefix;
	uint8		version = SPAN_FLAT_VERSION;
	int32		n32 = nmonths;

	memcpy(out, &version, 1);
	memcpy(out + 4, &n32, 4);
	memcpy(out + 8, &posts, 8);
	memcpy(out + 16, &undated, 8);
	memcpy(out + 24, &first, 8);
	memcpy(out + 32, &last, 8);
	out += SPAN_HEADER_SIZE;
	for (int i = 0; i < nmonths; i++)
	{
		memcpy(out, &months[i].month, 4);
		memcpy(out + 4, &months[i].posts, 8);
		out += SPAN_MONTH_SIZE;
	}
	*len = size;
	return buf;
}

/* The flat form of a state after prefix free bytes; *len excludes the prefix. */
static char *
span_flatten(const SpanState *state, Size prefix, Size *len)
{
	int			nmonths;
	SpanMonth  *months = span_sorted_months(state, &nmonths);
	char	   *flat = span_write_flat(state->posts, state->undated, state->first, state->last,
									   months, nmonths, prefix, len);

	pfree(months);
	return flat;
}

/*
 * Raise the error of a malformed span, by where it came from: text input
 * breaking a rule of the type (22P02), malformed binary input (22P03), or a
 * stored value or aggregate state that is corrupt (XX001).
 */
static void
bad_span(SpanOrigin origin, const char *detail)
{
	if (origin == FROM_TEXT)
		jsonform_error(SPAN_TYPE, detail);
	if (origin == FROM_BINARY)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary input for type %s", SPAN_TYPE),
				 errdetail_internal("%s", detail)));
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("invalid archive span"),
			 errdetail_internal("%s", detail)));
}

/* The month index of a finite time. */
static int32
month_of(TimestampTz ts)
{
	struct pg_tm tm;

	utc_fields(ts, &tm);
	return tm.tm_year * 12 + tm.tm_mon - 1;
}

/*
 * Add another span's posts, undated posts, first and last to a state (its
 * months are the caller's); first and last count only where posts are dated.
 */
static void
span_add_totals(SpanState *dst, int64 posts, int64 undated, TimestampTz first, TimestampTz last)
{
	if (posts > undated)
	{
		if (dst->posts == dst->undated)
		{
			dst->first = first;
			dst->last = last;
		}
		else
		{
			dst->first = Min(dst->first, first);
			dst->last = Max(dst->last, last);
		}
	}
	dst->posts += posts;
	dst->undated += undated;
	dst->cached_entry = NULL;
}

/*
 * Add a flat span to a state, checking everything: version, counts, months
 * ascending and positive, their sum, and that first and last fall in the
 * first and last month.  Any failure is an ERROR, which one depends on the
 * origin (see bad_span); the state is then half-merged and must not be used
 * again (an aggregate's is dropped with the query).  A union adds each stored
 * span this way, without building a state for it.
 */
static void
span_add_flat(SpanState *dst, const char *data, Size len, SpanOrigin origin)
{
	uint8		version;
	uint8		reserved[3];
	int32		nmonths;
	int64		posts;
	int64		undated;
	TimestampTz first;
	TimestampTz last;
	int64		sum = 0;
	int32		prev = 0;

	if (len < SPAN_HEADER_SIZE)
		bad_span(origin, "too short");
	memcpy(&version, data, 1);
	memcpy(reserved, data + 1, 3);
	memcpy(&nmonths, data + 4, 4);
	memcpy(&posts, data + 8, 8);
	memcpy(&undated, data + 16, 8);
	memcpy(&first, data + 24, 8);
	memcpy(&last, data + 32, 8);
	if (version != SPAN_FLAT_VERSION || reserved[0] || reserved[1] || reserved[2])
		bad_span(origin, "unknown version");
	if (posts < 0 || undated < 0 || undated > posts)
		bad_span(origin, "post counts out of range");
	if (nmonths < 0 || (Size) nmonths * SPAN_MONTH_SIZE != len - SPAN_HEADER_SIZE)
		bad_span(origin, "length does not match the months");
	if (posts == undated ? (nmonths != 0 || first != 0 || last != 0)
		: (nmonths == 0 || TIMESTAMP_NOT_FINITE(first) || TIMESTAMP_NOT_FINITE(last) ||
		   !IS_VALID_TIMESTAMP(first) || !IS_VALID_TIMESTAMP(last) || first > last))
		bad_span(origin, "first and last out of range");

	span_add_totals(dst, posts, undated, first, last);
	data += SPAN_HEADER_SIZE;
	for (int i = 0; i < nmonths; i++)
	{
		int32		month;
		int64		count;
		bool		found;
		MonthEntry *entry;

		memcpy(&month, data, 4);
		memcpy(&count, data + 4, 8);
		data += SPAN_MONTH_SIZE;
		if (count <= 0 || count > posts - undated - sum)
			bad_span(origin, "month count out of range");
		if (i > 0 && month <= prev)
			bad_span(origin, "months out of order");
		if ((i == 0 && month != month_of(first)) || (i == nmonths - 1 && month != month_of(last)))
			bad_span(origin, "first or last outside the first or last month");
		entry = monthtab_insert(dst->months, month, &found);
		if (!found)
			entry->posts = 0;
		entry->posts += count;
		sum += count;
		prev = month;
	}
	if (sum != posts - undated)
		bad_span(origin, "months do not add up to the dated posts");
}

/* Read a flat span into a new state in mcxt, checked in full (span_add_flat). */
static SpanState *
span_unflatten(MemoryContext mcxt, const char *data, Size len, SpanOrigin origin)
{
	SpanState  *state = span_create(mcxt);

	span_add_flat(state, data, len, origin);
	return state;
}

/* Merge src into dst. */
static void
span_merge(SpanState *dst, const SpanState *src)
{
	monthtab_iterator it;
	MonthEntry *entry;

	span_add_totals(dst, src->posts, src->undated, src->first, src->last);
	monthtab_start_iterate(src->months, &it);
	while ((entry = monthtab_iterate(src->months, &it)) != NULL)
	{
		bool		found;
		MonthEntry *mine = monthtab_insert(dst->months, entry->month, &found);

		if (!found)
			mine->posts = 0;
		mine->posts += entry->posts;
	}
}

/* A span argument as a state in the current context. */
static SpanState *
span_arg(FunctionCallInfo fcinfo, int argno)
{
	bytea	   *flat = PG_GETARG_BYTEA_PP(argno);

	return span_unflatten(CurrentMemoryContext, VARDATA_ANY(flat), VARSIZE_ANY_EXHDR(flat),
						  FROM_STORED);
}

/* A state as an archive.span value. */
Datum
span_datum(const SpanState *state)
{
	Size		len;
	char	   *flat = span_flatten(state, VARHDRSZ, &len);

	SET_VARSIZE(flat, VARHDRSZ + len);
	return PointerGetDatum(flat);
}

/*
 * Append a time as XSD (ISO 8601) in UTC, exact to the microsecond.  A BC
 * time ends in " BC", after which the zone would not read back: the Z goes
 * before it.
 */
static void
append_utc_time(StringInfo buf, TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t		fsec;
	char		out[MAXDATELEN + 1];
	int			len;

	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		bad_span(FROM_STORED, "time out of range");
	EncodeDateTime(&tm, fsec, false, 0, NULL, USE_XSD_DATES, out);
	len = strlen(out);
	if (len > 3 && strcmp(out + len - 3, " BC") == 0)
		appendStringInfo(buf, "\"%.*sZ BC\"", len - 3, out);
	else
		appendStringInfo(buf, "\"%sZ\"", out);
}

/* Month index as text: YYYY-MM (year as the calendar gives it). */
static void
append_month(StringInfo buf, int32 month)
{
	int32		year = month >= 0 ? month / 12 : (month - 11) / 12;

	appendStringInfo(buf, "\"%04d-%02d\"", year, month - year * 12 + 1);
}

/*
 * Text form, JSON: {"posts": 3, "undated": 1, "first": "2020-01-05T00:00:00Z",
 * "last": "...", "months": [["2020-01", 1], ["2020-03", 1]]}.
 */
PG_FUNCTION_INFO_V1(archive_span_out);
Datum
archive_span_out(PG_FUNCTION_ARGS)
{
	SpanState  *state = span_arg(fcinfo, 0);
	int			nmonths;
	SpanMonth  *months = span_sorted_months(state, &nmonths);
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"posts\": " INT64_FORMAT ", \"undated\": " INT64_FORMAT ", \"first\": ",
					 state->posts, state->undated);
	if (state->posts > state->undated)
	{
		append_utc_time(&buf, state->first);
		appendStringInfoString(&buf, ", \"last\": ");
		append_utc_time(&buf, state->last);
	}
	else
		appendStringInfoString(&buf, "null, \"last\": null");
	appendStringInfoString(&buf, ", \"months\": [");
	for (int i = 0; i < nmonths; i++)
	{
		appendStringInfoString(&buf, i > 0 ? ", [" : "[");
		append_month(&buf, months[i].month);
		appendStringInfo(&buf, ", " INT64_FORMAT "]", months[i].posts);
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_CSTRING(buf.data);
}

/* A JSON field that must be a time string or null (read as 0, setting *isnull). */
static TimestampTz
span_json_time(const JsonbValue *v, const char *what, bool *isnull)
{
	if (v == NULL || (v->type != jbvString && v->type != jbvNull))
		jsonform_error(SPAN_TYPE, psprintf("%s must be a time or null", what));
	*isnull = v->type == jbvNull;
	if (*isnull)
		return 0;
	return jsonform_time(v->val.string.val, v->val.string.len);
}

/*
 * Parse the text form into the flat form; every check of the flat form
 * applies, and a broken rule is invalid text input.
 */
PG_FUNCTION_INFO_V1(archive_span_in);
Datum
archive_span_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	Jsonb	   *jb = jsonform_parse(str, SPAN_TYPE);
	JsonbValue *field;
	JsonbContainer *list;
	int			nmonths;
	SpanMonth  *months;
	char	   *flat;
	Size		len;
	int64		posts;
	int64		undated;
	TimestampTz first;
	TimestampTz last;
	bool		first_null;
	bool		last_null;

	posts = jsonform_integer(jsonform_field(jb, "posts"), SPAN_TYPE, "posts");
	undated = jsonform_integer(jsonform_field(jb, "undated"), SPAN_TYPE, "undated");
	first = span_json_time(jsonform_field(jb, "first"), "first", &first_null);
	last = span_json_time(jsonform_field(jb, "last"), "last", &last_null);
	/* null stands for "no dated post" only: the flat form's 0 is a real time too */
	if (undated >= 0 && undated <= posts &&
		(posts == undated ? !first_null || !last_null : first_null || last_null))
		jsonform_error(SPAN_TYPE, "first and last are null exactly when no post is dated");
	field = jsonform_field(jb, "months");
	if (field == NULL || field->type != jbvBinary || !JsonContainerIsArray(field->val.binary.data))
		jsonform_error(SPAN_TYPE, "months must be an array");
	list = field->val.binary.data;
	nmonths = JsonContainerSize(list);
	months = palloc(sizeof(SpanMonth) * Max(nmonths, 1));
	for (int i = 0; i < nmonths; i++)
	{
		JsonbValue *pair = getIthJsonbValueFromContainer(list, i);
		JsonbValue *key;
		int			year;
		int			mon;
		char		tail;

		if (pair == NULL || pair->type != jbvBinary || !JsonContainerIsArray(pair->val.binary.data) ||
			JsonContainerSize(pair->val.binary.data) != 2)
			jsonform_error(SPAN_TYPE, "a month is [\"YYYY-MM\", posts]");
		key = getIthJsonbValueFromContainer(pair->val.binary.data, 0);
		if (key->type != jbvString ||
			sscanf(pnstrdup(key->val.string.val, key->val.string.len), "%d-%d%c", &year, &mon, &tail) != 2 ||
			mon < 1 || mon > 12 || year < -4713 || year > 294276)
			jsonform_error(SPAN_TYPE, "a month is [\"YYYY-MM\", posts]");
		months[i].month = year * 12 + mon - 1;
		months[i].posts = jsonform_integer(getIthJsonbValueFromContainer(pair->val.binary.data, 1), SPAN_TYPE, "a month's posts");
	}
	flat = span_write_flat(posts, undated, first, last, months, nmonths, 0, &len);
	PG_RETURN_DATUM(span_datum(span_unflatten(CurrentMemoryContext, flat, len, FROM_TEXT)));
}

/* Raise the binary input's error unless buf holds n more bytes. */
static void
span_recv_need(StringInfo buf, Size n)
{
	if (n > (Size) (buf->len - buf->cursor))
		bad_span(FROM_BINARY, "truncated");
}

/*
 * Binary receive: the wire form (see archive_span_send).  Each length is
 * checked against what is left of the message before it is read, and the
 * message must end with the last month; the span then gets every check of
 * the flat form.  Anything else is invalid binary input.
 */
PG_FUNCTION_INFO_V1(archive_span_recv);
Datum
archive_span_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			version;
	int64		posts;
	int64		undated;
	TimestampTz first;
	TimestampTz last;
	int32		nmonths;
	SpanMonth  *months;
	char	   *flat;
	Size		len;

	span_recv_need(buf, SPAN_WIRE_HEADER_SIZE);
	version = pq_getmsgbyte(buf);
	if (version != SPAN_WIRE_VERSION)
		bad_span(FROM_BINARY, psprintf("unsupported format version %d (expected %d)",
									   version, SPAN_WIRE_VERSION));
	posts = pq_getmsgint64(buf);
	undated = pq_getmsgint64(buf);
	first = pq_getmsgint64(buf);
	last = pq_getmsgint64(buf);
	nmonths = (int32) pq_getmsgint(buf, 4);
	if (nmonths < 0 || nmonths > (buf->len - buf->cursor) / SPAN_MONTH_SIZE)
		bad_span(FROM_BINARY, "month count does not fit the message");
	months = palloc(sizeof(SpanMonth) * Max(nmonths, 1));
	for (int i = 0; i < nmonths; i++)
	{
		months[i].month = (int32) pq_getmsgint(buf, 4);
		months[i].posts = pq_getmsgint64(buf);
	}
	if (buf->cursor != buf->len)
		bad_span(FROM_BINARY, "trailing bytes");
	flat = span_write_flat(posts, undated, first, last, months, nmonths, 0, &len);
	PG_RETURN_DATUM(span_datum(span_unflatten(CurrentMemoryContext, flat, len, FROM_BINARY)));
}

/*
 * Binary send: the portable wire form of archive.span, which any server
 * reads whatever its byte order or the sender's.  Every integer is in
 * network byte order (big-endian), as in PostgreSQL's own binary forms:
 *
 *	uint8	version: 2 (SPAN_WIRE_VERSION)
 *	int64	posts
 *	int64	undated
 *	int64	first: microseconds since 2000-01-01 00:00 UTC (the binary form of
 *			timestamptz); 0 when no post is dated
 *	int64	last: the same
 *	int32	nmonths
 *	then nmonths months, ascending:
 *	int32	month: year * 12 + month - 1 (years counted astronomically: 0 is
 *			1 BC)
 *	int64	posts of that month
 *
 * Version 1 was the flat form sent as it is stored, in the sender's byte
 * order; it is refused on input.
 */
PG_FUNCTION_INFO_V1(archive_span_send);
Datum
archive_span_send(PG_FUNCTION_ARGS)
{
	SpanState  *state = span_arg(fcinfo, 0);
	int			nmonths;
	SpanMonth  *months = span_sorted_months(state, &nmonths);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint8(&buf, SPAN_WIRE_VERSION);
	pq_sendint64(&buf, state->posts);
	pq_sendint64(&buf, state->undated);
	pq_sendint64(&buf, state->first);
	pq_sendint64(&buf, state->last);
	pq_sendint32(&buf, nmonths);
	for (int i = 0; i < nmonths; i++)
	{
		pq_sendint32(&buf, months[i].month);
		pq_sendint64(&buf, months[i].posts);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Transition of archive.topic_span(timestamptz): count one post. */
PG_FUNCTION_INFO_V1(archive_span_trans);
Datum
archive_span_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = span_aggregate_context(fcinfo);
	SpanState  *state = PG_ARGISNULL(0) ? span_create(aggcontext) : (SpanState *) PG_GETARG_POINTER(0);

	MemoryContext old = MemoryContextSwitchTo(aggcontext);

	span_add_post(state, !PG_ARGISNULL(1), PG_ARGISNULL(1) ? 0 : PG_GETARG_TIMESTAMPTZ(1));
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(state);
}

/* Transition of archive.span_union_agg(span): merge one stored span. */
PG_FUNCTION_INFO_V1(archive_span_union_trans);
Datum
archive_span_union_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = span_aggregate_context(fcinfo);
	SpanState  *state;
	bytea	   *flat;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	state = PG_ARGISNULL(0) ? span_create(aggcontext) : (SpanState *) PG_GETARG_POINTER(0);
	flat = PG_GETARG_BYTEA_PP(1);
	span_add_flat(state, VARDATA_ANY(flat), VARSIZE_ANY_EXHDR(flat), FROM_STORED);
	PG_RETURN_POINTER(state);
}

/* Combine: merge the second state into the first (either may be NULL). */
PG_FUNCTION_INFO_V1(archive_span_combine);
Datum
archive_span_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = span_aggregate_context(fcinfo);
	SpanState  *dst;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	/* a group's first state, deserialized into this aggregate's memory, becomes its own */
	if (PG_ARGISNULL(0) && GetMemoryChunkContext(PG_GETARG_POINTER(1)) == aggcontext)
		PG_RETURN_POINTER(PG_GETARG_POINTER(1));
	dst = PG_ARGISNULL(0) ? span_create(aggcontext) : (SpanState *) PG_GETARG_POINTER(0);
	span_merge(dst, (SpanState *) PG_GETARG_POINTER(1));
	PG_RETURN_POINTER(dst);
}

/*
 * Serialize: the flat form, in native byte order: a serialized state only
 * passes between the processes of one server (parallel workers), never to
 * another server, so it needs no portable form.
 */
PG_FUNCTION_INFO_V1(archive_span_serialize);
Datum
archive_span_serialize(PG_FUNCTION_ARGS)
{
	span_aggregate_context(fcinfo);
	PG_RETURN_DATUM(span_datum((SpanState *) PG_GETARG_POINTER(0)));
}

/* Deserialize a flat form made by archive_span_serialize on this server, checked in full. */
PG_FUNCTION_INFO_V1(archive_span_deserialize);
Datum
archive_span_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = span_aggregate_context(fcinfo);
	bytea	   *flat = PG_GETARG_BYTEA_PP(0);

	PG_RETURN_POINTER(span_unflatten(aggcontext, VARDATA_ANY(flat), VARSIZE_ANY_EXHDR(flat),
									 FROM_STORED));
}

/* Final function: the state as archive.span. */
PG_FUNCTION_INFO_V1(archive_span_final);
Datum
archive_span_final(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	span_aggregate_context(fcinfo);
	PG_RETURN_DATUM(span_datum((SpanState *) PG_GETARG_POINTER(0)));
}

/* archive.posts(span): posts counted, dated or not. */
PG_FUNCTION_INFO_V1(archive_span_posts);
Datum
archive_span_posts(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(span_arg(fcinfo, 0)->posts);
}

/* archive.undated_posts(span): posts with no publication time. */
PG_FUNCTION_INFO_V1(archive_span_undated);
Datum
archive_span_undated(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(span_arg(fcinfo, 0)->undated);
}

/* archive.first_published(span): the earliest publication, NULL when none is dated. */
PG_FUNCTION_INFO_V1(archive_span_first);
Datum
archive_span_first(PG_FUNCTION_ARGS)
{
	SpanState  *state = span_arg(fcinfo, 0);

	if (state->posts == state->undated)
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(state->first);
}

/* archive.last_published(span): the latest publication, NULL when none is dated. */
PG_FUNCTION_INFO_V1(archive_span_last);
Datum
archive_span_last(PG_FUNCTION_ARGS)
{
	SpanState  *state = span_arg(fcinfo, 0);

	if (state->posts == state->undated)
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(state->last);
}

/* archive.posts_per_month(span): (month, posts) for each month with posts, ascending. */
PG_FUNCTION_INFO_V1(archive_span_months);
Datum
archive_span_months(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SpanState  *state = span_arg(fcinfo, 0);
	int			nmonths;
	SpanMonth  *months;

	InitMaterializedSRF(fcinfo, 0);
	months = span_sorted_months(state, &nmonths);
	for (int i = 0; i < nmonths; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};
		int32		year = months[i].month >= 0 ? months[i].month / 12 : (months[i].month - 11) / 12;
		int			mon = months[i].month - year * 12 + 1;

		values[0] = DateADTGetDatum(date2j(year, mon, 1) - POSTGRES_EPOCH_JDATE);
		values[1] = Int64GetDatum(months[i].posts);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * archive.month_of(published_at timestamptz): the calendar month (UTC) a post
 * is summarised under, as the date of its first day; -infinity for NULL (an
 * undated post), +/-infinity for an infinite time.  In C, not SQL, so that it
 * costs no SQL function call per post and postgres_fdw, which ships the
 * extension's functions, can still group by it on a shard.
 */
PG_FUNCTION_INFO_V1(archive_month_of);
Datum
archive_month_of(PG_FUNCTION_ARGS)
{
	TimestampTz ts;
	struct pg_tm tm;
	DateADT		month;

	if (PG_ARGISNULL(0))
	{
		DATE_NOBEGIN(month);
		PG_RETURN_DATEADT(month);
	}
	ts = PG_GETARG_TIMESTAMPTZ(0);
	if (TIMESTAMP_IS_NOBEGIN(ts))
		DATE_NOBEGIN(month);
	else if (TIMESTAMP_IS_NOEND(ts))
		DATE_NOEND(month);
	else
	{
		utc_fields(ts, &tm);
		month = date2j(tm.tm_year, tm.tm_mon, 1) - POSTGRES_EPOCH_JDATE;
	}
	PG_RETURN_DATEADT(month);
}
