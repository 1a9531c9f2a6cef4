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
#include "utils/numeric.h"

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
