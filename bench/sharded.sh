# bench/sharded.sh: the benchmark's sharded mode (`make bench SHARDED=1`, SCALE and RUNS as usual),
# sourced by bench/run in place of its sections 1-6; it uses bench/run's helpers (say, sql, median,
# ratio, fmt_ms, header, CONF, SETTINGS, PARALLEL, SERIAL, TERMCOUNT_MAX_CAPACITY, tmp).
# shellcheck shell=bash
# shellcheck disable=SC2004,SC2034,SC2153,SC2154  # bench/run declares and reads these variables
# shellcheck disable=SC2059  # MOVED_COLUMNS is the printf format of the table, header and lines
#
# Three throwaway clusters on this machine, set up by test/lib/sharding.sh as doc/sharding.md
# documents: a coordinator and two shards; postgres_fdw servers with extensions 'archive',
# async_capable and fdw_tuple_cost 0.2; enable_partitionwise_aggregate on; no JIT; each cluster
# with the benchmark's settings. The synthetic archive of bench/generate.sql is generated on each
# server: each shard keeps its share, the memberships (topic_posts) by hash of the topic and the
# posts by hash of their home topic (first tag), seen by the coordinator as foreign partitions; the
# coordinator keeps all of it in local tables (schema single): the one server.
#
# Measured, each the median of RUNS runs in one session (EXPLAIN (ANALYZE, VERBOSE, TIMING OFF)
# execution time on the coordinator):
#   per-topic figures   span, adjacency and motifs of every topic (GROUP BY topic) on one server
#                       (2 parallel workers, and serial); on two shards pushed down (one aggregate
#                       per shard, the coordinator appends); on two shards not pushed
#                       (enable_partitionwise_aggregate off: the rows come to the coordinator)
#   archive-wide tags   archive.tag_counts_agg of all posts on one server; on two shards as one
#                       summary per shard (their archive_summary views) merged with
#                       archive.termcounts_union_agg, as one summary per shard and home topic
#                       merged, and with the rows pulled to the coordinator
# For each: the time, its ratio to the one-server time (2 workers), and what crossed the network:
# rows, the actual rows of the foreign scans; bytes, the TCP payload the coordinator received from
# the shards during the query as the kernel counts it (bytes_received of the coordinator's
# connections, ss -ti: the protocol messages, values as text, framing included; this is why the
# shards are reached over TCP on 127.0.0.1); and EXPLAIN's rows x width (the planner's guess, a
# fixed width for the summaries) for comparison.
# Checks, failing the run: the plans ship what their line says (Remote SQL), and every sharded
# result equals the one server's, in text form, with every summary exact
# (archive.summary_capacity at its largest on every server, so that no result depends on the order
# the rows came in).

chmod 755 "$tmp"  # the clusters run as postgres, in folders under it
sharding_start "$tmp" tcp "${CONF[@]}" >/dev/null || { echo "bench/run: the clusters did not start" >&2; exit 1; }
sharding_create_db bench
export PGHOST=${SHARDING_SOCKET[coordinator]} PGPORT=${SHARDING_PORT[coordinator]} PGUSER=postgres PGDATABASE=bench

header "make bench SHARDED=1 SCALE=$SCALE (RUNS=$RUNS)" "$SETTINGS, on each of the three servers" \
  "median of $RUNS runs in one session, EXPLAIN (ANALYZE, VERBOSE, TIMING OFF) execution time"

