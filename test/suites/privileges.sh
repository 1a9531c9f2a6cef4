#!/usr/bin/env bash
# test/suites/privileges.sh: who can read what, and search_path attacks, in a scratch database
# (dropped at the end) with the sample archive loaded and refreshed. Roles are made for the run
# (named with the process id) and dropped at the end. The checks:
#   no_definer        no function of the extension is SECURITY DEFINER, and every SQL and PL/pgSQL
#                     function sets search_path = pg_catalog, pg_temp
#   install_script    sql/archive.sql and the update scripts follow the rules for safe extension
#                     scripts: no IF NOT EXISTS outside quoted bodies, no @extschema@ inside them, and
#                     (install script) no CREATE OR REPLACE
#   nobody_schema     a role without USAGE on schema archive gets insufficient_privilege (42501)
#                     from every function and view of the extension
#   nobody_functions  with USAGE on the schema but no privilege on its tables, every function of
#                     the schema (called with plausible arguments) either raises 42501 or returns
#                     nothing of the pages: no marker string of a post or topic in its result
#   nobody_views      every view raises 42501 for that role
#   rls_*             with row-level security on archive.posts and archive.topics and a policy
#                     letting a reader see only some rows, the security_invoker views post_source,
#                     public_posts, topic_catalog, topic_member_posts and topic_members show the
#                     reader exactly those;
#                     topic_pages needs SELECT on page_records (42501 without it) and honours a
#                     policy on page_records, as do topic_markdown and topic_html
#   drafts            draft and private posts appear in no page, record or summary; a post turned
#                     from public to draft leaves no trace after the next refresh
#   shadow_*          a role that may create objects in public shadows functions, aggregates and
#                     operators (lower, btrim, =, &&, ||, array_agg, unnest, jsonb_build_object,
#                     now, count, ...), each recording that it ran; a superuser then runs the
#                     refresh, the loaders, the aggregates, the renderers and reads the views with
#                     search_path = 'public' and with 'public, pg_catalog': no shadow ever runs
# Prints "SUITE-COUNT: <passed> <failed>" (one per check).
set -euo pipefail
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

