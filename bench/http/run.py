"""HTTP benchmark: requests/s of portal pages against a static file on the same nginx.

Starts the real nginx + module (through the integration harness, SQLite or, with
LKK_IT_BACKEND=mysql, MariaDB + Redis), registers and logs in one subscriber with a linked
account, then runs wrk (loopback only, bounded duration) against:
  static   /static.txt          nginx alone: the baseline
  healthz  /lkk/healthz         thread-pool round trip + database ping
  start    /lkk/                thread pool + page rendering, no session
  registry /lkk/accounts        session lookup + registry queries + rendering
and prints req/s, p99 latency and each figure as a ratio of the static baseline.
  /usr/bin/python3 bench/http/run.py [BUILD_DIR]   (LKK_BENCH_SECONDS, default 10)
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
if len(sys.argv) > 1:
    os.environ["LKK_BUILD_DIR"] = os.path.abspath(sys.argv[1])
os.environ.setdefault("LKK_BUILD_DIR", os.path.join(ROOT, "build", "ci"))
os.environ.setdefault("LKK_SOURCE_DIR", ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import harness  # noqa: E402

SECONDS = int(os.environ.get("LKK_BENCH_SECONDS", "10"))


def wrk(port, path, cookie=None):
    cmd = ["wrk", "-t2", "-c32", "-d%ds" % SECONDS, "--latency"]
    if cookie:
        cmd += ["-H", "Cookie: " + cookie]
    out = subprocess.run(cmd + ["http://127.0.0.1:%d%s" % (port, path)],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+(\S+)", out).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p99, int(non2xx.group(1)) if non2xx else 0


def main():
    portal = harness.Portal(threads=8, workers=2,
                            settings={"throttle": {"login_attempts_per_ip": 100000}})
    portal.start()
    try:
        portal.load_demo_billing([("SIM", "100200", "Иванов", "1234,50",
                                   "%d-03-15" % harness.this_year(), "ул. Ленина, 1")])
        case = harness.PortalTestCase()
        case.portal = portal
        b = case.register_confirmed("bench@example.org", "benchpw1")
        page = b.get("accounts/link")
        b.post("accounts/link", {"office": "SIM", "account": "100200", "surname": "Иванов",
                                 "amount": "1234,50", "csrf": page.csrf()})
        cookie = "lkk_session=" + b.cookies["lkk_session"]
        rows = [("static", "/static.txt", None), ("healthz", "/lkk/healthz", None),
                ("start", "/lkk/", None), ("registry", "/lkk/accounts", cookie)]
        results = [(name, path) + wrk(portal.port, path, c) for name, path, c in rows]
        base = results[0][2]
        print("%-9s %-15s %10s %8s %9s %s" % ("page", "path", "req/s", "p99", "vs static",
                                             "non-2xx"))
        for name, path, rps, p99, bad in results:
            print("%-9s %-15s %10.0f %8s %8.3fx %d" % (name, path, rps, p99, rps / base, bad))
        problems = portal.problems()
        if problems:
            print("error.log problems:", *problems[:5], sep="\n  ")
            return 1
    finally:
        portal.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
