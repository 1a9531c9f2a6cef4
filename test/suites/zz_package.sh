#!/usr/bin/env bash
# test/suites/zz_package.sh: the Debian package. Builds postgresql-15-archive from debian/ the way
# Debian builds its PostgreSQL extensions (dpkg-buildpackage: debhelper with --with pgxs_loop,
# pg_buildext, debian/control from debian/control.in), installs it on this machine with dpkg -i,
# and runs the regression suite (make installcheck) against the installed package.
#
# Named zz_ so that it runs last: installing the package replaces the files `make install` put in
# /usr/lib/postgresql/15 and /usr/share/postgresql/15 (the same version, built from the same tree);
# at the end it runs `make install` from the tree again, so what the tree builds stays installed
# (the package stays installed too, its files overwritten by those of the tree's build).
#
# The tree is copied without build products (git ls-files -co --exclude-standard: committed and
# uncommitted work alike) to a scratch folder, and built there with the nocheck profile: the
# build-time test (dh_pgxs_test, pg_buildext installcheck in a pg_virtualenv cluster) needs
# postgresql-all, and this suite runs the same suite against the installed package itself. A
# full build is `dpkg-buildpackage -us -uc -b` in the tree.
#
# Checks (SUITE-COUNT): build (dpkg-buildpackage succeeds, a .deb comes out), control (the package
# is postgresql-15-archive, Depends names libcmark0.30.2 and postgresql-15), install (dpkg -i, then
# the package is "install ok installed"), files (dpkg -L lists archive.so, archive.control and the
# install script archive--<version>.sql), verify (dpkg --verify: the installed files are the
# package's), then one per pg_regress test run against the installed package.
# Needs root (apt-get, dpkg -i) and PGHOST, PGPORT, PGUSER, PG_CONFIG from test/run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

: "${ARCHIVE_PG_BIN:=/usr/lib/postgresql/15/bin}"
: "${PG_CONFIG:=$ARCHIVE_PG_BIN/pg_config}"
source test/lib/setup.sh

source test/lib/checks.sh
finish() {
  echo "SUITE-COUNT: $passed $failed"
  exit $((failed > 0))
}

if ((EUID != 0)); then
  echo "zz_package: building and installing the package needs root" >&2
  check_that root 0 "not root"
  finish
fi
if ! install_packages dpkg-dev debhelper fakeroot postgresql-server-dev-all; then
  check_that tools 0 "could not install dpkg-dev, debhelper, fakeroot, postgresql-server-dev-all"
  finish
fi

version=$(dpkg-parsechangelog -l debian/changelog -S Version)
extversion=$(sed -n "s/^default_version = '\(.*\)'/\1/p" archive.control)
package=postgresql-15-archive
work=$(mktemp -d)
restore() {
  # Whatever happened, put the tree's own build back in place for whoever comes next.
  make -s install PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1 || echo "zz_package: make install from the tree failed" >&2
  rm -rf "$work"
}
trap restore EXIT

# --- build -------------------------------------------------------------------------------------
src=$work/archive-$version
mkdir "$src"
git ls-files -co --exclude-standard -z | tar --null -T - --ignore-failed-read -c 2>/dev/null | tar -x -C "$src"
rc=0
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" DEB_BUILD_PROFILES=nocheck \
  dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || rc=$?
deb=$work/${package}_${version}_$(dpkg --print-architecture).deb
if ((rc != 0)) || [[ ! -f $deb ]]; then
  tail -n 40 "$work/build.log"
  check_that build 0 "dpkg-buildpackage exited with $rc; no $(basename "$deb")"
  finish
fi
check_that build 1 "$(basename "$deb") ($(du -k "$deb" | cut -f1) kB)"

depends=$(dpkg-deb -f "$deb" Depends)
check_that control "$([[ $(dpkg-deb -f "$deb" Package) == "$package" && $depends == *libcmark0.30.2* &&
  $depends == *postgresql-15* ]] && echo 1 || echo 0)" "Depends: $depends"

# --- install -----------------------------------------------------------------------------------
# Another apt or dpkg run on the machine holds the dpkg lock for a while: wait for it (60 s).
out=
for _ in $(seq 30); do
  if out=$(dpkg -i "$deb" 2>&1); then break; fi
  grep -qi 'lock' <<<"$out" || break
  sleep 2
done
status=$(dpkg-query -W -f '${Status} ${Version}' "$package" 2>/dev/null || true)
check_that install "$([[ $status == "install ok installed $version" ]] && echo 1 || echo 0)" "dpkg -i: $status"
[[ $status == "install ok installed $version" ]] || { printf '%s\n' "$out" | tail -n 20; finish; }

listed=$(dpkg -L "$package")
missing=
for file in /usr/lib/postgresql/15/lib/archive.so /usr/share/postgresql/15/extension/archive.control \
  "/usr/share/postgresql/15/extension/archive--$extversion.sql"; do
  grep -qx -- "$file" <<<"$listed" || missing+=" $file"
done
check_that files "$([[ -z $missing ]] && echo 1 || echo 0)" \
  "dpkg -L $package: $(wc -l <<<"$listed") paths${missing:+, missing:$missing}"
out=$(dpkg --verify "$package" 2>&1) && rc=0 || rc=$?
check_that verify "$([[ $rc == 0 && -z $out ]] && echo 1 || echo 0)" "dpkg --verify: ${out:-the installed files match the package}"

# --- the regression suite against the installed package ----------------------------------------
# From the built copy (sql/ and expected/, no build products left): make installcheck only runs
# pg_regress, whose CREATE EXTENSION archive reads the package's files.
rc=0
make -C "$src" installcheck PG_CONFIG="$PG_CONFIG" >"$work/installcheck.out" 2>&1 || rc=$?
cat "$work/installcheck.out"
read -r rp rf < <(awk '/^(test |     )?[^ ]+ +\.\.\. (ok|FAILED|failed)/ {
    if (/\.\.\. (ok|failed \(ignored\))/) p++; else f++ } END { print p + 0, f + 0 }' "$work/installcheck.out")
passed=$((passed + rp)) failed=$((failed + rf))
if ((rc != 0 && rf == 0)); then
  check_that installcheck 0 "make installcheck exited with $rc"
fi
if ((rf > 0)) && [[ -f $src/regression.diffs ]]; then head -n 200 "$src/regression.diffs"; fi
echo "zz_package: pg_regress against the installed package: $rp passed, $rf failed"

finish
