# Makefile: builds archive.so with PGXS, installs the extension, runs its tests.
EXTENSION = archive
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = archive
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
HEADERS = $(wildcard src/*.h)

# The install script for the current version is a copy of the one SQL source script;
# scripts of released versions and upgrade scripts are kept under their own names.
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*.sql))
EXTRA_CLEAN = $(DATA_built)

# pg_regress suites, one per feature, in sql/ and expected/; run in this order.
REGRESS = span tag_adjacency title_motifs summaries parallel render refresh pages
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)

PG_CPPFLAGS = -Isrc
# -Wno-unused-parameter: PostgreSQL 15 headers (bufpage.h) trip it; our code is checked by -Wextra otherwise.
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter
SHLIB_LINK = -lcmark

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

sql/$(EXTENSION)--$(EXTVERSION).sql: sql/$(EXTENSION).sql
	cp $< $@

# The README's test command: installs what it needs, builds, runs every suite on a throwaway cluster.
.PHONY: test
test:
	test/run

.PHONY: demo
demo:
	bin/demo $(ARCHIVE)

# The release archive for PGXN: the committed tree at HEAD, named after META.json's version.
DISTVERSION = $(shell sed -n 's/^   "version": "\(.*\)",/\1/p' META.json)
.PHONY: dist
dist:
	git archive --format zip --prefix=$(EXTENSION)-$(DISTVERSION)/ -o $(EXTENSION)-$(DISTVERSION).zip HEAD

# The benchmark (not part of test): `make bench`, `make bench SCALE=1000000`, `make bench SHARDED=1`
# (the sharded mode; SHARDED, like RUNS, reaches bench/run from the command line); see bench/run.
.PHONY: bench
bench:
	SCALE=$(or $(SCALE),100000) bench/run
