#!/usr/bin/env bash
# test/suites/upgrade.sh: the update path from every previous version. For each released version
# <previous> (a frozen install script sql/archive--<previous>.sql), in two scratch databases
# (created and dropped here), both holding the sample archive (sample/), with
# archive.page_references = 5 so that pages list only some of their posts:
#   old      CREATE EXTENSION archive VERSION '<previous>', load, refresh (pages of the old
#            version), then ALTER EXTENSION archive UPDATE (through the chain of update scripts)
#            and refresh again;
#   new      CREATE EXTENSION archive (the current version), load, refresh.
# Checks, each named after <previous>:
#   installed_old   the old database ran the previous version and had its pages
#   updated         after the update, extversion is the current version and the next refresh is a
#                   full one (the version is part of what a refresh compares)
#   same_objects    both databases have the same extension member objects
#   same_catalog    ... with the same definitions: functions (pg_get_functiondef), columns (type,
#                   NOT NULL, default), constraints, indexes, triggers, views, every COMMENT, the
#                   configuration tables pg_dump keeps, privileges
#   same_pages      the same pages: record, Markdown, HTML and every figure of archive.page_records
#   same_after_edit after the same new post and edited title in both, an incremental refresh in
#                   each gives the same pages again
# Prints one line per check and "SUITE-COUNT: <passed> <failed>"; per failed check, what differs.
# Needs PGHOST, PGPORT, PGUSER (set by test/run) and a server with the extension installed.
set -euo pipefail
source test/lib/checks.sh

