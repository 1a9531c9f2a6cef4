/*-------------------------------------------------------------------------
 *
 * jsonform.h
 *	  Reading the JSON text forms of the archive types (termcounts, span),
 *	  and the times JSON holds.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ARCHIVE_JSONFORM_H
#define ARCHIVE_JSONFORM_H

#include "datatype/timestamp.h"
#include "utils/jsonb.h"

extern void jsonform_error(const char *typname, const char *detail) pg_attribute_noreturn();
extern Jsonb *jsonform_parse(const char *str, const char *typname);
extern JsonbValue *jsonform_field(Jsonb *jb, const char *name);
extern int64 jsonform_integer(const JsonbValue *v, const char *typname, const char *what);
extern void jsonform_string(const JsonbValue *v, const char *typname, const char *what,
							const char **str, int *len);
extern JsonbContainer *jsonform_array(const JsonbValue *v, const char *typname,
									  const char *what);
extern TimestampTz jsonform_time(const char *str, int len);

#endif							/* ARCHIVE_JSONFORM_H */