# split <server> <filter, :key standing for the partition key> <schema prefix>: generates the
# archive on the server and keeps there the posts and memberships the filter accepts (every
# column given: the one-server tables are made LIKE the partitioned ones, without defaults).
split() {
  sharding_psql "$1" bench -v scale="$SCALE" -f bench/generate.sql -f - >/dev/null <<SQL
INSERT INTO $3posts (key, home, title, published_at, tags, authors, visibility)
SELECT 'p' || p.id, p.home, p.title, p.published_at, p.tags, '{}', 'public'
FROM (SELECT *, coalesce((archive.normalize_tags(tags))[1], '') AS home FROM bench.posts) AS p
WHERE ${2//:key/p.home};
INSERT INTO $3topic_posts (topic, key, title, published_at, tags)
SELECT m.topic, 'p' || p.id, p.title, p.published_at, p.tags
FROM bench.post_topics AS m JOIN bench.posts AS p ON p.id = m.post_id
WHERE ${2//:key/m.topic};
DROP SCHEMA bench CASCADE;
VACUUM (ANALYZE) $3posts, $3topic_posts;
CHECKPOINT;
SQL
}

# Each shard keeps its share, the coordinator all of it (sharding_split). All three at once.
t0=$SECONDS
sharding_split split || { echo "bench/run: generating the archive failed" >&2; exit 1; }
sql -c "ANALYZE posts" -c "ANALYZE topic_posts"  # samples the shards: the planner needs row counts
read -r memberships distinct_tags < <(sql -F ' ' -c "
  SELECT (SELECT count(*) FROM single.topic_posts),
         (SELECT count(DISTINCT t) FROM single.posts, unnest(tags) AS t)")
say "  archive:    $SCALE posts, $memberships topic memberships, $distinct_tags distinct tags (generated on each server in $((SECONDS - t0)) s)"
for shard in shard1 shard2; do
  read -r posts members topics < <(sharding_psql "$shard" bench -At -F ' ' -c "
    SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM topic_posts),
           (SELECT count(DISTINCT topic) FROM topic_posts)")
  say "  $shard:     $members memberships of $topics topics (hash of the topic), $posts posts (hash of the home topic)"
done
say ""

# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------

declare -A ROWS BYTES GUESS REMOTE SHAPE

# The TCP payload the coordinator's connections to the shards have received so far, as a command
# for psql's \! (which interpolates nothing): the kernel's count, summed over the connections.
RECEIVED="ss -Htin state established '( dport = :${SHARDING_PORT[shard1]} or dport = :${SHARDING_PORT[shard2]} )' | grep -o 'bytes_received:[0-9]*' | awk -F: '{ n += \$2 } END { print n + 0 }'"

# measure_moved <name> <settings> <query> [<ERE> <async>]: like measure (bench/run), under EXPLAIN
# (ANALYZE, VERBOSE, TIMING OFF, FORMAT JSON), and reads the bytes received from the shards before
# and after each run. MS[name] = the median execution time; ROWS, BYTES and GUESS[name] = the
# medians of the foreign scans' actual rows, of the bytes and of rows x width; REMOTE[name] = the
# Remote SQL of the first foreign scan; SHAPE[name] = what is wrong with the plan: with no ERE,
# any foreign scan; with one, anything but two foreign scans (one per shard) whose Remote SQL
# matches it, and async ones when <async> is "async".
measure_moved() {
  local name=$1 settings=$2 query=$3 expect=${4:-} async=${5:-} out runs scans
  : >"$tmp/received"
  out=$({
    printf '%s\n' "$settings"
    # Opens the connections to the shards, so that no run counts their start-up.
    printf '\\o /dev/null\nSELECT FROM posts_1 LIMIT 1;\nSELECT FROM posts_2 LIMIT 1;\n\\o\n'
    for ((i = 0; i < RUNS; i++)); do
      printf '\\! %s >>%s\n' "$RECEIVED" "$tmp/received"
      printf 'EXPLAIN (ANALYZE, VERBOSE, TIMING OFF, FORMAT JSON) %s;\n' "$query"
      printf '\\! %s >>%s\n' "$RECEIVED" "$tmp/received"
    done
  } | sql)
  runs=$(jq -r -s '.[] | .[0] | [.. | objects | select(."Node Type" == "Foreign Scan")] as $scans
    | [."Execution Time", ($scans | map(."Actual Rows" * ."Actual Loops") | add // 0),
       ($scans | map(."Actual Rows" * ."Actual Loops" * ."Plan Width") | add // 0)] | @tsv' <<<"$out")
  MS[$name]=$(cut -f 1 <<<"$runs" | median)
  ROWS[$name]=$(cut -f 2 <<<"$runs" | median)
  GUESS[$name]=$(cut -f 3 <<<"$runs" | median)
  BYTES[$name]=$(awk 'NR % 2 { before = $1; next } { print $1 - before }' "$tmp/received" | median)
  scans=$(jq -r -s '.[-1] | .[0] | .. | objects | select(."Node Type" == "Foreign Scan")
    | [(."Async Capable" | tostring), (."Remote SQL" | gsub("\\s+"; " "))] | @tsv' <<<"$out")
  REMOTE[$name]=$(head -n 1 <<<"$scans" | cut -f 2)
  SHAPE[$name]=
  if [[ -z $expect ]]; then
    [[ -z $scans ]] || SHAPE[$name]="foreign scans on one server"
  elif (($(grep -c . <<<"$scans") != 2)); then
    SHAPE[$name]="$(grep -c . <<<"$scans") foreign scans, not one per shard"
  elif [[ $async == async ]] && grep -qv '^true' <<<"$scans"; then
    SHAPE[$name]="a foreign scan is not async"
  elif grep -qEv -- "$expect" < <(cut -f 2 <<<"$scans"); then
    SHAPE[$name]="not the expected Remote SQL"
  fi
}

# The queries: the figures of every topic from its memberships (the default benchmark's "archive
# all three", from one table), and the archive-wide tag counts.
figures() {
  echo "SELECT topic, archive.topic_span(published_at), archive.tag_adjacency(tags, 5, ARRAY[topic]),
               archive.title_motifs(title, 5) FROM $1 GROUP BY topic"
}
TAGS_ONE="SELECT archive.tag_counts_agg(tags) FROM single.posts WHERE visibility = 'public'"
TAGS_PER_SHARD="SELECT archive.termcounts_union_agg(tags) FROM archive_summaries"
TAGS_PER_HOME="SELECT archive.termcounts_union_agg(tags)
  FROM (SELECT home, archive.tag_counts_agg(tags) AS tags FROM posts WHERE visibility = 'public' GROUP BY home) AS per_home"
TAGS_PULLED="SELECT archive.tag_counts_agg(tags) FROM posts WHERE visibility = 'public'"
NOT_PUSHED="SET enable_partitionwise_aggregate = off;"
# What the shards must be sent: the whole aggregate per topic or home topic, the shard's summary
# view, or plain columns (rows).
PUSHED_FIGURES='^SELECT topic, archive\.topic_span\(.*archive\.tag_adjacency\(.*archive\.title_motifs\(.* GROUP BY 1$'
PUSHED_HOME='^SELECT home, archive\.tag_counts_agg\(tags\) FROM public\.posts .*GROUP BY 1$'
SHARD_VIEW='^SELECT tags FROM public\.archive_summary$'
ROWS_ONLY='^SELECT [a-z_, ]+ FROM public\.(topic_posts|posts)( WHERE .*)?$'

t0=$SECONDS
# Pushed aggregates must run on both shards at once (async); the rows pulled for a partial
# aggregate per partition cannot be (PostgreSQL appends asynchronously only foreign scans).
measure_moved "figures/one parallel" "$PARALLEL" "$(figures single.topic_posts)"
measure_moved "figures/one serial" "$SERIAL" "$(figures single.topic_posts)"
measure_moved "figures/pushed" "" "$(figures topic_posts)" "$PUSHED_FIGURES" async
measure_moved "figures/not pushed" "$NOT_PUSHED" "$(figures topic_posts)" "$ROWS_ONLY"
measure_moved "tags/one parallel" "$PARALLEL" "$TAGS_ONE"
measure_moved "tags/one serial" "$SERIAL" "$TAGS_ONE"
measure_moved "tags/per shard" "" "$TAGS_PER_SHARD" "$SHARD_VIEW" async
measure_moved "tags/per home" "" "$TAGS_PER_HOME" "$PUSHED_HOME" async
measure_moved "tags/pulled" "" "$TAGS_PULLED" "$ROWS_ONLY"

# fmt_bytes <bytes>: bytes for the table (1 kB = 1000 bytes).
fmt_bytes() {
  awk -v b="$1" 'BEGIN { if (b == "" || b == "nan") print "-"; else if (b >= 1e6) printf "%.1f MB", b / 1e6;
                         else if (b >= 1e4) printf "%.1f kB", b / 1e3; else printf "%d B", b }'
}

# moved_line <label> <name> <one-server name>: one line of the table; a wrong plan fails the run.
MOVED_COLUMNS='  %-56s %-9s %-7s %-9s %-10s %s'
moved_line() {
  local line
  if [[ -n ${REMOTE[$2]} ]]; then
    line=$(printf "$MOVED_COLUMNS" "$1" "$(fmt_ms "${MS[$2]}")" "$(ratio "${MS[$2]}" "${MS[$3]}")" \
      "${ROWS[$2]}" "$(fmt_bytes "${BYTES[$2]}")" "$(fmt_bytes "${GUESS[$2]}")")
  else
    line=$(printf '  %-56s %-9s %s' "$1" "$(fmt_ms "${MS[$2]}")" "$(ratio "${MS[$2]}" "${MS[$3]}")")
  fi
  if [[ -n ${SHAPE[$2]} ]]; then
    check_failed=1
    line+="  PLAN NOT AS EXPECTED: ${SHAPE[$2]}"
  fi
  say "$line"
}

say "Sharded: one server against a coordinator with 2 shards (postgres_fdw), all on this machine"
say "$(printf "$MOVED_COLUMNS" "" "" "x one" "rows" "bytes" "EXPLAIN")"
say "$(printf "$MOVED_COLUMNS" "" "time" "server" "moved" "moved" "rows x width")"
say "  Per-topic figures: span, adjacency, motifs of all $NTOPICS topics (GROUP BY topic)"
moved_line "one server, 2 parallel workers" "figures/one parallel" "figures/one parallel"
moved_line "one server, serial" "figures/one serial" "figures/one parallel"
moved_line "2 shards, pushed down (one aggregate per shard)" "figures/pushed" "figures/one parallel"
moved_line "2 shards, not pushed (partitionwise aggregate off)" "figures/not pushed" "figures/one parallel"
say "  Archive-wide tag counts: archive.tag_counts_agg(tags) of all posts"
moved_line "one server, 2 parallel workers" "tags/one parallel" "tags/one parallel"
moved_line "one server, serial" "tags/one serial" "tags/one parallel"
moved_line "2 shards, one summary per shard, merged" "tags/per shard" "tags/one parallel"
moved_line "2 shards, one summary per shard and home topic, merged" "tags/per home" "tags/one parallel"
moved_line "2 shards, rows pulled, aggregated on the coordinator" "tags/pulled" "tags/one parallel"
say "  what each shard is sent (Remote SQL of its foreign scan):"
for name in "figures/pushed" "figures/not pushed" "tags/per shard" "tags/per home" "tags/pulled"; do
  say "$(printf '    %-20s %s' "$name:" "${REMOTE[$name]}")"
done
say "  rows moved: the foreign scans' actual rows; bytes moved: the TCP payload the coordinator"
say "  received from the shards during the query (the kernel's count, ss -ti bytes_received)"

# The checks, in one session with every summary exact: the coordinator's setting, and the shards'
# through the servers' libpq options (new connections take them).
checks=$(sql -F ' ' <<SQL
ALTER SERVER shard1 OPTIONS (ADD options '-c archive.summary_capacity=$TERMCOUNT_MAX_CAPACITY');
ALTER SERVER shard2 OPTIONS (ADD options '-c archive.summary_capacity=$TERMCOUNT_MAX_CAPACITY');
SET archive.summary_capacity = $TERMCOUNT_MAX_CAPACITY;
$PARALLEL
CREATE TEMP TABLE one_server AS SELECT topic, s::text, a::text, m::text FROM ($(figures single.topic_posts)) AS q(topic, s, a, m);
CREATE TEMP TABLE one_server_tags AS $TAGS_ONE;
RESET ALL;
SET archive.summary_capacity = $TERMCOUNT_MAX_CAPACITY;
CREATE TEMP TABLE pushed AS SELECT topic, s::text, a::text, m::text FROM ($(figures topic_posts)) AS q(topic, s, a, m);
CREATE TEMP TABLE tags AS
  SELECT 'per shard' AS shape, ($TAGS_PER_SHARD) AS tags
  UNION ALL SELECT 'per home', ($TAGS_PER_HOME)
  UNION ALL SELECT 'pulled', ($TAGS_PULLED);
$NOT_PUSHED
CREATE TEMP TABLE not_pushed AS SELECT topic, s::text, a::text, m::text FROM ($(figures topic_posts)) AS q(topic, s, a, m);
SELECT (SELECT count(*) FROM one_server),
       (SELECT count(*) FROM ((TABLE one_server EXCEPT ALL TABLE pushed)
                              UNION ALL (TABLE pushed EXCEPT ALL TABLE one_server)) AS d),
       (SELECT count(*) FROM ((TABLE one_server EXCEPT ALL TABLE not_pushed)
                              UNION ALL (TABLE not_pushed EXCEPT ALL TABLE one_server)) AS d),
       (SELECT count(*) FROM one_server_tags AS o, archive.terms(o.tag_counts_agg)),
       (SELECT archive.max_error(tag_counts_agg) FROM one_server_tags),
       (SELECT string_agg((t.tags::text IS DISTINCT FROM o.tag_counts_agg::text)::integer::text, ' '
                          ORDER BY t.shape = 'per shard' DESC, t.shape = 'per home' DESC)
        FROM tags AS t, one_server_tags AS o);
SQL
)
read -r check_topics figures_pushed figures_not_pushed check_tags tags_error per_shard_differs \
  per_home_differs pulled_differs <<<"$checks"
# same <how many differ> [<what>]: the verdict (printed from a subshell: the failure is counted below).
same() {
  if (($1 == 0)); then echo "equal"; else echo "DIFFERENT${2:+ ($1 $2 differ)}"; fi
}
((figures_pushed + figures_not_pushed + per_shard_differs + per_home_differs + pulled_differs == 0)) ||
  check_failed=1
say "  check (archive.summary_capacity = $TERMCOUNT_MAX_CAPACITY on every server: every summary exact):"
say "    span, top 5 adjacent tags, top 5 motifs of each of the $check_topics topics vs one server:"
say "      pushed down $(same "$figures_pushed" topics), not pushed $(same "$figures_not_pushed" topics)"
if ((tags_error != 0)); then
  check_failed=1
  say "    archive-wide tag counts: NOT exact on one server (max_error $tags_error)"
else
  say "    archive-wide tag counts ($check_tags tags, the whole summary) vs one server:"
  say "      one summary per shard $(same "$per_shard_differs"), per shard and home topic $(same "$per_home_differs"), pulled $(same "$pulled_differs")"
fi
say "  (sharded took $((SECONDS - t0)) s)"
say ""