db=archive_suite_privileges_$$
nobody=archive_priv_nobody_$$
reader=archive_priv_reader_$$
attacker=archive_priv_attacker_$$
admin() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
in_db() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
run() { in_db -o /dev/null "$@"; }
cleanup() {
  admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  for role in "$nobody" "$reader" "$attacker"; do
    admin -c "DROP ROLE IF EXISTS $role" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

source test/lib/checks.sh

# ---------------------------------------------------------------------------------------------
# The install script and the update scripts: parsed into what runs at CREATE or ALTER EXTENSION
# and what sits in quoted bodies. An update script replaces functions of the version it updates
# in place (CREATE OR REPLACE, which PostgreSQL allows only on the extension's own members).
script_problems=$(perl -0777 -ne '
  my ($outside, $inside) = ("", "");
  while (/\G(--[^\n]*|\/\*.*?\*\/|'"'"'(?:[^'"'"']|'"'"''"'"')*'"'"'|(\$(\w*)\$).*?\2|.)/gs) {
    my $tok = $1;
    if (defined $2) { $inside .= $tok; }
    elsif ($tok =~ /^(--|\/\*)/) { }
    elsif ($tok =~ /^'"'"'/) { $inside .= $tok; }
    else { $outside .= $tok; }
  }
  my $update = $ARGV =~ /--.*--/;
  print "$ARGV: CREATE OR REPLACE outside a quoted body\n" if !$update && $outside =~ /CREATE\s+OR\s+REPLACE/i;
  print "$ARGV: IF NOT EXISTS outside a quoted body\n" if $outside =~ /IF\s+NOT\s+EXISTS/i;
  print "$ARGV: \@extschema\@ inside a quoted body\n" if $inside =~ /\@extschema\@/i;
  print "$ARGV: no CREATE statements found (the parse went wrong)\n" unless $outside =~ /CREATE\s+(OR\s+REPLACE\s+)?FUNCTION/i;
' sql/archive.sql sql/archive--*--*.sql)
check_status install_script "$([[ -z $script_problems ]]; echo $?)" "$script_problems"

admin -c "CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8'"
admin -c "CREATE ROLE $nobody LOGIN" -c "CREATE ROLE $reader LOGIN" -c "CREATE ROLE $attacker LOGIN"

# The sample archive, with marker strings in a post and a topic, plus a draft and a private post.
# shellcheck disable=SC2016
{
  echo '\set lines `cat sample/posts.jsonl`'
  echo '\set topics `cat sample/topics.jsonl`'
  cat <<'SQL'
CREATE EXTENSION archive;
SELECT * FROM archive.load_jsonl(:'lines');
SELECT * FROM archive.load_topics_jsonl(:'topics');
INSERT INTO archive.posts (key, url, title, summary, tags, published_at, visibility) VALUES
    ('marker-public', 'https://p.example/zzmarker-public', 'Zzmarker public post', 'zzmarker summary',
     '{testing,zzmarkertag}', '2021-05-05', 'public'),
    ('marker-draft', 'https://p.example/zzdraft', 'Zzdraft unpublished post', 'zzdraft summary',
     '{testing,databases,zzdrafttag}', '2021-06-06', 'draft'),
    ('marker-private', 'https://p.example/zzprivate', 'Zzprivate post', 'zzprivate summary',
     '{testing,accessibility,zzprivatetag}', '2021-07-07', 'private'),
    ('marker-turns-draft', 'https://p.example/zzturns', 'Zzturns draft later', 'zzturns summary',
     '{testing,zzturnstag}', '2021-08-08', 'public');
UPDATE archive.topics SET through_line = 'Zzmarker through line' WHERE slug = 'testing';
SELECT * FROM archive.refresh();
SQL
} | run

# ---------------------------------------------------------------------------------------------
# Definer rights and search_path settings.
check_rows no_definer "
  SELECT p.oid::regprocedure AS function, 'SECURITY DEFINER' AS problem
  FROM pg_proc AS p WHERE p.pronamespace = 'archive'::regnamespace AND p.prosecdef
  UNION ALL
  SELECT p.oid::regprocedure, 'no SET search_path = pg_catalog, pg_temp'
  FROM pg_proc AS p JOIN pg_language AS l ON l.oid = p.prolang
  WHERE p.pronamespace = 'archive'::regnamespace AND l.lanname IN ('sql', 'plpgsql')
    AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)"

# ---------------------------------------------------------------------------------------------
# Calls of every function of the schema, with plausible arguments, as a given role; the outcome of
# each (ok with its result as text, or the SQLSTATE) goes into priv.calls.
run <<SQL
CREATE SCHEMA priv;
GRANT USAGE ON SCHEMA priv TO $nobody, $reader;
CREATE TABLE priv.calls (who text, what text, outcome text, sqlstate text, result text);
GRANT INSERT ON priv.calls TO $nobody, $reader;
-- A plausible value of each argument type.
CREATE FUNCTION priv.sample(t regtype) RETURNS text LANGUAGE sql AS \$\$
    SELECT CASE t
        WHEN 'text'::regtype THEN quote_literal('testing')
        WHEN 'text[]'::regtype THEN quote_literal('{testing,databases}') || '::text[]'
        WHEN 'jsonb'::regtype THEN quote_literal('{"name": "x", "references": []}') || '::jsonb'
        WHEN 'boolean'::regtype THEN 'true'
        WHEN 'integer'::regtype THEN '5'
        WHEN 'bigint'::regtype THEN '5'
        WHEN 'regclass'::regtype THEN quote_literal('archive.posts') || '::regclass'
        WHEN 'regconfig'::regtype THEN quote_literal('english') || '::regconfig'
        WHEN 'interval'::regtype THEN quote_literal('1 day') || '::interval'
        WHEN 'date[]'::regtype THEN quote_literal('{2021-05-01}') || '::date[]'
        WHEN 'timestamp with time zone'::regtype THEN 'now()'
        WHEN 'cstring'::regtype THEN quote_literal('{}') || '::cstring'
        WHEN 'archive.visibility'::regtype THEN quote_literal('public') || '::archive.visibility'
        WHEN 'archive.termcounts'::regtype THEN quote_literal('{"kind": "tags", "capacity": 16, "rows": 2, "error": 0, "terms": [["go", 2]]}') || '::archive.termcounts'
        WHEN 'archive.span'::regtype THEN quote_literal('{"posts": 1, "undated": 0, "first": "2020-01-05T00:00:00Z", "last": "2020-01-05T00:00:00Z", "months": [["2020-01", 1]]}') || '::archive.span'
        ELSE 'NULL::' || t::text
    END
\$\$;
-- Every callable function of the schema (no internal or trigger types, no aggregates), with the
-- statement that calls it, written here by the superuser.
CREATE TABLE priv.functions AS
SELECT p.oid, format('SELECT string_agg(x::text, %L) FROM (SELECT %s(%s) AS x) AS s', ' ', p.oid::regproc,
                     coalesce((SELECT string_agg(priv.sample(a.t), ', ' ORDER BY a.n)
                               FROM unnest(p.proargtypes::regtype[]) WITH ORDINALITY AS a(t, n)), '')) AS stmt
FROM pg_proc AS p
WHERE p.pronamespace = 'archive'::regnamespace AND p.prokind = 'f'
  AND p.prorettype NOT IN ('internal'::regtype, 'trigger'::regtype)
  AND NOT ('internal'::regtype = ANY (p.proargtypes::regtype[]));
CREATE FUNCTION priv.call_all(who text) RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE
    f record;
    res text;
    st text;
BEGIN
    FOR f IN SELECT * FROM priv.functions ORDER BY oid LOOP
        BEGIN
            EXECUTE f.stmt INTO res;
            INSERT INTO priv.calls VALUES (who, f.stmt, 'ok', NULL, res);
        EXCEPTION WHEN others THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
            INSERT INTO priv.calls VALUES (who, f.stmt, 'error', st, NULL);
        END;
    END LOOP;
    FOR f IN SELECT c.oid::regclass AS v FROM pg_class AS c
             WHERE c.relnamespace = 'archive'::regnamespace AND c.relkind IN ('v', 'r') LOOP
        BEGIN
            EXECUTE format('SELECT string_agg(x::text, %L) FROM %s AS x', ' ', f.v) INTO res;
            INSERT INTO priv.calls VALUES (who, 'SELECT FROM ' || f.v, 'ok', NULL, res);
        EXCEPTION WHEN others THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
            INSERT INTO priv.calls VALUES (who, 'SELECT FROM ' || f.v, 'error', st, NULL);
        END;
    END LOOP;
END
\$\$;
GRANT EXECUTE ON FUNCTION priv.call_all(text) TO $nobody, $reader;
GRANT SELECT ON priv.functions TO $nobody, $reader;
SQL
nfunctions=$(in_db -A -t -c "SELECT count(*) FROM priv.functions")
echo "privileges: $nfunctions functions of schema archive called with sample arguments"

# Without USAGE on the schema: everything is refused.
run -c "SET ROLE $nobody" -c "SELECT priv.call_all('nobody, no schema usage')"
check_rows nobody_schema "
  SELECT what, outcome, sqlstate FROM priv.calls
  WHERE who = 'nobody, no schema usage' AND what NOT LIKE '%archive.filler_words%'
    AND coalesce(sqlstate, '') <> '42501'
  UNION ALL
  SELECT 'calls: ' || count(*), NULL, NULL FROM priv.calls WHERE who = 'nobody, no schema usage' HAVING count(*) < 20"

# With USAGE on the schema but no privilege on its tables: no page data comes out.
# The views are granted too: security_invoker views then need the tables, which are not.
run -c "GRANT USAGE ON SCHEMA archive TO $nobody" \
  -c "DO \$\$ DECLARE v regclass; BEGIN FOR v IN SELECT oid FROM pg_class WHERE relnamespace = 'archive'::regnamespace AND relkind = 'v' LOOP EXECUTE format('GRANT SELECT ON %s TO $nobody', v); END LOOP; END \$\$" \
  -c "SET ROLE $nobody" -c "SELECT priv.call_all('nobody')"
check_rows nobody_functions "
  SELECT what, outcome, sqlstate, left(result, 200) AS result FROM priv.calls
  WHERE who = 'nobody' AND what LIKE 'SELECT string_agg%' AND result ~* 'zz(marker|draft|private|turns)|fieldnotes'"
check_rows nobody_views "
  -- the views over the store and the pages are refused; others (refresh_progress: the backends
  -- refreshing now) show nothing of the pages
  SELECT what, outcome, sqlstate FROM priv.calls
  WHERE who = 'nobody' AND what LIKE 'SELECT FROM %' AND what <> 'SELECT FROM archive.filler_words'
    AND coalesce(sqlstate, '') <> '42501'
    AND (what ~ 'archive\.(post_source|public_posts|topic_catalog|topic_member_posts|topic_members|topic_pages|refresh_status)\$'
         OR result ~* 'zz(marker|draft|private|turns)|fieldnotes')"
echo "privileges: as a role with schema usage only: $(in_db -A -t -c "
  SELECT count(*) FILTER (WHERE sqlstate = '42501') || ' calls refused (42501), ' ||
         count(*) FILTER (WHERE outcome = 'ok') || ' ran on their arguments alone, ' ||
         count(*) FILTER (WHERE outcome = 'error' AND sqlstate <> '42501') || ' other errors'
  FROM priv.calls WHERE who = 'nobody'")"

# ---------------------------------------------------------------------------------------------
# Row-level security through the security_invoker views.
run <<SQL
GRANT USAGE ON SCHEMA archive TO $reader;
GRANT SELECT ON archive.posts, archive.topics, archive.post_topics TO $reader;
GRANT SELECT ON archive.post_source, archive.public_posts, archive.topic_catalog, archive.topic_member_posts,
                archive.topic_members, archive.topic_pages TO $reader;
ALTER TABLE archive.posts ENABLE ROW LEVEL SECURITY;
ALTER TABLE archive.topics ENABLE ROW LEVEL SECURITY;
CREATE POLICY reader_posts ON archive.posts FOR SELECT TO $reader
    USING (published_at < '2018-01-01' OR key = 'marker-draft');
CREATE POLICY reader_topics ON archive.topics FOR SELECT TO $reader
    USING (slug IN ('testing', 'databases'));
-- what the reader may see, by the policies' own conditions
CREATE TABLE priv.reader_posts AS SELECT key FROM archive.posts WHERE published_at < '2018-01-01' OR key = 'marker-draft';
CREATE TABLE priv.reader_members AS
    SELECT m.* FROM archive.topic_members AS m
    WHERE m.topic IN ('testing', 'databases') AND m.post_key IN (SELECT key FROM priv.reader_posts);
GRANT SELECT ON priv.reader_posts, priv.reader_members TO $reader;
SQL
n_seen=$(in_db -A -t -c "SELECT count(*) || ' of ' || (SELECT count(*) FROM archive.posts) FROM priv.reader_posts")
echo "privileges: the reader's policy shows $n_seen posts"

as_reader() { printf 'SET ROLE %s;\n%s' "$reader" "$1"; }
check_rows rls_post_source "$(as_reader "
  (SELECT key FROM archive.post_source EXCEPT SELECT key FROM priv.reader_posts)
  UNION ALL (SELECT key FROM priv.reader_posts EXCEPT SELECT key FROM archive.post_source)")"
check_rows rls_public_posts "$(as_reader "
  (SELECT key FROM archive.public_posts
   EXCEPT SELECT r.key FROM priv.reader_posts AS r JOIN archive.post_source AS p USING (key) WHERE p.visibility = 'public')
  UNION ALL
  (SELECT r.key FROM priv.reader_posts AS r JOIN archive.post_source AS p USING (key) WHERE p.visibility = 'public'
   EXCEPT SELECT key FROM archive.public_posts)
  UNION ALL SELECT 'draft shown: ' || key FROM archive.public_posts WHERE key = 'marker-draft'")"
check_rows rls_topic_catalog "$(as_reader "
  SELECT topic FROM archive.topic_catalog WHERE topic NOT IN ('testing', 'databases')
  UNION ALL SELECT 'topics seen: ' || count(*) FROM archive.topic_catalog HAVING count(*) <> 2")"
check_rows rls_topic_members "$(as_reader "
  (SELECT topic, post_key FROM archive.topic_members EXCEPT SELECT topic, post_key FROM priv.reader_members)
  UNION ALL (SELECT topic, post_key FROM priv.reader_members EXCEPT SELECT topic, post_key FROM archive.topic_members)
  UNION ALL SELECT 'no members seen', NULL WHERE NOT EXISTS (SELECT 1 FROM archive.topic_members)")"
check_rows rls_topic_member_posts "$(as_reader "
  (SELECT topic, post_key FROM archive.topic_member_posts EXCEPT SELECT topic, post_key FROM priv.reader_members)
  UNION ALL (SELECT topic, post_key FROM priv.reader_members EXCEPT SELECT topic, post_key FROM archive.topic_member_posts)
  UNION ALL SELECT 'draft shown: ' || post_key, NULL FROM archive.topic_member_posts WHERE post_key = 'marker-draft'")"
check_rows rls_topic_pages_needs_grant "
  SET ROLE $reader;
  DO \$\$ BEGIN
      PERFORM * FROM archive.topic_pages;
      RAISE EXCEPTION 'topic_pages readable without SELECT on page_records';
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END \$\$;
  DO \$\$ BEGIN
      PERFORM archive.topic_markdown('testing');
      RAISE EXCEPTION 'topic_markdown readable without SELECT on page_records';
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END \$\$;
  SELECT 1 WHERE false"
run <<SQL
GRANT SELECT ON archive.page_records TO $reader;
ALTER TABLE archive.page_records ENABLE ROW LEVEL SECURITY;
CREATE POLICY reader_pages ON archive.page_records FOR SELECT TO $reader USING (topic = 'testing');
SQL
check_rows rls_topic_pages "$(as_reader "
  SELECT topic FROM archive.topic_pages WHERE topic <> 'testing'
  UNION ALL SELECT 'pages seen: ' || count(*) FROM archive.topic_pages HAVING count(*) <> 1
  UNION ALL SELECT 'topic_markdown(databases) shown' WHERE archive.topic_markdown('databases') IS NOT NULL
  UNION ALL SELECT 'topic_html(databases) shown' WHERE archive.topic_html('databases') IS NOT NULL
  UNION ALL SELECT 'topic_markdown(testing) hidden' WHERE archive.topic_markdown('testing') IS NULL")"
run -c "ALTER TABLE archive.posts DISABLE ROW LEVEL SECURITY" -c "ALTER TABLE archive.topics DISABLE ROW LEVEL SECURITY" \
  -c "ALTER TABLE archive.page_records DISABLE ROW LEVEL SECURITY"

# ---------------------------------------------------------------------------------------------
# Drafts and private posts: nowhere; a post turned draft: gone after the next refresh.
hidden_check() {
  local markers=$1
  printf "
  SELECT 'page_records ' || topic FROM archive.page_records AS p WHERE p::text ~* '%s'
  UNION ALL SELECT 'topic_months ' || topic FROM archive.topic_months AS m WHERE m::text ~* '%s'
  UNION ALL SELECT 'archive_months ' || month FROM archive.archive_months AS a WHERE a::text ~* '%s'
  UNION ALL SELECT 'posts counted: ' || sum(archive.rows(tags)) FROM archive.archive_months
            HAVING sum(archive.rows(tags)) <> (SELECT count(*) FROM archive.posts WHERE visibility = 'public')" \
    "$markers" "$markers" "$markers"
}
check_rows drafts "$(hidden_check 'zz(draft|private)')"
check_rows public_marker_shown "SELECT 'public marker post missing' WHERE NOT EXISTS (SELECT 1 FROM archive.page_records WHERE markdown LIKE '%Zzturns draft later%')"
run -c "UPDATE archive.posts SET visibility = 'draft' WHERE key = 'marker-turns-draft'" -c "SELECT * FROM archive.refresh()"
check_rows turned_draft "$(hidden_check 'zz(draft|private|turns)')"

# ---------------------------------------------------------------------------------------------
# search_path attacks: shadows in public, each recording its run.
run <<SQL
GRANT CREATE, USAGE ON SCHEMA public TO $attacker;
CREATE TABLE public.shadow_calls (name text, at timestamptz DEFAULT clock_timestamp());
GRANT INSERT, SELECT ON public.shadow_calls TO $attacker, PUBLIC;
SET ROLE $attacker;
-- Every shadow calls this: a warning (which a rollback cannot take back), a row, then an error.
CREATE FUNCTION public.shadow_ran(what text) RETURNS void LANGUAGE plpgsql AS \$f\$
BEGIN
    RAISE WARNING 'SHADOW RAN: %', what;
    INSERT INTO public.shadow_calls (name) VALUES (what);
    RAISE EXCEPTION 'shadow % ran', what;
END \$f\$;
-- Functions: same signature as pg_catalog's (win with search_path = public, pg_catalog) and
-- looser ones (varchar, unknown-friendly, anyelement) that could win type resolution otherwise.
DO \$do\$
DECLARE
    f record;
BEGIN
    FOR f IN SELECT * FROM (VALUES
        ('lower', 'text', 'text'), ('lower', 'character varying', 'text'), ('upper', 'text', 'text'),
        ('btrim', 'text', 'text'), ('btrim', 'text, text', 'text'), ('btrim', 'character varying', 'text'),
        ('length', 'text', 'integer'), ('left', 'text, integer', 'text'), ('substr', 'text, integer', 'text'),
        ('replace', 'text, text, text', 'text'), ('translate', 'text, text, text', 'text'),
        ('regexp_replace', 'text, text, text', 'text'), ('regexp_replace', 'text, text, text, text', 'text'),
        ('regexp_split_to_table', 'text, text', 'SETOF text'), ('string_to_array', 'text, text', 'text[]'),
        ('unnest', 'anyarray', 'SETOF anyelement'), ('unnest', 'text[]', 'SETOF text'),
        ('array_length', 'anyarray, integer', 'integer'), ('cardinality', 'anyarray', 'integer'),
        ('array_to_string', 'anyarray, text', 'text'), ('array_remove', 'anyarray, anyelement', 'anyarray'),
        ('jsonb_build_object', 'text, text', 'jsonb'), ('jsonb_build_object', 'text, jsonb', 'jsonb'),
        ('jsonb_build_array', 'text', 'jsonb'), ('jsonb_array_elements', 'jsonb', 'SETOF jsonb'),
        ('jsonb_array_elements_text', 'jsonb', 'SETOF text'), ('jsonb_typeof', 'jsonb', 'text'),
        ('jsonb_object_keys', 'jsonb', 'SETOF text'), ('jsonb_array_length', 'jsonb', 'integer'),
        ('to_jsonb', 'anyelement', 'jsonb'), ('to_jsonb', 'text', 'jsonb'),
        ('jsonb_path_query_array', 'jsonb, jsonpath', 'jsonb'),
        ('now', '', 'timestamp with time zone'), ('clock_timestamp', '', 'timestamp with time zone'),
        ('current_setting', 'text', 'text'), ('current_setting', 'text, boolean', 'text'),
        ('current_database', '', 'name'), ('isfinite', 'timestamp with time zone', 'boolean'),
        ('date_trunc', 'text, timestamp with time zone', 'timestamp with time zone'),
        ('date_trunc', 'text, timestamp without time zone', 'timestamp without time zone'),
        ('to_char', 'date, text', 'text'), ('ln', 'double precision', 'double precision'),
        ('round', 'numeric, integer', 'numeric'), ('greatest', 'bigint, bigint', 'bigint'),
        ('pg_advisory_xact_lock', 'integer, integer', 'void'), ('pg_try_advisory_xact_lock', 'integer, integer', 'boolean'),
        ('pg_get_viewdef', 'regclass', 'text'), ('quote_ident', 'text', 'text'), ('quote_literal', 'text', 'text'),
        ('format', 'text', 'text'), ('format', 'text, text', 'text'), ('format', 'text, text, text', 'text'),
        ('nullif', 'text, text', 'text'), ('coalesce', 'text, text', 'text'), ('isnull', 'text', 'boolean'),
        ('concat', 'text, text', 'text'), ('starts_with', 'text, text', 'boolean'), ('strpos', 'text, text', 'integer'),
        ('md5', 'text', 'text'), ('normalize_tag', 'text', 'text'), ('normalize_tags', 'text[]', 'text[]'),
        ('slugify', 'text', 'text'), ('month_of', 'timestamp with time zone', 'date'), ('settings', '', 'jsonb'),
        ('jsonb_strip_nulls', 'jsonb', 'jsonb'), ('array_position', 'anyarray, anyelement', 'integer'),
        ('generate_series', 'integer, integer', 'SETOF integer'), ('pg_sleep', 'double precision', 'void'))
        AS v(name, args, ret)
    LOOP
        EXECUTE format(
            'CREATE FUNCTION public.%I(%s) RETURNS %s LANGUAGE plpgsql AS \$f\$ BEGIN '
            'PERFORM public.shadow_ran(%L); RETURN%s; END \$f\$',
            f.name, f.args, f.ret, f.name || '(' || f.args || ')',
            CASE WHEN f.ret LIKE 'SETOF %' OR f.ret = 'void' THEN '' ELSE ' NULL' END);
    END LOOP;
END
\$do\$;
-- Aggregates with a recording transition function.
CREATE FUNCTION public.shadow_trans(state text, value anyelement) RETURNS text LANGUAGE plpgsql AS \$f\$
BEGIN PERFORM public.shadow_ran('aggregate'); RETURN NULL; END \$f\$;
CREATE FUNCTION public.shadow_trans2(state text, value anyelement, value2 text) RETURNS text LANGUAGE plpgsql AS \$f\$
BEGIN PERFORM public.shadow_ran('aggregate'); RETURN NULL; END \$f\$;
CREATE AGGREGATE public.array_agg(anyelement) (SFUNC = public.shadow_trans, STYPE = text);
CREATE AGGREGATE public.jsonb_agg(anyelement) (SFUNC = public.shadow_trans, STYPE = text);
CREATE AGGREGATE public.count(anyelement) (SFUNC = public.shadow_trans, STYPE = text);
CREATE AGGREGATE public.count(text) (SFUNC = public.shadow_trans, STYPE = text);
CREATE AGGREGATE public.sum(integer) (SFUNC = public.shadow_trans, STYPE = text);
CREATE AGGREGATE public.sum(bigint) (SFUNC = public.shadow_trans, STYPE = text);
CREATE AGGREGATE public.max(bigint) (SFUNC = public.shadow_trans, STYPE = text);
CREATE AGGREGATE public.min(timestamp with time zone) (SFUNC = public.shadow_trans, STYPE = text);
CREATE AGGREGATE public.string_agg(text, text) (SFUNC = public.shadow_trans2, STYPE = text);
CREATE AGGREGATE public.jsonb_object_agg(text, text) (SFUNC = public.shadow_trans2, STYPE = text);
CREATE AGGREGATE public.tag_counts_agg(text[]) (SFUNC = public.shadow_trans, STYPE = text);
-- Operators over the types the extension compares.
DO \$do\$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['text[]', 'bigint', 'date', 'integer'] LOOP
        EXECUTE format('CREATE FUNCTION public.%I(a %s, b %s) RETURNS boolean LANGUAGE plpgsql AS \$f\$ '
                       'BEGIN PERFORM public.shadow_ran(%L); RETURN NULL; END \$f\$',
                       'shadow_op_' || translate(t, '[]', '__'), t, t, 'operator on ' || t);
    END LOOP;
END
\$do\$;
CREATE FUNCTION public.shadow_op_text(a text, b text) RETURNS boolean LANGUAGE plpgsql AS \$f\$
BEGIN PERFORM public.shadow_ran('operator text'); RETURN NULL; END \$f\$;
CREATE FUNCTION public.shadow_concat(a text, b text) RETURNS text LANGUAGE plpgsql AS \$f\$
BEGIN PERFORM public.shadow_ran('operator ||'); RETURN NULL; END \$f\$;
CREATE FUNCTION public.shadow_arrow(a jsonb, b text) RETURNS text LANGUAGE plpgsql AS \$f\$
BEGIN PERFORM public.shadow_ran('operator ->>'); RETURN NULL; END \$f\$;
CREATE FUNCTION public.shadow_arrow_j(a jsonb, b text) RETURNS jsonb LANGUAGE plpgsql AS \$f\$
BEGIN PERFORM public.shadow_ran('operator ->'); RETURN NULL; END \$f\$;
CREATE FUNCTION public.shadow_q(a jsonb, b text) RETURNS boolean LANGUAGE plpgsql AS \$f\$
BEGIN PERFORM public.shadow_ran('operator ?'); RETURN NULL; END \$f\$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.shadow_op_text);
CREATE OPERATOR public.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = public.shadow_op_text);
CREATE OPERATOR public.< (LEFTARG = text, RIGHTARG = text, FUNCTION = public.shadow_op_text);
CREATE OPERATOR public.~ (LEFTARG = text, RIGHTARG = text, FUNCTION = public.shadow_op_text);
CREATE OPERATOR public.&& (LEFTARG = text[], RIGHTARG = text[], FUNCTION = public.shadow_op_text__);
CREATE OPERATOR public.= (LEFTARG = text[], RIGHTARG = text[], FUNCTION = public.shadow_op_text__);
CREATE OPERATOR public.@> (LEFTARG = text[], RIGHTARG = text[], FUNCTION = public.shadow_op_text__);
CREATE OPERATOR public.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.shadow_op_bigint);
CREATE OPERATOR public.= (LEFTARG = date, RIGHTARG = date, FUNCTION = public.shadow_op_date);
CREATE OPERATOR public.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = public.shadow_op_integer);
CREATE OPERATOR public.> (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.shadow_op_bigint);
CREATE OPERATOR public.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = public.shadow_concat);
CREATE OPERATOR public.->> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = public.shadow_arrow);
CREATE OPERATOR public.-> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = public.shadow_arrow_j);
CREATE OPERATOR public.? (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = public.shadow_q);
-- Tables and views the extension's code names without a schema would find here first.
CREATE TABLE public.posts (key text, title text, tags text[]);
CREATE TABLE public.topics (slug text);
CREATE TABLE public.page_records (topic text);
CREATE TABLE public.filler_words (word text);
CREATE VIEW public.public_posts AS SELECT NULL::text AS key;
RESET ROLE;
SQL
nshadows=$(in_db -A -t -c "SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND proowner = '$attacker'::regrole")
nops=$(in_db -A -t -c "SELECT count(*) FROM pg_operator WHERE oprnamespace = 'public'::regnamespace")
echo "privileges: the attacker made $nshadows functions and aggregates and $nops operators in public"

