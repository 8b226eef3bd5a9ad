#!/usr/bin/env bash
# Billing import benchmark (issue 5): rows/s and peak memory of `lkk-admin billing import`
# for 100k and 1M rows, into SQLite and (when LKK_TEST_MYSQL_URL is set) into MariaDB.
# Memory must stay flat as the file grows: the reader streams, one line at a time.
#   bench/billing_import/run.sh [LKK_ADMIN]      (default: build/ci/admin-tool/lkk-admin)
#   LKK_BENCH_ROWS="100000 1000000"  rows per run;  LKK_BENCH_DIR  work directory
# Use an optimised build (RelWithDebInfo/Release): a Debug build is several times slower.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ADMIN=${1:-$ROOT/build/ci/admin-tool/lkk-admin}
[ -x "$ADMIN" ] || { echo "run.sh: $ADMIN not built" >&2; exit 1; }
ROWS=${LKK_BENCH_ROWS:-"100000 1000000"}
DIR=${LKK_BENCH_DIR:-$(mktemp -d /tmp/lkk-bench-import.XXXXXX)}
mkdir -p "$DIR"
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "run.sh: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }

settings() {  # settings FILE STORAGE_URL SESSIONS_URL
  cat >"$1" <<TOML
[storage]
url = "$2"
[sessions]
url = "$3"
[mail]
url = "file:$DIR/mail"
TOML
}

measure() {  # measure BACKEND CONFIG ROWS CSV
  local out="$DIR/import-$1-$3.txt"
  "$ADMIN" --config "$2" migrate >/dev/null
  for code in SIM KRC EVP; do
    "$ADMIN" --config "$2" offices add "$code" --name "Office $code" --phones "+7 000" >/dev/null
  done
  "$TIME" -f "%M %e" -o "$out.time" "$ADMIN" --config "$2" --json billing import "$4" >"$out"
  /usr/bin/python3 - "$1" "$out" "$out.time" <<'PY'
import json, sys
backend, report, timing = sys.argv[1:4]
r = json.load(open(report))
peak_kib, seconds = open(timing).read().split()[-2:]
rows, seconds = r["inserted"] + r["updated"], float(seconds)
print("%-8s %9d rows  %8.2f s  %9.0f rows/s  peak RSS %6.1f MiB  (import alone %.2f s)"
      % (backend, rows, seconds, rows / seconds, int(peak_kib) / 1024, r["seconds"]))
PY
}

for n in $ROWS; do
  csv="$DIR/billing-$n.csv"
  [ -f "$csv" ] || /usr/bin/python3 "$HERE/generate.py" "$n" "$csv"
  echo "# $n rows, $(du -h "$csv" | cut -f1) CSV"
  rm -f "$DIR/lkk-$n.db"*
  settings "$DIR/sqlite-$n.toml" "sqlite:$DIR/lkk-$n.db" storage
  measure sqlite "$DIR/sqlite-$n.toml" "$n" "$csv"
  if [ -n "${LKK_TEST_MYSQL_URL:-}" ]; then
    db="lkk_bench_$n"
    base=${LKK_TEST_MYSQL_URL%/*}
    hostport=${base#*@}; creds=${base#mysql://}; creds=${creds%@*}
    my=(mariadb -h "${hostport%:*}" -P "${hostport#*:}" -u "${creds%%:*}" -p"${creds#*:}")
    "${my[@]}" -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    settings "$DIR/mysql-$n.toml" "$base/$db" storage
    measure mariadb "$DIR/mysql-$n.toml" "$n" "$csv"
    "${my[@]}" -e "DROP DATABASE IF EXISTS $db"
  fi
done
echo "# files in $DIR"
