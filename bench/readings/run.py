"""Readings benchmark (issue 9 part 7): meter reading submissions per second by 64 concurrent
logged-in subscribers, and that rate as a ratio of the registry page's rate in the same run.

Starts the real nginx + module through the integration harness (2 workers, the pool the module
declares itself) on each backend asked for: SQLite, and MariaDB + Redis (needs
LKK_TEST_MYSQL_URL and LKK_TEST_REDIS_URL, e.g. from scripts/services.sh). It imports 64
billing accounts with one meter each, registers, confirms and logs in 64 subscribers (each
links its own account), and opens the readings window for the whole month. Then wrk runs with
64 threads of one connection each, so that every connection is its own subscriber with its own
session, CSRF token and meter (bench/readings/subscribers.lua):
  readings  POST /lkk/accounts/{id}/readings   a new value each time (replaces the month's
                                               reading, audited), answered 303
  registry  GET  /lkk/accounts                 the same 64 sessions
It prints req/s, p99 and non-2xx/3xx answers of each, and readings/registry.
  /usr/bin/python3 bench/readings/run.py [--backend sqlite|mysql|both] [BUILD_DIR]
  (LKK_BENCH_SECONDS, default 10)
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import benchlib  # noqa: E402

ARGS = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ARGS.add_argument("--backend", choices=("sqlite", "mysql", "both"), default="both")
ARGS.add_argument("build_dir", nargs="?")
OPTS = ARGS.parse_args()
harness = benchlib.harness(OPTS.build_dir)

SECONDS = int(os.environ.get("LKK_BENCH_SECONDS", "10"))
SUBSCRIBERS = 64
LUA = os.path.join(HERE, "subscribers.lua")


def subscribers(portal):
    """Registers, confirms and logs in SUBSCRIBERS cabinets, each linked to its own account
    with one meter; answers their [{cookie, csrf, link, meter, base}]."""
    accounts = [("SIM", "7%05d" % i, "Иванов", "0", "", "ул. Ленина, %d" % i)
                for i in range(SUBSCRIBERS)]
    portal.load_demo_billing(accounts)
    meters = os.path.join(portal.dir, "meters.csv")
    with open(meters, "w", encoding="utf-8") as f:
        f.write("office;account;meter;last_reading;last_reading_date;digits\n")
        for i in range(SUBSCRIBERS):
            f.write("SIM;7%05d;B-%d;1000;2020-01-01;9\n" % (i, i))
    portal.admin("meters", "import", meters)

    browsers = []
    for i in range(SUBSCRIBERS):
        b = portal.browser()
        addr = "bench%d@example.org" % i
        r = b.form("register", "register", {"email": addr, "password": "benchpw1",
                                            "password_confirm": "benchpw1", "consent": "1"})
        assert r.status == 200, r.text
        browsers.append((b, addr))
    portal.sink.wait_for(SUBSCRIBERS, timeout=120)
    out = []
    for i, (b, addr) in enumerate(browsers):
        msg = portal.sink.wait_for(1, to=addr)[0]
        link = harness.mail_link(msg, "/confirm?token=")
        assert b.get(link.split("127.0.0.1:%d" % portal.port, 1)[1]).status == 200
        assert b.form("", "login", {"email": addr, "password": "benchpw1"}).status == 303
        r = b.form("accounts/link", "accounts/link", {"office": "SIM", "account": "7%05d" % i,
                                                      "surname": "Иванов", "amount": "0"})
        assert r.status == 303, r.text
        link_id = int(r.header("location").split("linked=")[1])
        page = b.get("accounts/%d/readings" % link_id)
        assert page.status == 200, page.text
        out.append({"cookie": "lkk_session=" + b.cookies["lkk_session"], "csrf": page.csrf(),
                    "path": "/lkk/accounts/%d/readings" % link_id, "meter": "B-%d" % i,
                    "base": 1000})
    return out


def wrk(port, mode, subs_file):
    env = dict(os.environ, LKK_BENCH_MODE=mode, LKK_BENCH_SUBSCRIBERS=subs_file)
    cmd = ["wrk", "-t%d" % SUBSCRIBERS, "-c%d" % SUBSCRIBERS, "-d%ds" % SECONDS, "--latency",
           "-s", LUA, "http://127.0.0.1:%d/" % port]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
    return benchlib.wrk_figures(out)


def measure(backend):
    portal = harness.Portal(threads=None, workers=2, backend=backend, settings={
        "readings": {"window_start_day": 1, "window_end_day": 31},
        "throttle": {"login_attempts_per_ip": 100000}})
    portal.start()
    try:
        subs = subscribers(portal)
        subs_file = os.path.join(portal.dir, "subscribers.json")
        with open(subs_file, "w") as f:
            json.dump(subs, f)
        audited_before = int(portal.sql(
            "SELECT count(*) FROM audit_log WHERE event = 'reading'")[0][0])
        readings = wrk(portal.port, "readings", subs_file)
        registry = wrk(portal.port, "registry", subs_file)
        # Every answered submission was stored and audited (the last one of each meter kept).
        audited = int(portal.sql(
            "SELECT count(*) FROM audit_log WHERE event = 'reading'")[0][0]) - audited_before
        kept = int(portal.sql("SELECT count(*) FROM readings WHERE source = 'subscriber'")[0][0])
        problems = portal.problems()
        if problems:
            print("%s: error.log problems:" % backend, *problems[:5], sep="\n  ")
            return None
        return readings, registry, audited, kept
    finally:
        portal.stop()


def main():
    backends = ("sqlite", "mysql") if OPTS.backend == "both" else (OPTS.backend,)
    if "mysql" in backends and not os.environ.get("LKK_TEST_MYSQL_URL"):
        print("MariaDB + Redis: LKK_TEST_MYSQL_URL and LKK_TEST_REDIS_URL are not set "
              "(eval \"$(bash scripts/services.sh start)\")")
        return 2
    print("%d subscribers, %d s per page, nginx: 2 workers, thread pool of 8" % (SUBSCRIBERS,
                                                                                SECONDS))
    print("%-15s %-9s %10s %8s %8s %16s" % ("backend", "page", "req/s", "p99", "non-3xx",
                                            "readings/registry"))
    for backend in backends:
        started = time.time()
        result = measure(backend)
        if result is None:
            return 1
        (r_rps, r_p99, r_bad, r_n), (g_rps, g_p99, g_bad, _), audited, kept = result
        name = "SQLite" if backend == "sqlite" else "MariaDB+Redis"
        print("%-15s %-9s %10.0f %8s %8d %16.3f" % (name, "readings", r_rps, r_p99, r_bad,
                                                    r_rps / g_rps))
        print("%-15s %-9s %10.0f %8s %8d" % (name, "registry", g_rps, g_p99, g_bad))
        print("%-15s %d submissions audited of %d sent, %d readings kept (one per meter), "
              "%.0f s" % ("", audited, r_n, kept, time.time() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
