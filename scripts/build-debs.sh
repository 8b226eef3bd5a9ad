#!/usr/bin/env bash
# Builds the Debian packages of lkk and checks them with lintian:
#
#   scripts/build-debs.sh OUTDIR
#
# leaves libnginx-mod-http-lkk_V_ARCH.deb, libapache2-mod-lkk_V_ARCH.deb and lkk-admin_V_ARCH.deb
# in OUTDIR and fails when lintian reports an error (its warnings are printed; README.md
# explains the ones it shows). The version comes from ONE place, `project(lkk VERSION x.y.z)`
# in CMakeLists.txt: it is the Debian version too (a native package), and debian/changelog
# is written here.
#
# The tree is copied to build/deb/lkk-x.y.z (without build/, run/ and .git), so the packages
# are built from exactly these files and the checkout stays clean; `dpkg-buildpackage -b`
# runs the project's CMake there (debian/rules). ccache keeps rebuilds short: debhelper
# points HOME at a scratch directory, so the cache directory is passed explicitly.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: scripts/build-debs.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)

version=$(sed -n 's/^project(lkk VERSION \([0-9][0-9.]*\).*/\1/p' "$ROOT/CMakeLists.txt")
[ -n "$version" ] || { echo "build-debs: no project(lkk VERSION ...) in CMakeLists.txt" >&2; exit 1; }
debver="$version"  # a native package: the tree is upstream and packaging at once
work="$ROOT/build/deb"
src="$work/lkk-$version"

rm -rf "$src" "$work"/*.deb "$work"/*.ddeb "$work"/*.changes "$work"/*.buildinfo
mkdir -p "$src"
tar -C "$ROOT" --exclude=./build --exclude=./run --exclude=./.git --exclude=./node_modules \
    --exclude='*.pyc' --exclude=__pycache__ -cf - . | tar -C "$src" -xf -

commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "unknown")
cat > "$src/debian/changelog" <<CHANGELOG
lkk ($debver) unstable; urgency=medium

  * Built from the lkk tree (commit $commit) by scripts/build-debs.sh.

 -- lkk developers <lkk@example.org>  $(date -R)
CHANGELOG

export CCACHE_DIR=${CCACHE_DIR:-$(ccache -k cache_dir 2>/dev/null || echo "$HOME/.cache/ccache")}
export CCACHE_BASEDIR="$src" CCACHE_NOHASHDIR=true
jobs=${LKK_JOBS:-$(nproc)}
start=$(date +%s)
(cd "$src" && DEB_BUILD_OPTIONS="parallel=$jobs ${DEB_BUILD_OPTIONS:-}" \
    dpkg-buildpackage -b -uc -us > "$work/dpkg-buildpackage.log" 2>&1) || {
    tail -60 "$work/dpkg-buildpackage.log" >&2
    echo "build-debs: dpkg-buildpackage failed; the whole log: $work/dpkg-buildpackage.log" >&2
    exit 1
}
echo "build-debs: built $debver in $(($(date +%s) - start)) s"

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
debs=()
for pkg in libnginx-mod-http-lkk libapache2-mod-lkk lkk-admin; do
    deb="$work/${pkg}_${debver}_${arch}.deb"
    [ -f "$deb" ] || { echo "build-debs: $deb was not built" >&2; exit 1; }
    cp "$deb" "$out/"
    debs+=("$out/$(basename "$deb")")
done

# --fail-on error: warnings are shown (and explained in README.md), errors stop the build.
lintian --fail-on error --tag-display-limit 0 "${debs[@]}" | tee "$work/lintian.log"
echo "build-debs: lintian found no errors"
printf '%s\n' "${debs[@]}"
