/*-------------------------------------------------------------------------
 *
 * page_record.h
 *	  A topic page record as page_record.c reads it (jsonb) and page.c
 *	  makes the page from it, and the reader's pieces that need no jsonb.
 *
 * What the reader guarantees, and page.c takes for granted: every text is
 * folded (page_fold_text: not NULL, not blank) and every url checked
 * (page_link_url: NULL when not linked); counts are zero or more, a term's
 * count -1 when not given; the name and every post's title are set; the
 * chart is as page_chart_sum() makes it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ARCHIVE_PAGE_RECORD_H
#define ARCHIVE_PAGE_RECORD_H

#include "nodes/pg_list.h"
#include "pgtime.h"
#include "utils/jsonb.h"

/* The longest span of years a chart shows. */
#define CHART_MAX_YEARS 200

/* A ranked tag or motif of the record. */
typedef struct PageTerm
{
	char	   *term;
	int64		count;			/* -1 when not given */
	char	   *url;			/* linked url, or NULL */
} PageTerm;

/* A post of the record: an entry of the reading path or a reference. */
typedef struct PagePost
{
	char	   *title;
	char	   *url;			/* linked url, or NULL */
	char	   *summary;
	char	   *role;
	List	   *tags;			/* char *: tags, or shared_tags */
	bool		dated;
	struct pg_tm published;		/* UTC, when dated */
} PagePost;

/* Posts per year, for the chart: every year from the first to the last with posts. */
typedef struct PageChart
{
	int			first;			/* the first year with posts */
	int			years;			/* years from the first to the last; 0: no chart */
	int64	   *posts;			/* posts in each year, the first year first */
	int64		max;			/* most posts in one year */
} PageChart;

/* A page record as read: data text folded, urls checked. */
typedef struct PageRecord
{
	char	   *name;			/* the name, else the slug, never NULL */
	char	   *lens;
	char	   *through_line;
	List	   *advice;			/* char * */
	List	   *pitfalls;		/* char * */
	int64		posts;
	int64		undated;		/* posts with no publication time */
	bool		dated;			/* first and last are set */
	struct pg_tm first;
	struct pg_tm last;
	List	   *adjacent;		/* PageTerm *, strongest first */
	List	   *motifs;			/* PageTerm * */
	List	   *early;			/* PageTerm * */
	List	   *recent;			/* PageTerm * */
	List	   *path;			/* PagePost * */
	List	   *references;		/* PagePost *, newest first; maybe not all posts */
	PageChart	chart;			/* from posts_per_month */
} PageRecord;

extern PageRecord *page_record_read(Jsonb *jb);
extern char *page_fold_text(const char *str, int len);
extern char *page_link_url(const char *str, int len);
extern int	page_month_year(const char *key, int len);
extern void page_chart_sum(PageChart *chart, const int *years, const int64 *counts, int n);

#endif							/* ARCHIVE_PAGE_RECORD_H */
