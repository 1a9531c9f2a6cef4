#!/usr/bin/env bash
# test/fuzz/build.sh: build the libFuzzer targets (clang 14, -fsanitize=fuzzer,address,undefined)
# into test/fuzz/build/: fuzz_summary (src/termcount.c, src/textnorm.c), fuzz_motifs
# (src/motifs.c with them, and src/archive.c for its array helper), fuzz_span (src/span.c),
# fuzz_page (src/page.c, src/page_record.c, src/render.c) and fuzz_markdown (src/render.c), the
# last two with htmlcheck.c and Debian's libcmark. The sources are compiled unchanged against the
# server's headers, with assertions on; shim.c stands in for the backend services they call
# (memory contexts, ereport, UTF-8 checks and conversions, case folding, binary messages, the UTC
# calendar, lists, interrupts; see its header).
# A backend cannot be linked into a program, so what the sources refer to and the targets never
# reach (the SQL-callable wrappers: SPI, arrays, fmgr glue, the jsonb reader) is stubbed: the first
# link lists the undefined symbols, each becomes a function that aborts, naming itself, and the
# second link uses them. Prints the paths of the targets.
#   CC=clang-14 ... to choose the compiler; needs libclang-rt-14-dev (the fuzzer runtime).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
: "${PG_CONFIG:=/usr/lib/postgresql/15/bin/pg_config}"
CC=${CC:-clang}
out=build
mkdir -p "$out"
server=$("$PG_CONFIG" --includedir-server)
libdir=$("$PG_CONFIG" --pkglibdir)
# shellcheck disable=SC2054  # the commas are inside one flag
cflags=(-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
        -DUSE_ASSERT_CHECKING -I. -I../../src -I"$server" -Wno-unused-command-line-argument
        -Wno-ignored-attributes -Wno-unknown-warning-option)
libs=("$libdir/libpgcommon.a" "$libdir/libpgport.a" -lcmark -lm)

# compile <target> <sources...>: objects of each source, then link with stubs for what is missing
build() {
  local target=$1; shift
  local objs=() src obj
  for src in "$@"; do
    obj=$out/$target-$(basename "${src%.c}").o
    "$CC" "${cflags[@]}" -c "$src" -o "$obj"
    objs+=("$obj")
  done
  local missing
  missing=$("$CC" "${cflags[@]}" "${objs[@]}" "${libs[@]}" -o "$out/$target" 2>&1 |
    sed -n "s/.*undefined reference to \`\([A-Za-z_][A-Za-z0-9_]*\)'.*/\1/p" | sort -u || true)
  {
    echo '#include <stdio.h>'
    echo '#include <stdlib.h>'
    for sym in $missing; do
      printf 'void %s(void); void %s(void) { fprintf(stderr, "fuzz stub reached: %s\\n"); abort(); }\n' "$sym" "$sym" "$sym"
    done
  } >"$out/$target-stubs.c"
  "$CC" "${cflags[@]}" -c "$out/$target-stubs.c" -o "$out/$target-stubs.o" -Wno-builtin-requires-header \
    -Wno-incompatible-library-redeclaration
  "$CC" "${cflags[@]}" "${objs[@]}" "$out/$target-stubs.o" "${libs[@]}" -o "$out/$target"
  echo "$out/$target ($(wc -w <<<"$missing") unreached symbols stubbed)"
}

build fuzz_summary fuzz_summary.c shim.c ../../src/termcount.c ../../src/textnorm.c
build fuzz_motifs fuzz_motifs.c shim.c ../../src/termcount.c ../../src/textnorm.c ../../src/archive.c
build fuzz_span fuzz_span.c shim.c ../../src/span.c
build fuzz_page fuzz_page.c htmlcheck.c shim.c ../../src/page.c ../../src/page_record.c ../../src/render.c
build fuzz_markdown fuzz_markdown.c htmlcheck.c shim.c ../../src/render.c
