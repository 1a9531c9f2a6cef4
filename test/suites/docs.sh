#!/usr/bin/env bash
# test/suites/docs.sh: the reference (doc/reference.md) tells the truth, and the extension explains
# itself. On a cluster of its own (cron.database_name = archive_docs, so that the pg_cron examples
# run), in a database archive_docs holding the extension, pg_cron and the sample archive (sample/),
# loaded and refreshed, it checks:
#   example <line>    every ```sql block of doc/reference.md that is followed (blank lines aside)
#                     by a ```text block: psql's output equals the text block. Each example runs in
#                     a session of its own, inside a transaction that is rolled back, as
#                       psql -X -q -v SHOW_CONTEXT=never  (aligned output, TimeZone UTC)
#                     from the repo root with stderr merged; trailing white space is ignored. In
#                     the text block "..." stands for any text within a line, and a line holding
#                     only "..." for any number of lines.
#   comments          every member object of the extension (pg_depend deptype 'e'), triggers
#                     aside, has a non-empty COMMENT
#   column_comments   every column of the extension's tables, views and composite types has one
#   signatures        every function and aggregate of schema archive appears in the reference as
#                     archive.name(arguments) → result, exactly as the catalog has it (arguments of
#                     pg_get_function_arguments with "::type" casts of defaults left out), every
#                     table, view and composite type as archive.name (column type, ...), every
#                     other type and the sequence by name
#   errors            every SQLSTATE the C code (ereport errcode) and the SQL (RAISE ... ERRCODE)
#                     raise is in the reference's "Errors" section
#   reserved_prefix   after the module is loaded, SET archive.nonexistent fails (prefix reserved)
#   settings_doc      every archive.* setting is in doc/reference.md and in README.md
# Prints "SUITE-COUNT: <passed> <failed>" (one per example and per check) and the differences.
# ARCHIVE_DOCS_WRITE=1 rewrites the text blocks that differ with psql's output instead of failing
# them (for writing the reference; review the diff).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

: "${ARCHIVE_PG_BIN:=/usr/lib/postgresql/15/bin}"
export PATH=$ARCHIVE_PG_BIN:$PATH
source test/lib/cluster.sh

doc=doc/reference.md
db=archive_docs
work=$(mktemp -d)
cluster=$(mktemp -d)  # a folder of its own: the postgres user must be able to enter it
cleanup() {
  cluster_stop "$cluster" || true
  rm -rf "$work" "$cluster"
}
trap cleanup EXIT

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok     $1"; }
fail() { failed=$((failed + 1)); echo "FAILED $1"; }

if [[ ! -f $doc ]]; then
  echo "docs: $doc is missing" >&2
  echo "SUITE-COUNT: 0 1"
  exit 1
fi

# A cluster of its own: the pg_cron examples need cron.database_name to be the examples' database.
cluster_start "$cluster" "cron.database_name = '$db'" || { echo "SUITE-COUNT: 0 1"; exit 1; }
export PGHOST=$CLUSTER_HOST PGPORT=$CLUSTER_PORT PGUSER=postgres PGDATABASE=$db PGTZ=UTC
unset PGOPTIONS PGAPPNAME

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8'"
psql -X -q -v ON_ERROR_STOP=1 -o /dev/null <<'SQL'
CREATE EXTENSION archive;
CREATE EXTENSION pg_cron;
\set posts `cat sample/posts.jsonl`
\set topics `cat sample/topics.jsonl`
SELECT * FROM archive.load_jsonl(:'posts');
SELECT * FROM archive.load_topics_jsonl(:'topics');
SELECT * FROM archive.refresh();
SQL

# --- the examples ------------------------------------------------------------------------------
# Split the reference into $work/ex/<n>.sql, <n>.expected and <n>.line (line of the sql block).
mkdir -p "$work/ex"
perl -e '
  my ($doc, $dir) = @ARGV;
  open my $in, "<", $doc or die "$doc: $!";
  my @lines = <$in>;
  my $n = 0;
  for (my $i = 0; $i < @lines; $i++) {
    next unless $lines[$i] =~ /^```sql\s*$/;
    my $start = $i + 1;
    my $j = $start;
    $j++ while $j < @lines && $lines[$j] !~ /^```\s*$/;
    my $sql = join "", @lines[$start .. $j - 1];
    my $k = $j + 1;
    $k++ while $k < @lines && $lines[$k] =~ /^\s*$/;
    next unless $k < @lines && $lines[$k] =~ /^```text\s*$/;
    my $m = $k + 1;
    $m++ while $m < @lines && $lines[$m] !~ /^```\s*$/;
    my $expected = join "", @lines[$k + 1 .. $m - 1];
    $n++;
    my $base = sprintf "%s/%03d", $dir, $n;
    open my $o, ">", "$base.sql" or die; print $o $sql; close $o;
    open $o, ">", "$base.expected" or die; print $o $expected; close $o;
    open $o, ">", "$base.line" or die; print $o $start, "\n"; close $o;
    $i = $m;
  }' "$doc" "$work/ex"

