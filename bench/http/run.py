"""HTTP benchmark: requests/s of portal pages against a static file on the same web server.

Starts the real nginx + module (through the integration harness, SQLite or, with
LKK_IT_BACKEND=mysql, MariaDB + Redis), registers and logs in one subscriber with a linked
account, then runs wrk (loopback only, bounded duration) against:
  static   /static.txt          the server alone: the baseline
  healthz  /lkk/healthz         on the event loop from a check at most 1 s old (nginx)
  start    /lkk/                thread pool + page rendering, no session
  registry /lkk/accounts        session lookup + registry queries + rendering
and prints req/s, p99 latency and each figure as a ratio of the static baseline.
With --server apache the same runs on nginx and then on Apache httpd + mod_lkk (mpm_event,
LKK_IT_APACHE_MPM=prefork for the other), and Apache's table also gives each figure as a
ratio of nginx's figure for the same page from the same run.
With --metrics it measures the cost of the Prometheus metrics instead: two nginx (2 workers
each), one with a `lkk_metrics` location (counting into the shared zone) and one without (no
zone, nothing counted), the registry page on each in alternating rounds (wrk -t2 -c64), and
the rate with metrics as a ratio of the rate without.
  /usr/bin/python3 bench/http/run.py [--server nginx|apache | --metrics] [BUILD_DIR]
  (LKK_BENCH_SECONDS, default 10)
"""
import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402

ARGS = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ARGS.add_argument("--server", choices=("nginx", "apache"), default="nginx")
ARGS.add_argument("--metrics", action="store_true",
                  help="the registry page with and without a lkk_metrics location")
ARGS.add_argument("build_dir", nargs="?")
OPTS = ARGS.parse_args()
harness = benchlib.harness(OPTS.build_dir)

SECONDS = int(os.environ.get("LKK_BENCH_SECONDS", "10"))


def wrk(port, path, cookie=None, connections=32):
    cmd = ["wrk", "-t2", "-c%d" % connections, "-d%ds" % SECONDS, "--latency"]
    if cookie:
        cmd += ["-H", "Cookie: " + cookie]
    out = subprocess.run(cmd + ["http://127.0.0.1:%d%s" % (port, path)],
                         capture_output=True, text=True, check=True).stdout
    return benchlib.wrk_figures(out)[:3]


def start_portal(server, server_extra=""):
    """A started portal with one subscriber who linked an account; answers (portal, cookie)."""
    portal = harness.Portal(threads=None, workers=2, server=server, server_extra=server_extra,
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
        return portal, "lkk_session=" + b.cookies["lkk_session"]
    except BaseException:
        portal.stop()
        raise


def measure(server):
    """[(page, path, req/s, p99, non-2xx)] on one server; None when its error log has problems."""
    portal, cookie = start_portal(server)
    try:
        rows = [("static", "/static.txt", None), ("healthz", "/lkk/healthz", None),
                ("start", "/lkk/", None), ("registry", "/lkk/accounts", cookie)]
        results = [(name, path) + wrk(portal.port, path, c) for name, path, c in rows]
        problems = portal.problems()
        if problems:
            print("%s error.log problems:" % server, *problems[:5], sep="\n  ")
            return None
        return results
    finally:
        portal.stop()


def report(server, results, nginx=None):
    base = results[0][2]
    title = server if server == "nginx" else "%s (mpm_%s)" % (server, harness.APACHE_MPM)
    print("\n%s" % title)
    print("%-9s %-15s %10s %8s %9s %9s %s" % ("page", "path", "req/s", "p99", "vs static",
                                              "vs nginx" if nginx else "", "non-2xx"))
    for i, (name, path, rps, p99, bad) in enumerate(results):
        vs_nginx = "%8.3fx" % (rps / nginx[i][2]) if nginx else ""
        print("%-9s %-15s %10.0f %8s %8.3fx %9s %d" % (name, path, rps, p99, rps / base,
                                                      vs_nginx, bad))


def metrics_cost():
    """The registry page with the metrics on and off, alternating rounds in one run."""
    on, on_cookie = start_portal(
        "nginx", "location = /lkk-metrics { lkk_metrics; allow 127.0.0.1; deny all; }")
    try:
        off, off_cookie = start_portal("nginx")
    except BaseException:
        on.stop()
        raise
    try:
        rounds = {"on": [], "off": []}
        for _ in range(ROUNDS):
            for name, portal, cookie in (("on", on, on_cookie), ("off", off, off_cookie)):
                rounds[name].append(wrk(portal.port, "/lkk/accounts", cookie, connections=64))
        scrape = harness.Browser(on.port).get("/lkk-metrics").text
        counted = re.search(r'lkk_requests_total\{route="accounts",status="200"\} (\d+)', scrape)
        problems = on.problems() + off.problems()
        if problems:
            print("error.log problems:", *problems[:5], sep="\n  ")
            return 1
    finally:
        on.stop()
        off.stop()
    print("\nregistry page /lkk/accounts, nginx 2 workers, wrk -t2 -c64 -d%ds, %d rounds"
          % (SECONDS, ROUNDS))
    print("%-8s %s   %s" % ("metrics", "  ".join("req/s  p99     " for _ in range(ROUNDS)),
                             "mean req/s"))
    mean = {}
    for name in ("on", "off"):
        rates = [r[0] for r in rounds[name]]
        mean[name] = sum(rates) / len(rates)
        cells = "  ".join("%6.0f %-8s" % (r[0], r[1]) for r in rounds[name])
        bad = sum(r[2] for r in rounds[name])
        print("%-8s %s   %8.0f%s" % (name, cells, mean[name],
                                      "  (%d non-2xx)" % bad if bad else ""))
    print("with metrics / without: %.3f" % (mean["on"] / mean["off"]))
    print("counted by the metrics: %s registry answers" % (counted.group(1) if counted else "?"))
    return 0


ROUNDS = int(os.environ.get("LKK_BENCH_ROUNDS", "2"))


def main():
    if OPTS.metrics:
        return metrics_cost()
    nginx = measure("nginx")
    if nginx is None:
        return 1
    report("nginx", nginx)
    if OPTS.server == "apache":
        apache = measure("apache")
        if apache is None:
            return 1
        report("apache", apache, nginx)
    return 0


if __name__ == "__main__":
    sys.exit(main())
