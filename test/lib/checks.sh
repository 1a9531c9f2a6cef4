# test/lib/checks.sh: the checks a suite counts, for its closing "SUITE-COUNT: <passed> <failed>".
# Source it from a suite; it starts both counts at zero. check_rows needs the suite's in_db
# (psql on the suite's database).

passed=0 failed=0

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