# What a superuser (or a pg_cron job) runs: refresh, loaders, aggregates, renderers, views. The
# statements' own top-level calls are schema-qualified: only the extension's code is under test.
victim_sql='
SELECT pg_catalog.count(*) FROM archive.refresh(full => true);
SELECT pg_catalog.count(*) FROM archive.load_jsonl(E'"'"'{"url": "https://p.example/shadow", "title": "Shadow test post", "tags": ["testing", "go"]}\n{"url": "https://p.example/shadow", "title": "Shadow test post again", "tags": ["Testing"]}\nnot json'"'"');
SELECT pg_catalog.count(*) FROM archive.load_topics_jsonl(E'"'"'{"slug": "shadowed", "name": "Shadowed", "tags": ["go"], "advice": ["a"]}'"'"');
SELECT pg_catalog.count(*) FROM archive.refresh();
SELECT pg_catalog.count(*) FROM archive.refresh(full => true);
SELECT archive.tag_counts_agg(tags)::text, archive.title_terms_agg(title)::text, archive.topic_span(published_at)::text,
       archive.tag_adjacency(tags, 5, ARRAY[$$testing$$])::text, archive.title_motifs(title, 5)::text,
       archive.title_motifs(title, 5, $$english$$)::text
FROM archive.posts;
SELECT archive.termcounts_union_agg(tags)::text, archive.span_union_agg(span)::text FROM archive.topic_months;
SELECT archive.top_terms(archive.termcounts_union_agg(titles), 5, ARRAY[$$go$$])::text FROM archive.topic_months;
SELECT pg_catalog.count(*) FROM archive.topic_months AS m, archive.terms(m.tags), archive.posts_per_month(m.span);
SELECT pg_catalog.count(archive.page_markdown(record)), pg_catalog.count(archive.page_html(record)), pg_catalog.count(archive.page_prose(record)) FROM archive.page_records;
SELECT archive.markdown_to_html($$# x *y* [z](javascript:x) <b>$$), archive.topic_markdown($$testing$$) IS NOT NULL, archive.topic_html($$testing$$) IS NOT NULL;
SELECT archive.normalize_tag($$ A  B $$), archive.normalize_tags(ARRAY[$$A$$, $$a$$]), archive.slugify($$A b$$), archive.month_of(pg_catalog.now());
SELECT pg_catalog.count(*) FROM archive.topic_catalog; SELECT pg_catalog.count(*) FROM archive.topic_members; SELECT pg_catalog.count(*) FROM archive.topic_pages;
SELECT pg_catalog.count(*) FROM archive.public_posts; SELECT pg_catalog.count(*) FROM archive.post_source; SELECT * FROM archive.refresh_status;
SELECT pg_catalog.count(*) FROM archive.summarize_topic_months(); SELECT pg_catalog.count(*) FROM archive.page_figures();
SELECT archive.settings() IS NOT NULL;
CREATE TABLE public.shadow_source AS SELECT key AS id, title, tags, published_at FROM archive.posts;
SELECT archive.set_source($$public.shadow_source$$, $${"key": "id"}$$);
SELECT pg_catalog.count(*) FROM archive.refresh();
SELECT archive.ensure_source();
SELECT archive.reset_source();
SELECT pg_catalog.count(*) FROM archive.refresh();
DROP TABLE public.shadow_source;
SELECT archive.schedule_refresh();
'
for path in 'public' 'public, pg_catalog' '"$user", public, pg_catalog, pg_temp'; do
  out=$(in_db -v ON_ERROR_STOP=0 -o /dev/null <<<"SET search_path = $path; $victim_sql" 2>&1 || true)
  errors=$(printf '%s\n' "$out" | grep -E 'ERROR|WARNING' | grep -v 'needs the pg_cron extension' || true)
  calls=$(in_db -A -t -c "SELECT coalesce(string_agg(DISTINCT name, ', '), '') FROM public.shadow_calls")
  run -c "TRUNCATE public.shadow_calls"
  check_status "shadow search_path=$path" "$([[ -z $calls && -z $errors ]]; echo $?)" \
    "shadows ran: ${calls:-none}; errors: ${errors:-none}"
done

# Control: the same shadows do catch code that is not pinned to pg_catalog.
out=$(in_db -v ON_ERROR_STOP=0 -o /dev/null 2>&1 <<'SQL' || true
CREATE FUNCTION priv.unpinned(t text) RETURNS boolean LANGUAGE sql AS 'SELECT lower(t) = t';
SET search_path = public, pg_catalog;
SELECT priv.unpinned('X');
SQL
)
check_status shadow_control "$([[ $out == *"SHADOW RAN: lower(text)"* ]]; echo $?)" "a function without SET search_path did not run the shadow: $out"

echo "SUITE-COUNT: $passed $failed"
((failed == 0))
