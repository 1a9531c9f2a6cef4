# test/lib/setup.sh: install the Debian packages the extension needs, then build and install it.
# Source it from bash, from the repo root; used by test/run and bin/demo.

: "${ARCHIVE_PG_BIN:=/usr/lib/postgresql/15/bin}"
: "${PG_CONFIG:=$ARCHIVE_PG_BIN/pg_config}"
ARCHIVE_PACKAGES=(postgresql-15 postgresql-server-dev-15 libcmark-dev postgresql-15-cron
                  postgresql-contrib jq)

# Installs whichever of ARCHIVE_PACKAGES (and any packages given) are missing; 1 on failure.
install_packages() {
  local pkg missing=()
  for pkg in "${ARCHIVE_PACKAGES[@]}" "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  if ((EUID != 0)); then
    echo "missing packages (run as root to install them): ${missing[*]}" >&2
    return 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Builds the extension and installs it into the PostgreSQL 15 tree; 1 on failure.
build_and_install() {
  make -s PG_CONFIG="$PG_CONFIG" && make -s install PG_CONFIG="$PG_CONFIG"
}