# Compares actual with expected output ("..." wildcards, trailing white space ignored): 0 if equal.
matches() {
  perl -e '
    sub norm { my $t = shift; $t =~ s/[ \t]+$//mg; $t =~ s/\n*\z/\n/; return $t }
    local $/; open my $a, "<", $ARGV[0] or die; my $actual = norm(<$a>);
    open my $e, "<", $ARGV[1] or die; my $expected = norm(<$e>);
    my $re = join "", map {
      $_ eq "..." ? "(?:[^\\n]*\\n)*?" : join(".*?", map { quotemeta } split /\.\.\./, $_, -1) . "\\n"
    } split /\n/, $expected;
    exit($actual =~ /\A$re\z/s ? 0 : 1);' "$1" "$2"
}

examples=0
for sql in "$work"/ex/*.sql; do
  [[ -e $sql ]] || break
  base=${sql%.sql} line=$(<"${sql%.sql}.line")
  examples=$((examples + 1))
  { echo "BEGIN;"; cat "$sql"; printf '\nROLLBACK;\n'; } |
    psql -X -q -v SHOW_CONTEXT=never >"$base.actual" 2>&1 || true
  if matches "$base.actual" "$base.expected"; then
    pass "example at $doc:$line"
  elif [[ ${ARCHIVE_DOCS_WRITE:-} == 1 ]]; then
    echo "rewrote example at $doc:$line"
    passed=$((passed + 1))
    touch "$base.rewrite"
  else
    fail "example at $doc:$line: psql's output differs (- documented, + actual):"
    diff -u "$base.expected" "$base.actual" | tail -n +3 | head -n 60 || true
  fi
done
if ((examples == 0)); then fail "examples: no \`\`\`sql block followed by a \`\`\`text block in $doc"; fi

if [[ ${ARCHIVE_DOCS_WRITE:-} == 1 ]]; then
  perl -e '
    my ($dir, $doc) = @ARGV;
    open my $in, "<", $doc or die "$doc: $!";
    my @lines = <$in>;
    close $in;
    my $n = 0;
    for (my $i = 0; $i < @lines; $i++) {
      print $lines[$i];
      next unless $lines[$i] =~ /^```sql\s*$/;
      my $j = $i + 1;
      $j++ while $j < @lines && $lines[$j] !~ /^```\s*$/;
      my $k = $j + 1;
      $k++ while $k < @lines && $lines[$k] =~ /^\s*$/;
      next unless $k < @lines && $lines[$k] =~ /^```text\s*$/;
      my $m = $k + 1;
      $m++ while $m < @lines && $lines[$m] !~ /^```\s*$/;
      $n++;
      my $base = sprintf "%s/%03d", $dir, $n;
      print @lines[$i + 1 .. $k];
      if (-e "$base.rewrite") {
        open my $a, "<", "$base.actual" or die; local $/; my $t = <$a>;
        $t =~ s/[ \t]+$//mg; $t =~ s/\n*\z/\n/; $t = "" if $t eq "\n";
        print $t;
      } else {
        print @lines[$k + 1 .. $m - 1];
      }
      print $lines[$m];
      $i = $m;
    }' "$work/ex" "$doc" >"$work/rewritten.md"
  [[ ! -s $work/rewritten.md ]] || cat "$work/rewritten.md" >"$doc"
fi

# --- the catalog against the reference ---------------------------------------------------------
# Runs a query whose rows are the problems (none when the check passes): check_rows <name> <sql>
check_rows() {
  local out
  if ! out=$(psql -X -A -t -v ON_ERROR_STOP=1 -c "$2" 2>&1); then
    fail "$1: the query failed:"
    printf '%s\n' "$out" | head -n 20
  elif [[ -n $out ]]; then
    fail "$1:"
    printf '%s\n' "$out" | head -n 60
  else
    pass "$1"
  fi
}

members="FROM pg_catalog.pg_depend AS d
         JOIN pg_catalog.pg_extension AS e ON d.refclassid = 'pg_catalog.pg_extension'::regclass
                                          AND d.refobjid = e.oid AND e.extname = 'archive'
                                          AND d.deptype = 'e'"
check_rows comments "
  SELECT 'no comment on ' || pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid)
  $members
  WHERE d.classid <> 'pg_catalog.pg_trigger'::regclass
    AND coalesce(pg_catalog.obj_description(d.objid, d.classid::regclass::text), '') = ''
  ORDER BY 1"
check_rows column_comments "
  SELECT 'no comment on column ' || c.oid::regclass || '.' || a.attname
  $members
  JOIN pg_catalog.pg_class AS c ON d.classid = 'pg_catalog.pg_class'::regclass
                               AND c.oid = d.objid AND c.relkind IN ('r', 'v', 'c')
  JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  WHERE coalesce(pg_catalog.col_description(c.oid, a.attnum), '') = ''
  ORDER BY 1"
# Composite types made by CREATE TYPE ... AS are members through their pg_type row.
check_rows composite_type_comments "
  SELECT 'no comment on column ' || t.oid::regtype || '.' || a.attname
  $members
  JOIN pg_catalog.pg_type AS t ON d.classid = 'pg_catalog.pg_type'::regclass
                              AND t.oid = d.objid AND t.typtype = 'c'
  JOIN pg_catalog.pg_attribute AS a ON a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
  WHERE coalesce(pg_catalog.col_description(t.typrelid, a.attnum), '') = ''
  ORDER BY 1"

# The signatures the reference must hold, one a line.
psql -X -A -t -v ON_ERROR_STOP=1 >"$work/signatures" <<'SQL'
SELECT 'archive.' || p.proname || '('
       || regexp_replace(pg_catalog.pg_get_function_arguments(p.oid),
                         '((''|NULL))::[a-z_."]+( [a-z]+)*(\[\])?', '\1', 'g')
       || ') → ' || pg_catalog.pg_get_function_result(p.oid)
FROM pg_catalog.pg_proc AS p
WHERE p.pronamespace = 'archive'::regnamespace
UNION ALL
SELECT 'archive.' || c.relname || ' ('
       || string_agg(a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
       || ')'
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relnamespace = 'archive'::regnamespace AND c.relkind IN ('r', 'v', 'c')
GROUP BY c.relname
UNION ALL
SELECT 'archive.' || c.relname
FROM pg_catalog.pg_class AS c
WHERE c.relnamespace = 'archive'::regnamespace AND c.relkind = 'S'
UNION ALL
SELECT pg_catalog.format_type(t.oid, NULL)
FROM pg_catalog.pg_type AS t
WHERE t.typnamespace = 'archive'::regnamespace
  AND ((t.typtype IN ('b', 'e') AND t.typcategory <> 'A')
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d
                  WHERE d.classid = 'pg_catalog.pg_type'::regclass AND d.objid = t.oid
                    AND d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'))
ORDER BY 1;
SQL
missing=$(while IFS= read -r sig; do
  grep -qF -- "$sig" "$doc" || printf '  %s\n' "$sig"
done <"$work/signatures")
if [[ -z $missing ]]; then
  pass "signatures ($(wc -l <"$work/signatures") functions, relations and types documented)"
else
  fail "signatures: not in $doc as the catalog has them:"
  printf '%s\n' "$missing"
fi

# Every SQLSTATE raised is in the reference's Errors section (from "## Errors" to the next "## ").
errcodes=$($ARCHIVE_PG_BIN/pg_config --includedir-server)/utils/errcodes.h
errors_section=$(awk '/^## Errors/ { on = 1; next } /^## / { on = 0 } on' "$doc")
missing=
while IFS= read -r name; do
  [[ -n $name ]] || continue
  code=$(sed -n "s/^#define $name MAKE_SQLSTATE('\(.\)','\(.\)','\(.\)','\(.\)','\(.\)').*/\1\2\3\4\5/p" "$errcodes")
  if [[ -z $code ]]; then
    missing+="  $name (no such SQLSTATE in $errcodes)"$'\n'
  elif ! grep -qF "$code" <<<"$errors_section"; then
    missing+="  $code ($name)"$'\n'
  fi
done < <({ grep -oh 'errcode(ERRCODE_[A-Z_]*)' src/*.c | sed 's/errcode(\(.*\))/\1/'
           grep -oh "ERRCODE = '[a-z_]*'" sql/archive.sql |
             sed "s/ERRCODE = '\(.*\)'/ERRCODE_\1/" | tr '[:lower:]' '[:upper:]'; } | sort -u)
if [[ -z $missing ]]; then
  pass "errors (every SQLSTATE raised is in the Errors section)"
else
  fail "errors: raised, not in the Errors section of $doc:"
  printf '%s' "$missing"
fi

# --- settings ------------------------------------------------------------------------------------
out=$(psql -X -q -v ON_ERROR_STOP=1 -c "LOAD 'archive'" -c "SET archive.nonexistent = 1" 2>&1) && rc=0 || rc=$?
if ((rc != 0)) && grep -q 'reserved prefix' <<<"$out"; then
  pass "reserved_prefix (SET archive.nonexistent fails once the module is loaded)"
else
  fail "reserved_prefix: SET archive.nonexistent after LOAD 'archive' did not fail as reserved:"
  printf '%s\n' "$out"
fi

settings=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -c "LOAD 'archive'" \
  -c "SELECT name FROM pg_catalog.pg_settings WHERE name LIKE 'archive.%' ORDER BY 1")
missing=
for name in $settings; do
  for file in "$doc" README.md; do
    grep -qF "\`$name\`" "$file" || missing+="  $name is not in $file"$'\n'
  done
done
if [[ -z $settings ]]; then
  fail "settings_doc: the module defines no archive.* setting"
elif [[ -z $missing ]]; then
  pass "settings_doc ($(wc -w <<<"$settings") settings in $doc and README.md)"
else
  fail "settings_doc:"
  printf '%s' "$missing"
fi

echo "docs: $examples examples checked"
echo "SUITE-COUNT: $passed $failed"
((failed == 0))
