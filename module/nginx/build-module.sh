#!/usr/bin/env bash
# Builds ngx_http_lkk_module.so against the distribution's nginx with nginx-dev's own
# configure (Debian's conf_flags, so the module's binary signature matches /usr/sbin/nginx).
#
#   build-module.sh BUILD_DIR OUTPUT_SO
#
# Environment: LKK_CORE_LIB, LKK_EXTRA_LIBS (see module/nginx/config), optional LKK_NGX_CC_OPT and
# LKK_NGX_LD_OPT (the sanitizer build passes -fsanitize=... through them), NGX_SRC (default
# /usr/share/nginx/src). configure runs again only when its inputs changed.
set -euo pipefail

build_dir=$1
output=$2
module_dir=$(cd "$(dirname "$0")" && pwd)
ngx_src=${NGX_SRC:-/usr/share/nginx/src}

if [ ! -x "$ngx_src/configure" ] || [ ! -f "$ngx_src/conf_flags" ]; then
    echo "build-module.sh: $ngx_src has no configure/conf_flags: apt-get install nginx-dev" >&2
    exit 1
fi

# shellcheck disable=SC1091
. "$ngx_src/conf_flags"

args=("${NGX_CONF_FLAGS[@]}" "--add-dynamic-module=$module_dir")
if [ -n "${LKK_NGX_CC_OPT:-}" ]; then
    args+=("--with-cc-opt=$LKK_NGX_CC_OPT")
fi
if [ -n "${LKK_NGX_LD_OPT:-}" ]; then
    args+=("--with-ld-opt=$LKK_NGX_LD_OPT")
fi

stamp_text=$(printf '%s\n' "${args[@]}" "$LKK_CORE_LIB" "${LKK_EXTRA_LIBS:-}" \
    "$(cat "$module_dir/config")" "$(nginx -v 2>&1 || true)")

mkdir -p "$build_dir"
if [ ! -f "$build_dir/objs/Makefile" ] || [ ! -f "$build_dir/.lkk-configure-stamp" ] ||
    [ "$(cat "$build_dir/.lkk-configure-stamp")" != "$stamp_text" ]; then
    rm -rf "$build_dir"
    mkdir -p "$build_dir"
    # the source tree is root-owned and configure writes into it: work on a copy
    cp -a "$ngx_src/." "$build_dir/"
    (cd "$build_dir" && ./configure "${args[@]}" > configure.log 2>&1) || {
        tail -30 "$build_dir/configure.log" >&2
        exit 1
    }
    printf '%s' "$stamp_text" > "$build_dir/.lkk-configure-stamp"
fi

# objs/Makefile does not know that the .so depends on liblkk_core.a: relink every time
rm -f "$build_dir/objs/ngx_http_lkk_module.so"
# one C file: the parent make's jobserver (not passed through CMake's command) is not needed
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$build_dir" -f objs/Makefile modules
mkdir -p "$(dirname "$output")"
# a running nginx maps the old file: replace it by rename, never overwrite it in place
cp "$build_dir/objs/ngx_http_lkk_module.so" "$output.tmp"
mv -f "$output.tmp" "$output"
