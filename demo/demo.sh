#!/usr/bin/env bash
# Demo data for trying the portal: three offices with payment requisites, ten billing
# accounts, a year of statements and payments, and gas meters (demo/README.md says what to
# type when linking). Uses lkk-admin exactly as support staff would.
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

# Payment requisites of the bill (SPEC 10): РНКБ Банк's real BIC and correspondent account;
# the settlement accounts are made up but carry the right control key for that BIC.
office() {  # office CODE NAME PHONES EMAIL SETTLEMENT_ACCOUNT
  local req=(--payee "ГУП РК «Крымгазсети»" --inn 9102019769 --kpp 910201001
             --bank "РНКБ Банк (ПАО)" --bic 043510607 --account "$5"
             --corr-account 30101810335100000607)
  if ! out=$(admin offices add "$1" --name "$2" --phones "$3" --email "$4" "${req[@]}" 2>&1); then
    case "$out" in
      *"already exists"*)
        admin offices update "$1" --name "$2" --phones "$3" --email "$4" "${req[@]}" >/dev/null ;;
      *) echo "$out" >&2; exit 1 ;;
    esac
  fi
}

admin migrate >/dev/null
office SIM "Симферопольское УЭГХ" "+7 (3652) 11-22-33, +7 (3652) 11-22-34" "sim-ueg@example.org" \
  40602810241200000201
office KRC "Керченское УЭГХ" "+7 (36561) 5-55-55" "krc-ueg@example.org" 40602810441200000302
office EVP "Евпаторийское УЭГХ" "+7 (36569) 3-33-33, +7 (36569) 3-33-34" "evp-ueg@example.org" \
  40602810541200000503

YEAR=$(date +%Y)
TMP=$(mktemp "${TMPDIR:-/tmp}/lkk-demo-billing.XXXXXX.csv")
trap 'rm -f "$TMP"' EXIT
sed -e "s/@YEAR@/$YEAR/g" -e "s/@LAST_YEAR@/$((YEAR - 1))/g" "$HERE/billing.csv" >"$TMP"
admin billing import "$TMP" >/dev/null

# Fourteen months of statements and payments up to the current month (SPEC 10), made up by
# a small rule so that they stay current: gas use follows the season, the tariff is 7,16 ₽
# per m³, and each account pays in its own way (see demo/README.md).
FIRST=$(date -d "$(date +%Y-%m-01) -13 month" +%Y-%m)
STATEMENTS=$(mktemp "${TMPDIR:-/tmp}/lkk-demo-statements.XXXXXX.csv")
PAYMENTS=$(mktemp "${TMPDIR:-/tmp}/lkk-demo-payments.XXXXXX.csv")
trap 'rm -f "$TMP" "$STATEMENTS" "$PAYMENTS"' EXIT
awk -v first="$FIRST" -v statements="$STATEMENTS" -v payments="$PAYMENTS" -f "$HERE/money.awk"
admin statements import "$STATEMENTS" >/dev/null
admin payments import "$PAYMENTS" >/dev/null
# Gas meters (SPEC 9): read by the utility last month; one поверка due soon, one overdue.
METERS=$(mktemp "${TMPDIR:-/tmp}/lkk-demo-meters.XXXXXX.csv")
trap 'rm -f "$TMP" "$STATEMENTS" "$PAYMENTS" "$METERS"' EXIT
sed -e "s/@LAST_MONTH@/$(date -d "$(date +%Y-%m-01) -1 month" +%Y-%m-20)/g" \
    -e "s/@SOON@/$(date -d '+40 day' +%Y-%m-%d)/g" -e "s/@PAST@/$(date -d '-10 day' +%Y-%m-%d)/g" \
    -e "s/@LATER@/$(date -d '+3 year' +%Y-%m-%d)/g" "$HERE/meters.csv" >"$METERS"
admin meters import "$METERS" >/dev/null
admin offices list
