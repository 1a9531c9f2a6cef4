#!/usr/bin/env bash
# test/suites/valgrind.sh: the short form of test/fuzz/valgrind.sh that fits in the test run. The
# pg_regress suites span, render and pages (the span type, cmark with its palloc allocator, and the
# topic page from record to Markdown and HTML) run against a throwaway cluster whose postmaster is
# under Valgrind memcheck, about a minute and a half. Passes when every suite's output is as
# expected and no Valgrind report has a frame in archive.so or libcmark. The summaries suite (a
# minute more under Valgrind) and the rest run with `test/fuzz/valgrind.sh` (see doc/security.md).
# Installs valgrind if it is missing. Prints "SUITE-COUNT: <passed> <failed>".
set -euo pipefail
source test/lib/setup.sh

if ! install_packages valgrind >/dev/null; then
  echo "valgrind: could not install valgrind" >&2
  echo "SUITE-COUNT: 0 1"
  exit 1
fi
if test/fuzz/valgrind.sh span render pages; then
  echo "SUITE-COUNT: 1 0"
else
  echo "SUITE-COUNT: 0 1"
  exit 1
fi
