#!/usr/bin/env bash
# test/suites/browser.sh: topic pages in a real browser. The example web app (examples/webapp, Node.js
# with the pg client) serves the Go blog archive ($ARCHIVE_DATA_DIR/go-blog.jsonl) from a scratch
# database (created and dropped here) whose pages link adjacent threads to the app
# (ALTER DATABASE ... SET archive.topic_url = '/topics/{slug}'), and Debian's headless Chromium,
# driven by playwright-core (test/browser/check.js), reads it.
#   setup            chromium installed (apt, through install_packages), the npm packages of the app
#                    and of the browser test installed (npm ci, from their committed lock files,
#                    skipped when node_modules already holds exactly those), the archive loaded
#                    and refreshed, the app started on a free port (PORT=0: it prints its address)
#   app_topic_url    the app found the pages built for its links (it warns otherwise)
#   then the checks of test/browser/check.js (see there): index, topic_page, chart, json_record,
#   references, screenshot, adjacent_link, no_overflow, etag_304, unknown_404, no_console_error,
#   no_failed_request
# The screenshots (the index, the first topic page, a topic page at a phone's width) are kept in a
# temporary folder whose path is printed; everything else (the app, the database, Chromium's profile)
# is removed at the end. Prints one line per check and "SUITE-COUNT: <passed> <failed>". Needs
# PGHOST, PGPORT, PGUSER (set by test/run), root for apt (when chromium is missing), and the npm
# registry the first time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

source test/lib/checks.sh

# Installs a folder's npm packages from its lock file, unless node_modules holds exactly them:
# npm_install <folder>
npm_install() {
  local dir=$1 stamp=$1/node_modules/.installed-from-lock
  if [[ -f $stamp ]] && cmp -s "$dir/package-lock.json" "$stamp"; then return 0; fi
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || return 1
  cp "$dir/package-lock.json" "$stamp"
}

find_archive go-blog
file=$archive_file

source test/lib/setup.sh
install_packages chromium >/dev/null || setup_failed "could not install chromium"
[[ -x /usr/bin/chromium ]] || setup_failed "no /usr/bin/chromium"
command -v node >/dev/null && command -v npm >/dev/null || setup_failed "node and npm are needed"
npm_install examples/webapp || setup_failed "npm ci failed in examples/webapp"
npm_install test/browser || setup_failed "npm ci failed in test/browser"

db=archive_suite_browser_$$
shots=$(mktemp -d /tmp/archive-browser.XXXXXX)
app_pid= app_log=$shots/webapp.log
admin() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
cleanup() {
  if [[ -n $app_pid ]] && kill -0 "$app_pid" 2>/dev/null; then
    kill -TERM "$app_pid" 2>/dev/null || true
    for _ in {1..50}; do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$app_pid" 2>/dev/null || true
  fi
  admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -f "$app_log"
}
trap cleanup EXIT

# The archive, with pages linking adjacent threads to the app's topic pages. The setting is the
# database's, so the refresh (a new session) builds the links with it.
admin -c "CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8'" \
      -c "ALTER DATABASE $db SET archive.topic_url = '/topics/{slug}'" >/dev/null ||
  setup_failed "could not create the database"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v file="$file" >/dev/null <<'SQL' || setup_failed "could not load the archive"
CREATE EXTENSION archive;
\set lines `cat :'file'`
SELECT * FROM archive.load_jsonl(:'lines');
SELECT * FROM archive.refresh();
SQL
echo "browser: go-blog loaded and refreshed: $(psql -X -A -t -d "$db" -c "SELECT count(*) FROM archive.topic_pages") topic pages"

# The app, on a free port of its own choosing.
PGDATABASE=$db HOST=127.0.0.1 PORT=0 node examples/webapp/server.js >"$app_log" 2>&1 &
app_pid=$!
url=
for _ in {1..100}; do
  url=$(sed -n 's|^archive-webapp: listening on \(http://[^ ]*[^/]\)/\{0,1\}$|\1|p' "$app_log")
  [[ -z $url ]] || break
  kill -0 "$app_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z $url ]]; then
  cat "$app_log"
  setup_failed "the web app did not start"
fi
echo "browser: web app at $url"
passed=$((passed + 1))
echo "ok     setup"
if grep -q 'archive.topic_url' "$app_log"; then
  failed=$((failed + 1))
  echo "FAILED app_topic_url: $(cat "$app_log")"
else
  passed=$((passed + 1))
  echo "ok     app_topic_url"
fi

rc=0
out=$(timeout 120 node test/browser/check.js "$url" "$shots" 2>&1) || rc=$?
printf '%s\n' "$out"
ok=$(grep -c '^ok ' <<<"$out" || true)
bad=$(grep -c '^FAILED ' <<<"$out" || true)
((rc == 0 || bad > 0)) || bad=1
passed=$((passed + ok)) failed=$((failed + bad))
if grep -q 'archive-webapp: .*: ' "$app_log"; then
  echo "browser: the web app logged errors:"
  grep 'archive-webapp: .*: ' "$app_log" | head -n 20
fi
echo "browser: screenshots in $shots"

echo "SUITE-COUNT: $passed $failed"
((failed == 0))
