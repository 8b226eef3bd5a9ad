#!/usr/bin/env bash
# The Debian packages, as an admin meets them (SPEC 13), on this machine (CI: a fresh
# Debian 12, as root):
#   1. scripts/build-debs.sh (CMake, warnings as errors, lintian without errors);
#   2. `apt-get install ./*.deb` behind a policy-rc.d, so the system's nginx (:80) and
#      Apache are never started; the files, the enabled modules, owners and modes;
#   3. the installed defaults, untouched: a private nginx that loads the module through
#      modules-enabled and has only `include /etc/nginx/snippets/lkk.conf;` (no lkk_config:
#      /etc/lkk/lkk.toml), a private Apache with `a2enmod lkk`'s files and the site include,
#      and the installed lkk-admin on the installed settings (as www-data);
#   4. the flow suite (tests/integration/test_flow.py) on the installed module, snippets and
#      lkk-admin (harness: LKK_IT_INSTALLED=1), on nginx and on Apache, SQLite and MariaDB;
#   5. `apt-get purge`: every file the packages listed is gone, /etc/lkk and the
#      modules' symlinks and permission overrides too; /var/lib/lkk with the database is
#      kept (and said so), and nothing else differs from before the install.
#
#   scripts/test-packages.sh [OUTDIR]     (default build/debs)
#
# LKK_PACKAGES_PREBUILT=1 skips step 1 and takes the .deb files already in OUTDIR.
#
# Needs root, nginx and apache2 installed (scripts/install-deps.sh), and for the MariaDB flow
# LKK_TEST_MYSQL_URL / LKK_TEST_REDIS_URL (scripts/services.sh). It refuses to run where lkk
# is installed already or /var/lib/lkk has data: it would purge them.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
out=${1:-build/debs}
PACKAGES=(libnginx-mod-http-lkk libapache2-mod-lkk lkk-admin)

fail() { echo "test-packages: FAILED: $*" >&2; exit 1; }
step() { printf '\n----- packages: %s -----\n' "$*"; }
[ "$(id -u)" -eq 0 ] || fail "run as root: it installs and purges packages"
for p in "${PACKAGES[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qv "not-installed"; then
    fail "$p is installed on this machine already: this test installs and purges it"
  fi
done
if [ -d /var/lib/lkk ] && [ -n "$(ls -A /var/lib/lkk)" ]; then
  fail "/var/lib/lkk holds data: this test would leave it mixed with its own"
fi

