#!/usr/bin/env bash
# Quick end-to-end check of the nginx glue alone (the full suite is tests/integration):
# starts Debian's nginx with the built module on a free port and checks the directives,
# `nginx -t` on a broken settings file, GET/HEAD/POST, the 16 KiB body limit (declared,
# chunked and spooled to a temporary file), a static file beside the portal, a reload with a
# request in flight, and an error log without [alert]/[emerg].
#
#   module/nginx/smoke-test.sh [BUILD_DIR]        # default: build-module next to this repo's root
#
# For a LKK_SANITIZE=ON build set LKK_ASAN=1: every nginx invocation (even `nginx -t`) then
# runs with LD_PRELOAD of libasan/libubsan and ASAN_OPTIONS=detect_leaks=0.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build-module}" && pwd)
so=$build/module/ngx_http_lkk_module.so
[ -f "$so" ] || { echo "no $so: cmake --build $build --target lkk_module" >&2; exit 2; }

dir=$(mktemp -d /tmp/lkk-smoke-XXXXXX)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
fail=0

run_nginx() {
    if [ -n "${LKK_ASAN:-}" ]; then
        LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)" \
            ASAN_OPTIONS=detect_leaks=0 /usr/sbin/nginx "$@"
    else
        /usr/sbin/nginx "$@"
    fi
}

cleanup() {
    if [ -f "$dir/nginx.pid" ]; then
        kill -QUIT "$(cat "$dir/nginx.pid")" 2>/dev/null || true
        sleep 1
    fi
    if [ "$fail" = 0 ]; then rm -rf "$dir"; else echo "kept $dir"; fi
}
trap cleanup EXIT

check() {  # check NAME EXPECTED ACTUAL
    if [ "$2" = "$3" ]; then
        echo "ok    $1"
    else
        echo "FAIL  $1: expected '$2', got '$3'"
        fail=1
    fi
}

mkdir -p "$dir/html" "$dir/mail"
echo "static ok" > "$dir/html/static.txt"
cat > "$dir/lkk.toml" <<EOF
[portal]
base_url = "$base"
[storage]
url = "sqlite:$dir/lkk.db"
[sessions]
cookie_secure = false
[mail]
url = "file:$dir/mail"
poll_interval = "1s"
EOF

write_conf() {  # write_conf SETTINGS_FILE
    cat > "$dir/nginx.conf" <<EOF
load_module $so;
user root;
worker_processes 2;
pid $dir/nginx.pid;
lock_file $dir/nginx.lock;
error_log $dir/error.log info;
events { worker_connections 256; }
http {
    access_log $dir/access.log;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    lkk_config $1;
    server {
        listen 127.0.0.1:$port;
        root $dir/html;
        include $root/conf-examples/lkk-snippet.conf;
        location = /lkk/register { lkk; client_body_buffer_size 1k; }
        location = /static.txt { }
    }
}
EOF
}

# nginx -t names the settings file and line of a mistake
printf '[portal]\nbase_path = "/lkk"\nno_such_key = 1\n' > "$dir/bad.toml"
write_conf "$dir/bad.toml"
out=$(run_nginx -p "$dir" -c "$dir/nginx.conf" -t 2>&1 || true)
check "nginx -t names FILE:LINE" yes \
    "$(grep -q "invalid lkk settings: $dir/bad.toml:3" <<<"$out" && echo yes || echo "$out")"

write_conf "$dir/lkk.toml"
run_nginx -p "$dir" -c "$dir/nginx.conf" -t -q
run_nginx -p "$dir" -c "$dir/nginx.conf"
for _ in $(seq 50); do curl -s -o /dev/null "$base/static.txt" && break; sleep 0.1; done
pids=$(pgrep -P "$(cat "$dir/nginx.pid")" | sort | tr '\n' ' ')

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
head -c 20000 /dev/zero | tr '\0' a > "$dir/20k"

check "GET start page" 200 "$(code "$base/lkk/")"
check "HEAD start page" 200 "$(code -I "$base/lkk/")"
check "HEAD has no body" 0 "$(curl -s -I "$base/lkk/" | sed '1,/^\r$/d' | wc -c)"
check "POST without CSRF" 403 "$(code -d 'email=a@example.org&password=x' "$base/lkk/login")"
check "POST 20 KiB declared" 413 "$(code --data-binary @"$dir/20k" "$base/lkk/login")"
check "POST 20 KiB chunked" 413 \
    "$(code -H 'Transfer-Encoding: chunked' --data-binary @"$dir/20k" "$base/lkk/login")"
check "POST 4 KiB spooled, read back" 403 \
    "$(head -c 4000 /dev/zero | tr '\0' a | sed 's/^/email=/' | code --data-binary @- "$base/lkk/register")"
check "POST 20 KiB spooled" 413 "$(code --data-binary @"$dir/20k" "$base/lkk/register")"
check "POST over client_max_body_size" 413 \
    "$(head -c 2000000 /dev/zero | code --data-binary @- "$base/lkk/login")"
check "healthz" 200 "$(code "$base/lkk/healthz")"
check "static file beside the portal" "static ok" "$(curl -s "$base/static.txt")"

# a reload while requests are in the pool: they finish, the new workers answer
for _ in 1 2 3 4; do code -d 'email=a@example.org&password=x' "$base/lkk/login" > /dev/null & done
kill -HUP "$(cat "$dir/nginx.pid")"
wait
sleep 1
check "GET after reload" 200 "$(code "$base/lkk/")"

check "no [alert]/[emerg] in error.log" "" "$(grep -E '\[(alert|emerg)\]' "$dir/error.log" || true)"
check "no sanitizer report" "" "$(grep -E 'AddressSanitizer|runtime error' "$dir/error.log" || true)"
echo "workers before reload: $pids"

exit $fail
