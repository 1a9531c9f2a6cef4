/*-------------------------------------------------------------------------
 *
 * jsonform.c
 *	  Reading the JSON text forms of the archive types (termcounts, span):
 *	  the text is parsed by jsonb's own parser, then read field by field,
 *	  each malformed part reported as invalid input of the named type.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "jsonform.h"

/* Raise the error every malformed text form gets. */
void
jsonform_error(const char *typname, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s", typname),
			 errdetail("%s", detail)));
}

/* Name the type whose text form failed to parse as JSON. */
static void
jsonform_parse_context(void *arg)
{
	errcontext("text form of %s", (const char *) arg);
}

/* Parse text that must be a JSON object. */
Jsonb *
jsonform_parse(const char *str, const char *typname)
{
	ErrorContextCallback callback;
	Jsonb	   *jb;

	callback.callback = jsonform_parse_context;
	callback.arg = (void *) typname;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(str)));
	error_context_stack = callback.previous;

	if (!JB_ROOT_IS_OBJECT(jb))
		jsonform_error(typname, "the text form is a JSON object");
	return jb;
}

/* A field of the top-level object, or NULL. */
JsonbValue *
jsonform_field(Jsonb *jb, const char *name)
{
	return getKeyJsonValueFromContainer(&jb->root, name, strlen(name), NULL);
}

/* A value that must be an integer within int64. */
int64
jsonform_integer(const JsonbValue *v, const char *typname, const char *what)
{
	char	   *digits;
	char	   *end;
	long long	value;

	if (v == NULL || v->type != jbvNumeric)
		jsonform_error(typname, psprintf("%s must be an integer", what));
	digits = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	errno = 0;
	value = strtoll(digits, &end, 10);
	if (errno != 0 || *end != '\0' || end == digits)
		jsonform_error(typname, psprintf("%s must be an integer", what));
	return (int64) value;
}

/* A value that must be a string (not NUL-terminated). */
void
jsonform_string(const JsonbValue *v, const char *typname, const char *what,
				const char **str, int *len)
{
	if (v == NULL || v->type != jbvString)
		jsonform_error(typname, psprintf("%s must be a string", what));
	*str = v->val.string.val;
	*len = v->val.string.len;
}

/* The container of a value that must be an array. */
JsonbContainer *
jsonform_array(const JsonbValue *v, const char *typname, const char *what)
{
	if (v == NULL || v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		jsonform_error(typname, psprintf("%s must be an array", what));
	return v->val.binary.data;
}

/* n decimal digits at str, into *value; false when one is not a digit. */
static bool
read_digits(const char *str, int n, int *value)
{
	*value = 0;
	for (int i = 0; i < n; i++)
	{
		if (str[i] < '0' || str[i] > '9')
			return false;
		*value = *value * 10 + (str[i] - '0');
	}
	return true;
}

/*
 * A JSON time string (not NUL-terminated), as the cast to timestamptz reads
 * it.  The form to_jsonb gives a timestamptz, 2024-05-01T09:30:00.5+02:00
 * (years 1 to 9999, at most six digits of fraction, an offset within 14:59),
 * is read here: through timestamptz_in, which reads every form and looks up
 * time zones, reading the posts' times was 6% of updating the topic months
 * in an incremental refresh (references_merge, at a million posts).  Any
 * other form, or a field out of its range, goes to timestamptz_in, which
 * reads it or raises its error.
 */
TimestampTz
jsonform_time(const char *str, int len)
{
	int			year,
				month,
				day,
				hour,
				minute,
				second,
				offset_hour,
				offset_minute;
	int64		fraction = 0;
	int			fraction_digits = 0;
	const char *end = str + len;

	if (len >= 25 &&
		read_digits(str, 4, &year) && str[4] == '-' && read_digits(str + 5, 2, &month) &&
		str[7] == '-' && read_digits(str + 8, 2, &day) && str[10] == 'T' &&
		read_digits(str + 11, 2, &hour) && str[13] == ':' && read_digits(str + 14, 2, &minute) &&
		str[16] == ':' && read_digits(str + 17, 2, &second))
	{
		/* after the seconds: within the string, which holds at least 25 bytes */
		const char *at = str + 19;

		if (*at == '.')
		{
			for (at++; at < end && *at >= '0' && *at <= '9' && fraction_digits < 7; at++)
			{
				fraction = fraction * 10 + (*at - '0');
				fraction_digits++;
			}
			for (int d = fraction_digits; d < 6; d++)
				fraction *= 10;
		}
		if ((fraction_digits >= 1 || at == str + 19) && fraction_digits <= 6 &&
			end - at == 6 && (at[0] == '+' || at[0] == '-') &&
			read_digits(at + 1, 2, &offset_hour) && at[3] == ':' &&
			read_digits(at + 4, 2, &offset_minute) &&
			year >= 1 && month >= 1 && month <= 12 &&
			day >= 1 && day <= day_tab[isleap(year)][month - 1] &&
			hour <= 23 && minute <= 59 && second <= 59 &&
			offset_hour <= 14 && offset_minute <= 59)
		{
			int64		offset = (offset_hour * MINS_PER_HOUR + offset_minute) * SECS_PER_MINUTE;

			/* the local time less its offset east of UTC */
			return ((int64) (date2j(year, month, day) - POSTGRES_EPOCH_JDATE) * SECS_PER_DAY +
					(hour * MINS_PER_HOUR + minute) * SECS_PER_MINUTE + second -
					(at[0] == '+' ? offset : -offset)) * USECS_PER_SEC + fraction;
		}
	}
	return DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
												   CStringGetDatum(pnstrdup(str, len)),
												   ObjectIdGetDatum(InvalidOid),
												   Int32GetDatum(-1)));
}