scratch=$(mktemp -d /tmp/lkk-packages.XXXXXX)
chmod 755 "$scratch"
own_policy=""
installed=""
# On a failure: stop the private servers, and purge what this run installed (the check at
# the top made sure nothing of lkk was there before), so the next run starts clean.
cleanup() {
  local pidfile
  for pidfile in "$scratch/nginx/nginx.pid" "$scratch/apache/apache2.pid"; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  if [ -n "$installed" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "${PACKAGES[@]}" >/dev/null 2>&1 || true
    rm -rf /var/lib/lkk
  fi
  [ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d
  rm -rf "$scratch"
}
trap cleanup EXIT

# What an install may touch, listed before it: after the purge it must be the same again.
WATCHED=(/etc/nginx /etc/apache2 /etc/lkk /usr/lib/nginx/modules /usr/share/nginx
         /usr/lib/apache2/modules /usr/bin /usr/share/man/man1 /usr/share/doc /var/lib/lkk)
watched() {  # watched PATH: PATH is one of WATCHED or below one
  local w
  for w in "${WATCHED[@]}"; do
    case "$1" in "$w" | "$w"/*) return 0 ;; esac
  done
  return 1
}
snapshot() {
  # (some of them do not exist before the install: find says so and fails, which is fine)
  { find "${WATCHED[@]}" -path /usr/share/nginx/src -prune -o -print 2>/dev/null || true; } | sort
  dpkg-statoverride --list | sort
}
snapshot > "$scratch/before.txt"

step "build"
start=$(date +%s)
if [ "${LKK_PACKAGES_PREBUILT:-0}" = 1 ]; then  # a local loop on packages already built
  echo "using the packages already in $out (LKK_PACKAGES_PREBUILT=1)"
else
  bash scripts/build-debs.sh "$out"
fi
echo "[packages] build + lintian: $(($(date +%s) - start)) s"
version=$(sed -n 's/^project(lkk VERSION \([0-9][0-9.]*\).*/\1/p' CMakeLists.txt)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
debs=()
for p in "${PACKAGES[@]}"; do debs+=("./$out/${p}_${version}_${arch}.deb"); done

step "install"
stage_start=$(date +%s)
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  own_policy=1
fi
installed=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${debs[@]}" \
  > "$scratch/install.log" 2>&1 || { cat "$scratch/install.log"; fail "apt-get install"; }
for p in "${PACKAGES[@]}"; do dpkg -L "$p" > "$scratch/$p.list"; done

check() {  # check WHAT EXPECTED ACTUAL
  if [ "$2" != "$3" ]; then fail "$1: expected '$2', got '$3'"; fi
  echo "ok - $1"
}
has() { grep -qx "$2" "$scratch/$1.list" || fail "$1 does not ship $2"; }
has libnginx-mod-http-lkk /usr/lib/nginx/modules/ngx_http_lkk_module.so
has libnginx-mod-http-lkk /usr/share/nginx/modules-available/mod-http-lkk.conf
has libnginx-mod-http-lkk /etc/nginx/snippets/lkk.conf
has libapache2-mod-lkk /usr/lib/apache2/modules/mod_lkk.so
has libapache2-mod-lkk /etc/apache2/mods-available/lkk.load
has libapache2-mod-lkk /etc/apache2/mods-available/lkk.conf
has libapache2-mod-lkk /etc/apache2/conf-available/lkk-portal.conf
has lkk-admin /usr/bin/lkk-admin
has lkk-admin /usr/share/man/man1/lkk-admin.1.gz
has lkk-admin /etc/lkk/lkk.toml
has lkk-admin /var/lib/lkk
check "nginx module enabled (dh_nginx)" /usr/share/nginx/modules-available/mod-http-lkk.conf \
  "$(readlink /etc/nginx/modules-enabled/50-mod-http-lkk.conf)"
check "Apache module enabled (a2enmod lkk)" "../mods-available/lkk.load ../mods-available/lkk.conf" \
  "$(readlink /etc/apache2/mods-enabled/lkk.load) $(readlink /etc/apache2/mods-enabled/lkk.conf)"
check "module depends on the nginx ABI" yes \
  "$(dpkg-query -W -f='${Depends}' libnginx-mod-http-lkk | grep -q 'nginx-abi-' && echo yes)"
check "Apache module depends on the Apache API" yes \
  "$(dpkg-query -W -f='${Depends}' libapache2-mod-lkk | grep -q 'apache2-api-' && echo yes)"
check "settings file is a conffile" yes \
  "$(dpkg-query -W -f='${Conffiles}' lkk-admin | grep -q ' /etc/lkk/lkk.toml ' && echo yes)"
check "settings file mode" "root:www-data 640" "$(stat -c '%U:%G %a' /etc/lkk/lkk.toml)"
check "data directory mode" "www-data:www-data 750" "$(stat -c '%U:%G %a' /var/lib/lkk)"
if grep -qs 'path-exclude=\?/usr/share/man' /etc/dpkg/dpkg.cfg.d/*; then
  echo "ok - man page listed (this machine's dpkg excludes /usr/share/man from disk)"
else
  check "man page" yes "$(zgrep -q '^\.SH NAME' /usr/share/man/man1/lkk-admin.1.gz && echo yes)"
fi
check "nothing started on :80 (policy-rc.d)" 000 \
  "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:80/ || true)"
echo "[packages] install: $(($(date +%s) - stage_start)) s"

step "installed defaults"
stage_start=$(date +%s)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {  # wait_http URL: the status once the server answers
  local code=000
  for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)
    [ "$code" = 000 ] || break
    sleep 0.1
  done
  echo "$code"
}
n="$scratch/nginx"
mkdir -p "$n/html"
ln -s /usr/lib/nginx/modules "$n/modules"  # load_module modules/... is relative to the prefix
nport=$(port)
cat > "$n/nginx.conf" <<EOF
include /etc/nginx/modules-enabled/50-mod-http-lkk.conf;
user www-data;
worker_processes 2;
pid $n/nginx.pid;
error_log $n/error.log info;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $n/body;
    proxy_temp_path $n/proxy;
    fastcgi_temp_path $n/fastcgi;
    uwsgi_temp_path $n/uwsgi;
    scgi_temp_path $n/scgi;
    server {
        listen 127.0.0.1:$nport;
        root $n/html;
        include /etc/nginx/snippets/lkk.conf;
    }
}
EOF
nginx -p "$n" -c "$n/nginx.conf" -t 2>&1 | grep -q "test is successful" ||
  fail "nginx -t on the installed snippet: $(nginx -p "$n" -c "$n/nginx.conf" -t 2>&1)"
nginx -p "$n" -c "$n/nginx.conf"
check "nginx: portal answers with the installed defaults" 200 "$(wait_http "http://127.0.0.1:$nport/lkk/")"
page=$(curl -s "http://127.0.0.1:$nport/lkk/")
grep -q "webmaster_lkk@example.org" <<<"$page" ||
  fail "the start page does not show the installed settings' support_email"
check "nginx: healthz (database reachable)" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$nport/lkk/healthz")"
kill -QUIT "$(cat "$n/nginx.pid")"
check "SQLite database created by the workers (www-data)" www-data "$(stat -c %U /var/lib/lkk/lkk.db)"

a="$scratch/apache"
mkdir -p "$a"
aport=$(port)
cat > "$a/apache2.conf" <<EOF
ServerRoot /etc/apache2
ServerName 127.0.0.1
PidFile $a/apache2.pid
DefaultRuntimeDir $a
Mutex file:$a default
ErrorLog $a/error.log
Listen 127.0.0.1:$aport
Include mods-enabled/mpm_event.load
Include mods-enabled/authz_core.load
Include mods-enabled/mime.load
Include mods-enabled/alias.load
Include mods-enabled/lkk.load
Include mods-enabled/lkk.conf
TypesConfig /etc/mime.types
User www-data
Group www-data
<VirtualHost 127.0.0.1:$aport>
    Include conf-available/lkk-portal.conf
</VirtualHost>
EOF
chown www-data "$a"
LANG=C apache2 -t -f "$a/apache2.conf" 2>&1 | grep -q "Syntax OK" ||
  fail "apache2 -t on the installed files: $(LANG=C apache2 -t -f "$a/apache2.conf" 2>&1)"
LANG=C apache2 -f "$a/apache2.conf"
check "Apache: portal answers with the installed defaults" 200 \
  "$(wait_http "http://127.0.0.1:$aport/lkk/")"
kill -TERM "$(cat "$a/apache2.pid")"

runuser -u www-data -- lkk-admin offices add SIM --name "Симферопольское УЭГХ" \
  --phones "+7 (3652) 11-22-33" > /dev/null
check "lkk-admin on the installed settings" SIM \
  "$(runuser -u www-data -- lkk-admin --json offices list | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["code"])')"
check "lkk-admin audit on the installed settings" admin_offices_add \
  "$(runuser -u www-data -- lkk-admin --json audit --action admin_offices_add | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["event"])')"
echo "[packages] installed defaults: $(($(date +%s) - stage_start)) s"

step "flow suite on the installed packages"
export LKK_IT_INSTALLED=1 LKK_SOURCE_DIR="$ROOT" PYTHONDONTWRITEBYTECODE=1
variants=("nginx sqlite" "apache sqlite")
if [ -n "${LKK_TEST_MYSQL_URL:-}" ] || [ "${LKK_TEST_REQUIRE_SERVERS:-0}" = 1 ]; then
  variants+=("nginx mysql")
fi
for v in "${variants[@]}"; do
  read -r server backend <<<"$v"
  stage_start=$(date +%s)
  (cd tests/integration && LKK_IT_SERVER=$server LKK_IT_BACKEND=$backend \
     /usr/bin/python3 run_suite.py test_flow) > "$scratch/flow-$server-$backend.log" 2>&1 || {
    tail -80 "$scratch/flow-$server-$backend.log"
    fail "the flow suite on the installed packages ($server, $backend)"
  }
  echo "[packages] flow suite, $server + $backend: $(grep -m1 -E '^Ran [0-9]+ tests' \
    "$scratch/flow-$server-$backend.log"), $(($(date +%s) - stage_start)) s"
done
unset LKK_IT_INSTALLED

step "purge"
stage_start=$(date +%s)
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "${PACKAGES[@]}" > "$scratch/purge.log" 2>&1 ||
  { cat "$scratch/purge.log"; fail "apt-get purge"; }
for p in "${PACKAGES[@]}"; do
  while read -r path; do
    [ "$path" = /. ] && continue            # dpkg -L starts with the root
    [ "$path" = /var/lib/lkk ] && continue  # kept on purpose: below
    if [ -L "$path" ] || [ -f "$path" ]; then fail "$p left $path behind"; fi
    # a directory may stay when it was there before (/etc/nginx/snippets, /usr/bin, ...);
    # /etc, /usr and the like are outside the watched trees and always there
    if [ -d "$path" ] && watched "$path" && ! grep -qx "$path" "$scratch/before.txt"; then
      fail "$p left the directory $path behind"
    fi
  done < "$scratch/$p.list"
done
check "/etc/lkk gone" no "$( [ -e /etc/lkk ] && echo yes || echo no)"
check "nginx load symlink gone" no \
  "$(ls /etc/nginx/modules-enabled/ | grep -q lkk && echo yes || echo no)"
check "Apache module symlinks gone" no \
  "$(ls /etc/apache2/mods-enabled/ | grep -q lkk && echo yes || echo no)"
check "permission overrides gone" "" "$(dpkg-statoverride --list | grep -E 'lkk' || true)"
check "purge says the data is kept" yes \
  "$(grep -q 'kept /var/lib/lkk' "$scratch/purge.log" && echo yes || echo no)"
check "the database is kept" yes "$( [ -s /var/lib/lkk/lkk.db ] && echo yes || echo no)"
rm -rf /var/lib/lkk
installed=""
snapshot > "$scratch/after.txt"
diff -u "$scratch/before.txt" "$scratch/after.txt" || fail "the purge left the system changed"
echo "ok - nothing else left behind"
echo "[packages] purge: $(($(date +%s) - stage_start)) s"
echo "[packages] all checks passed"