current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" archive.control)
previous_versions=()
for script in sql/archive--*.sql; do
  version=${script#sql/archive--}
  version=${version%.sql}
  [[ $version == *--* || $version == "$current" ]] || previous_versions+=("$version")
done
if ((${#previous_versions[@]} == 0)); then
  echo "upgrade: no install script of a previous version in sql/" >&2
  echo "SUITE-COUNT: 0 1"
  exit 1
fi

old=archive_suite_upgrade_old_$$ new=archive_suite_upgrade_new_$$
admin() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
on() { local db=$1; shift; psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
cleanup() {
  admin -c "DROP DATABASE IF EXISTS $old WITH (FORCE)" -c "DROP DATABASE IF EXISTS $new WITH (FORCE)" \
    >/dev/null 2>&1 || true
}
trap cleanup EXIT

# Creates a database with the extension at the given version ('' for the default) and the sample
# archive loaded: setup <db> <version>
setup() {
  admin -c "CREATE DATABASE $1 TEMPLATE template0 ENCODING 'UTF8'" \
    -c "ALTER DATABASE $1 SET archive.page_references = 5"
  on "$1" -v version="$2" >/dev/null <<'SQL'
SELECT CASE WHEN :'version' = '' THEN 'CREATE EXTENSION archive'
            ELSE format('CREATE EXTENSION archive VERSION %L', :'version') END \gexec
\set posts `cat sample/posts.jsonl`
\set topics `cat sample/topics.jsonl`
SELECT * FROM archive.load_jsonl(:'posts');
SELECT * FROM archive.load_topics_jsonl(:'topics');
SQL
}

# The refresh's mode: refresh <db>
refresh() { on "$1" -A -t -c "SELECT mode FROM archive.refresh()"; }

# Every member object of the extension with its definition, one sorted line each: catalog <db>
catalog() {
  on "$1" -A -t <<'SQL'
WITH members AS (
    SELECT d.classid, d.objid
    FROM pg_depend AS d
    JOIN pg_extension AS e ON e.oid = d.refobjid AND e.extname = 'archive'
    WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
)
SELECT line FROM (
    SELECT 'member ' || pg_describe_object(m.classid, m.objid, 0) AS line FROM members AS m
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure || E'\n' || pg_get_functiondef(p.oid)
           || E'\ncomment: ' || coalesce(obj_description(p.oid, 'pg_proc'), '-')
           || E'\nacl: ' || coalesce(p.proacl::text, '-')
    FROM pg_proc AS p JOIN members AS m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
    WHERE p.prokind <> 'a'
    UNION ALL
    SELECT 'aggregate ' || p.oid::regprocedure || ': ' || a.aggtransfn || ' ' || a.aggtranstype::regtype
           || ' ' || a.aggfinalfn || ' ' || a.aggcombinefn || ' ' || a.aggserialfn || ' '
           || a.aggdeserialfn || ' ' || a.aggtransspace || ' ' || p.proparallel::text
           || E'\ncomment: ' || coalesce(obj_description(p.oid, 'pg_proc'), '-')
    FROM pg_proc AS p JOIN pg_aggregate AS a ON a.aggfnoid = p.oid
    JOIN members AS m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
    UNION ALL
    SELECT 'relation ' || c.oid::regclass || ' ' || c.relkind::text || ' ' || coalesce(array_to_string(c.reloptions, ','), '')
           || E'\ncomment: ' || coalesce(obj_description(c.oid, 'pg_class'), '-')
           || E'\nacl: ' || coalesce(c.relacl::text, '-')
           || coalesce(E'\nview: ' || pg_get_viewdef(c.oid), '')
    FROM pg_class AS c JOIN members AS m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
    UNION ALL
    SELECT 'column ' || c.oid::regclass || '.' || quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
           || coalesce(' DEFAULT ' || pg_get_expr(ad.adbin, ad.adrelid), '')
           || E'\ncomment: ' || coalesce(col_description(c.oid, a.attnum), '-')
    FROM pg_class AS c JOIN members AS m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
    JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef AS ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
    UNION ALL
    SELECT 'constraint ' || r.conrelid::regclass || ' ' || r.conname || ': ' || pg_get_constraintdef(r.oid)
    FROM pg_constraint AS r JOIN members AS m ON m.classid = 'pg_class'::regclass AND m.objid = r.conrelid
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid)
    FROM pg_index AS i JOIN members AS m ON m.classid = 'pg_class'::regclass AND m.objid = i.indrelid
    UNION ALL
    SELECT 'trigger ' || pg_get_triggerdef(t.oid)
    FROM pg_trigger AS t JOIN members AS m ON m.classid = 'pg_class'::regclass AND m.objid = t.tgrelid
    WHERE NOT t.tgisinternal
    UNION ALL
    SELECT 'type ' || t.oid::regtype || ' ' || t.typtype::text || E'\ncomment: ' || coalesce(obj_description(t.oid, 'pg_type'), '-')
    FROM pg_type AS t JOIN members AS m ON m.classid = 'pg_type'::regclass AND m.objid = t.oid
    UNION ALL
    SELECT 'config ' || x.relid::regclass || ' ' || coalesce(x.condition, '')
    FROM pg_extension AS e,
         unnest(e.extconfig, e.extcondition) AS x(relid, condition)
    WHERE e.extname = 'archive'
) AS lines
ORDER BY line COLLATE "C";
SQL
}

# Every page, figures and renderings, without the refresh times: pages <db>
pages() {
  on "$1" -A -t -c "
    SELECT topic, md5(record::text), md5(markdown), md5(html), md5(row(name, post_count, first_published,
           last_published, span::text, adjacent_tags, adjacent_scores, title_motifs, motif_scores, early_motifs,
           recent_motifs, reading_path, \"references\", definition, claims, advice, pitfalls)::text)
    FROM archive.page_records ORDER BY topic COLLATE \"C\""
}

# Checks that two outputs are equal, printing their differences when not: same <name> <a> <b>
same() {
  if [[ $2 == "$3" ]]; then
    check_that "$1" 1 "$(printf '%s\n' "$2" | grep -c '' ) lines equal"
  else
    check_that "$1" 0 "differs (< updated from $previous, > installed as $current):"
    diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | head -n 60 || true
  fi
}

# Updates a database from <previous> and compares it with a new install: check_update_from <previous>
check_update_from() {
  local previous=$1
  cleanup
  setup "$old" "$previous"
  mode_before=$(refresh "$old")
  version_before=$(on "$old" -A -t -c "SELECT extversion FROM pg_extension WHERE extname = 'archive'")
  pages_before=$(on "$old" -A -t -c "SELECT count(*) FROM archive.page_records")
  check_that "installed_old_from_$previous" "$([[ $version_before == "$previous" && $mode_before == full && $pages_before -gt 0 ]] && echo 1 || echo 0)" \
    "version $version_before, refresh $mode_before, $pages_before pages"

  on "$old" -c "ALTER EXTENSION archive UPDATE"
  mode_after=$(refresh "$old")
  version_after=$(on "$old" -A -t -c "SELECT extversion FROM pg_extension WHERE extname = 'archive'")
  check_that "updated_from_$previous" "$([[ $version_after == "$current" && $mode_after == full ]] && echo 1 || echo 0)" \
    "version $version_before -> $version_after, first refresh after it: $mode_after"

  setup "$new" ""
  refresh "$new" >/dev/null
  old_catalog=$(catalog "$old") new_catalog=$(catalog "$new")
  same "same_objects_from_$previous" "$(grep '^member ' <<<"$old_catalog")" "$(grep '^member ' <<<"$new_catalog")"
  same "same_catalog_from_$previous" "$old_catalog" "$new_catalog"
  same "same_pages_from_$previous" "$(pages "$old")" "$(pages "$new")"

  edit="INSERT INTO archive.posts (key, url, title, published_at, tags)
        VALUES ('upgrade-new', '/posts/upgrade-new', 'Contract Tests After an Upgrade', '2026-11-01', '{testing,databases}');
        UPDATE archive.posts SET title = title || ' (Revised)' WHERE key = (SELECT min(key) FROM archive.posts);"
  on "$old" -c "$edit"
  on "$new" -c "$edit"
  modes="$(refresh "$old") $(refresh "$new")"
  if [[ $modes == "incremental incremental" ]]; then
    same "same_after_edit_from_$previous" "$(pages "$old")" "$(pages "$new")"
  else
    check_that "same_after_edit_from_$previous" 0 "the refreshes after the edit were not incremental: $modes"
  fi
}

for previous in "${previous_versions[@]}"; do
  check_update_from "$previous"
done

echo "SUITE-COUNT: $passed $failed"
((failed == 0))
