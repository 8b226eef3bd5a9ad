#!/usr/bin/env bash
# Demo data for trying the portal: three offices and ten billing accounts (demo/README.md
# says what to type when linking). Uses lkk-admin exactly as support staff would.
#   demo/demo.sh CONFIG [LKK_ADMIN]
# Idempotent: offices that exist are updated, billing accounts are upserted.
# billing.csv writes dates as @YEAR@ / @LAST_YEAR@ so that "paid this year" stays true.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CONFIG=${1:?usage: demo/demo.sh CONFIG [LKK_ADMIN]}
ADMIN=${2:-}
if [ -z "$ADMIN" ]; then
  for candidate in "$HERE/../build/ci/admin-tool/lkk-admin" "$HERE/../build/admin-tool/lkk-admin" \
                   "$(command -v lkk-admin || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then ADMIN=$candidate; break; fi
  done
fi
[ -x "$ADMIN" ] || { echo "demo.sh: lkk-admin not found; pass it as the second argument" >&2; exit 1; }
admin() { "$ADMIN" --config "$CONFIG" "$@"; }

office() {  # office CODE NAME PHONES EMAIL
  if ! out=$(admin offices add "$1" --name "$2" --phones "$3" --email "$4" 2>&1); then
    case "$out" in
      *"already exists"*) admin offices update "$1" --name "$2" --phones "$3" --email "$4" >/dev/null ;;
      *) echo "$out" >&2; exit 1 ;;
    esac
  fi
}

admin migrate >/dev/null
office SIM "Симферопольское УЭГХ" "+7 (3652) 11-22-33, +7 (3652) 11-22-34" "sim-ueg@example.org"
office KRC "Керченское УЭГХ" "+7 (36561) 5-55-55" "krc-ueg@example.org"
office EVP "Евпаторийское УЭГХ" "+7 (36569) 3-33-33, +7 (36569) 3-33-34" "evp-ueg@example.org"

YEAR=$(date +%Y)
TMP=$(mktemp "${TMPDIR:-/tmp}/lkk-demo-billing.XXXXXX.csv")
trap 'rm -f "$TMP"' EXIT
sed -e "s/@YEAR@/$YEAR/g" -e "s/@LAST_YEAR@/$((YEAR - 1))/g" "$HERE/billing.csv" >"$TMP"
admin billing import "$TMP" >/dev/null
admin offices list
