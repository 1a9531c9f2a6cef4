# test/lib/checks.sh: the checks a suite counts, for its closing "SUITE-COUNT: <passed> <failed>".
# Source it from a suite, before its first check; it starts both counts at zero. check_rows needs
# the suite's in_db (psql on the suite's database).

passed=0 failed=0

# Ends the suite when it cannot go on to its checks, counting one failure: setup_failed <reason>
setup_failed() {
  echo "FAILED setup: $*"
  echo "SUITE-COUNT: $passed $((failed + 1))"
  exit 1
}

# Sets archive_file to the real path of $ARCHIVE_DATA_DIR/<name>.jsonl (one of the real archives
# of ../shared/data), a path psql can cat inside single quotes, or ends the suite as not set up:
# find_archive <name>
find_archive() {
  [[ -n ${ARCHIVE_DATA_DIR:-} ]] || setup_failed "ARCHIVE_DATA_DIR is not set, so $1.jsonl cannot be found"
  [[ -f $ARCHIVE_DATA_DIR/$1.jsonl ]] || setup_failed "the $1 archive is missing: no file $ARCHIVE_DATA_DIR/$1.jsonl"
  archive_file=$(realpath "$ARCHIVE_DATA_DIR/$1.jsonl")
  [[ $archive_file != *"'"* ]] || setup_failed "cannot load a path holding a single quote: $archive_file"
}

# Counts a check by a truth value: check_that <name> <ok: 0/1> <detail>
check_that() {
  if (($2)); then
    passed=$((passed + 1))
    echo "ok     $1: $3"
  else
    failed=$((failed + 1))
    echo "FAILED $1: $3"
  fi
}

# Counts a check by the exit status of what checked it (0: passed), saying why only when it
# failed: check_status <name> <status> <why>
check_status() {
  if (($2 == 0)); then
    passed=$((passed + 1))
    echo "ok     $1"
  else
    failed=$((failed + 1))
    echo "FAILED $1: $3"
  fi
}

# Counts a check by a query that returns the rows in error, none when it passes; psql options
# given after the query (e.g. -c "SET ...") run before it: check_rows <name> <sql> [psql args...]
check_rows() {
  local name=$1 sql=$2 out
  shift 2
  if ! out=$(in_db -A -F ' | ' -P footer=off "$@" -c "$sql" 2>&1); then
    failed=$((failed + 1))
    echo "FAILED $name: the query failed:"
    printf '%s\n' "$out" | cut -c 1-300 | head -n 40
    return
  fi
  # -A prints the header line even when there are no rows
  if (($(printf '%s\n' "$out" | wc -l) <= 1)); then
    passed=$((passed + 1))
    echo "ok     $name"
  else
    failed=$((failed + 1))
    echo "FAILED $name: rows in error (first 40):"
    printf '%s\n' "$out" | cut -c 1-300 | head -n 41
  fi
}
