#!/usr/bin/env bash
# Installs every Debian package lkk needs to build, run and test. Idempotent, non-interactive.
# Services that apt may start on a fresh machine (nginx :80, MariaDB, Redis :6379) are left
# alone: our scripts start their own instances on private ports and data directories. While
# apt runs, a /usr/sbin/policy-rc.d that exits 101 (unless one is already there) keeps the
# packages' init scripts from starting anything, Apache on :80 in particular.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git curl ca-certificates ccache
  clang clang-format libclang-rt-14-dev libfuzzer-14-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nginx nginx-dev
  apache2 apache2-dev
  libsqlite3-dev sqlite3
  libmysqlcppconn-dev mariadb-server mariadb-client
  redis-server libhiredis-dev
  libargon2-dev libssl-dev libcurl4-openssl-dev libicu-dev
  libkainjow-mustache-dev libtomlplusplus-dev libcli11-dev nlohmann-json3-dev
  python3 python3-aiosmtpd
  wrk time valgrind
  libqrencode-dev libcairo2-dev libpango1.0-dev fonts-dejavu-core poppler-utils zbar-tools
  galera-4 redis-sentinel prometheus
  debhelper dpkg-dev fakeroot lintian
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# The accessibility test (tests/a11y: axe-core and playwright-core from npm, pinned by its
# package-lock.json) drives Debian's chromium with Node.js 20 or later, which this kind of
# machine ships; where node is missing, Debian's nodejs and npm are installed instead.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
a11y_modules() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/a11y"
  if [ ! -d "$dir/node_modules/axe-core" ] || [ ! -d "$dir/node_modules/playwright-core" ] ||
     [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    echo "install-deps: npm ci in tests/a11y"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
    touch "$dir/node_modules"
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  a11y_modules
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
own_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
  own_policy=1
fi
rc=0
{ $SUDO apt-get update -qq &&
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } || rc=$?
if [ -n "$own_policy" ]; then
  $SUDO rm -f /usr/sbin/policy-rc.d
fi
[ "$rc" -eq 0 ] || exit "$rc"
a11y_modules
echo "install-deps: done"
