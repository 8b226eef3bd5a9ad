"""The whole picture in one run (issue 11): portal pages on both backends against a static file
on the same nginx, login against the raw Argon2id rate, a static file under login load, and
worker memory over 200k requests.

Starts two real nginx + module portals through the integration harness (the pool the module
declares itself when nginx.conf has no thread_pool line: 2 threads per CPU, at least 4; 2
workers, the default Argon2id cost of the settings: m=19456 KiB, t=2, p=1): one on SQLite, one
on MariaDB + Redis (needs LKK_TEST_MYSQL_URL and LKK_TEST_REDIS_URL, e.g. from
scripts/services.sh). On each, one subscriber with one linked account. Then ROUNDS rounds
(default 3), each running every page on SQLite and then on MariaDB + Redis (interleaved, A B A
B), with wrk -t2 -c64 (login: -c16) for LKK_BENCH_SECONDS (default 10):
  static   /static.txt              nginx alone: the baseline of every ratio
  return200 /return200              nginx alone, `return 200`: a second baseline (a static
                                    file costs more against it on some machines than others)
  healthz  /lkk/healthz             on the event loop from a check at most 1 s old (nginx)
  start    /lkk/                    the start page, no session
  registry /lkk/accounts            the logged-in registry
  account  /lkk/accounts/{id}       one account's page
  login    POST /lkk/login          a successful login (Argon2id verify + a new session)
Login runs in LKK_BENCH_LOGIN_SLICES slices (default 3) of LKK_BENCH_LOGIN_SLICE seconds
(default 4) per round, alternating with the raw Argon2id rate of the same cost on as many
threads as CPUs (build/ci/bench/argon2/lkk-argon2-rate, libargon2 directly): raw, login, raw,
..., raw. The machine's own rate drifts by a third within minutes here, so each slice is set
against the mean of the two raw runs around it. A slice's rate counts the logins the workers
finished (lkk_logins_total, from a metrics location) from wrk's start to the last one: wrk
stops without waiting for the logins still queued, and the workers hash those all the same.
Once per round the tool also runs the portal's own hashing path without HTTP (verify_password
through the hash slots and hashing threads, on twice as many threads as CPUs) between two raw
runs: what the slots cost or save against libargon2 alone, apart from the HTTP around a login.
Then a static file's p99 (wrk -t1 -c8) alone and while logins saturate the pool. The login
slices also read the workers' CPU time per thread: the milliseconds per login on the hashing
threads and on all the others (what a login costs besides Argon2, which holds whatever the
machine's speed). Each figure is the median of the rounds (login: of the slices' ratios).
After the rounds, each backend's registry page runs until 200k requests and the workers' RSS
is read before and after. With --big a third portal (MariaDB + Redis) gets 1M
users and 1M billing accounts, and its registry rate is set against the almost empty MariaDB
portal's.
Prints a table and writes the figures as JSON (--json, default bench-whole.json).
  /usr/bin/python3 bench/http/whole.py [--big] [--json FILE] [--backends sqlite,mysql]
                                      [--pages login,registry,...] [BUILD_DIR]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import benchlib  # noqa: E402

ARGS = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ARGS.add_argument("--big", action="store_true", help="also 1M users and 1M billing accounts")
ARGS.add_argument("--json", default="bench-whole.json", help="where to write the figures")
ARGS.add_argument("--backends", default="sqlite,mysql",
                  help="comma-separated: sqlite, mysql (default both)")
ARGS.add_argument("--pages", default=None,
                  help="comma-separated subset of the pages to run (default all; the static "
                       "file, the baseline, always runs; the RSS stage runs only with all)")
ARGS.add_argument("--instructions", action="store_true",
                  help="only count the instructions per request of each page under callgrind "
                       "(valgrind), a figure that does not drift with the machine")
ARGS.add_argument("build_dir", nargs="?")
OPTS = ARGS.parse_args()
harness = benchlib.harness(OPTS.build_dir)
BUILD = os.environ["LKK_BUILD_DIR"]

SECONDS = int(os.environ.get("LKK_BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("LKK_BENCH_ROUNDS", "3"))
RSS_REQUESTS = 200000
ARGON2 = {"argon2_memory_kib": 19456, "argon2_iterations": 2, "argon2_parallelism": 1}
PASSWORD = "benchpw1"
LOGIN_LUA = os.path.join(HERE, "login.lua")
PAGES = ("static", "return200", "healthz", "start", "registry", "account", "login")
# The baselines run in every round, whatever --pages says.
BASELINES = ("static", "return200")
# nginx alone, twice: a static file (the baseline) and `return 200` (no file, no
# module: the fastest answer nginx has; machines differ in how much a static file costs
# against it). The metrics location counts the logins the workers finished.
SERVER_EXTRA = """
        location = /return200 { return 200 "ok"; }
        location = /lkk-metrics { lkk_metrics; allow 127.0.0.1; deny all; }
"""
# Each login round alternates LOGIN_SLICES login runs with raw Argon2id runs around them, each
# LOGIN_SLICE seconds.
LOGIN_SLICES = int(os.environ.get("LKK_BENCH_LOGIN_SLICES", "3"))
LOGIN_SLICE = int(os.environ.get("LKK_BENCH_LOGIN_SLICE", "4"))
WANTED = OPTS.pages.split(",") if OPTS.pages else PAGES
assert set(WANTED) <= set(PAGES), "--pages: one of " + ", ".join(PAGES)
RUN = tuple(p for p in PAGES if p in BASELINES or p in WANTED)


def ms(text):
    """wrk's latency text (850.00us, 12.34ms, 1.02s) in milliseconds."""
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[:-len(unit)]) * factor
    return float(text)


def wrk(port, path, cookie=None, threads=2, connections=64, seconds=SECONDS, lua=None):
    """(req/s, p99 ms, non-2xx/3xx, requests)."""
    cmd = ["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds, "--latency",
           "--timeout", "10s"]
    if cookie:
        cmd += ["-H", "Cookie: " + cookie]
    if lua:
        cmd += ["-s", lua]
    out = subprocess.run(cmd + ["http://127.0.0.1:%d%s" % (port, path)], capture_output=True,
                         text=True, check=True).stdout
    rps, p99, bad, requests = benchlib.wrk_figures(out)
    return rps, ms(p99), bad, requests


class Site:
    """A started portal with one subscriber and one linked account."""

    def __init__(self, backend, shared_db=None):
        self.backend = backend
        self.portal = harness.Portal(threads=None, workers=2, backend=backend, shared_db=shared_db,
                                     server_extra=SERVER_EXTRA,
                                     settings={"passwords": ARGON2,
                                               "throttle": {"login_attempts_per_ip": 1000000}})
        self.portal.start()
        try:
            self.portal.load_demo_billing([("SIM", "100200", "Иванов", "1234,50",
                                            "%d-03-15" % harness.this_year(), "ул. Ленина, 1")])
            case = harness.PortalTestCase()
            case.portal = self.portal
            b = case.register_confirmed("bench@example.org", PASSWORD)
            page = b.get("accounts/link")
            r = b.post("accounts/link", {"office": "SIM", "account": "100200",
                                         "surname": "Иванов", "amount": "1234,50",
                                         "csrf": page.csrf()})
            assert r.status == 303, r.text
            self.link = int(r.header("location").rsplit("=", 1)[1])
            self.cookie = "lkk_session=" + b.cookies["lkk_session"]
            anon = self.portal.browser()
            login_page = anon.get("")
            env = {"LKK_BENCH_BODY": "email=bench%40example.org&password=" + PASSWORD +
                   "&csrf=" + login_page.csrf(),
                   "LKK_BENCH_COOKIE": "lkk_csrf=" + anon.cookies["lkk_csrf"]}
            self.login_env = env
        except BaseException:
            self.portal.stop()
            raise

    def paths(self):
        return {"static": ("/static.txt", None), "return200": ("/return200", None),
                "healthz": ("/lkk/healthz", None),
                "start": ("/lkk/", None), "registry": ("/lkk/accounts", self.cookie),
                "account": ("/lkk/accounts/%d" % self.link, self.cookie)}

    def login(self, seconds=SECONDS):
        os.environ.update(self.login_env)
        return wrk(self.portal.port, "/lkk/login", connections=16, seconds=seconds, lua=LOGIN_LUA)

    def cpu_ticks(self):
        """The workers' CPU ticks so far: (on the hashing threads, on all the others). The
        hashing threads are the ones under SCHED_IDLE (core/src/crypto.cpp)."""
        hashing = other = 0
        for _, _, fields in harness.thread_stats(self.portal.worker_pids()):
            ticks = int(fields[11]) + int(fields[12])
            if harness.is_hashing_thread(fields):
                hashing += ticks
            else:
                other += ticks
        return hashing, other

    def logins_done(self):
        """The successful logins the workers have finished so far (lkk_logins_total)."""
        url = "http://127.0.0.1:%d/lkk-metrics" % self.portal.port
        with urllib.request.urlopen(url, timeout=10) as r:
            for line in r.read().decode().splitlines():
                if line.startswith('lkk_logins_total{result="success"} '):
                    return int(float(line.split()[1]))
        raise RuntimeError("no successful logins counted in " + url)

    def login_slice(self, seconds):
        """One login run: wrk for seconds, then on until the workers have finished the logins
        wrk left queued (it stops without waiting for its answers; the workers hash them all
        the same, and they would slow the raw run after this one). (logins/s from wrk's start
        to the last login the workers finished, wrk's p99 ms, wrk's non-2xx/3xx, the logins
        finished), and the workers' CPU milliseconds per login (hashing, the rest): what a
        login costs besides Argon2, whatever the machine's speed was meanwhile."""
        os.environ.update(self.login_env)
        pids = self.portal.worker_pids()  # read once: ps would take CPU from the hashes
        ticks = self.cpu_ticks()
        first = self.logins_done()
        start = time.time()
        _, p99, bad, _ = wrk(self.portal.port, "/lkk/login", connections=16, seconds=seconds,
                             lua=LOGIN_LUA)
        done, last, quiet = self.logins_done(), time.time(), 0
        while quiet < 2:  # the count and the hashing threads still twice running
            assert time.time() - last < 60, "the workers finish no login"
            time.sleep(0.005)
            now = self.logins_done()
            if now != done:
                done, last, quiet = now, time.time(), 0
            elif harness.hashing_threads_running(pids) == 0:
                quiet += 1
        logins = done - first
        per_login = [(b - a) * 1000.0 / os.sysconf("SC_CLK_TCK") / max(logins, 1)
                     for a, b in zip(ticks, self.cpu_ticks())]
        return (logins / (last - start), p99, bad, logins), per_login

    def rss_kib(self):
        total = {}
        for pid in self.portal.worker_pids():
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total[pid] = int(line.split()[1])
        return total


def argon2_rate(seconds, through_lkk=False):
    """Hashes/s of libargon2 on as many threads as CPUs; through_lkk: of the portal's own
    hashing path (verify_password: slots, hashing threads) fed by twice as many threads."""
    tool = os.path.join(BUILD, "bench", "argon2", "lkk-argon2-rate")
    threads = os.cpu_count() * (2 if through_lkk else 1)
    out = subprocess.run([tool, str(ARGON2["argon2_memory_kib"]), str(ARGON2["argon2_iterations"]),
                          str(ARGON2["argon2_parallelism"]), str(threads), str(seconds)] +
                         (["lkk"] if through_lkk else []),
                         capture_output=True, text=True, check=True).stdout
    return float(out.split()[1])


def static_under_login(site):
    """(p99 ms alone, p99 ms while logins run) of the static file, wrk -t1 -c8."""
    alone = wrk(site.portal.port, "/static.txt", threads=1, connections=8)[1]
    result = {}
    logins = threading.Thread(target=lambda: result.setdefault("login",
                                                               site.login(SECONDS + 2)))
    logins.start()
    time.sleep(1)
    loaded = wrk(site.portal.port, "/static.txt", threads=1, connections=8)[1]
    logins.join()
    return alone, loaded


def rss_growth(site):
    """(KiB before, KiB after, requests) of the workers over RSS_REQUESTS registry views."""
    before = site.rss_kib()
    path, cookie = site.paths()["registry"]
    done = 0
    while done < RSS_REQUESTS:
        done += wrk(site.portal.port, path, cookie, seconds=5)[3]
    after = site.rss_kib()
    growth = max(after.get(pid, 0) - kib for pid, kib in before.items())
    return sum(before.values()), sum(after.values()), growth, done


def seed_big(site):
    """1M users and 1M billing accounts in the site's MariaDB, straight in SQL."""
    sql = [
        # MariaDB's Sequence engine: seq_1_to_N is a table of the numbers 1..N.
        "INSERT INTO billing_accounts (office_code, account_number, surname, surname_key,"
        " address) SELECT 'SIM', CONCAT('9', LPAD(seq, 7, '0')), 'Петров', 'петров',"
        " CONCAT('ул. Мира, ', seq) FROM seq_1_to_1000000",
        "INSERT INTO users (email, password_hash, status, created_at) SELECT"
        " CONCAT('u', seq, '@example.org'), '', 'active', 0 FROM seq_1_to_1000000",
    ]
    site.portal.sql("; ".join(sql))


INSTRUCTION_REQUESTS = 1000


def instructions(site):
    """{page: instructions per request} of the pages other than login, counted by callgrind in
    a one-process copy of the site's nginx (the same settings and database): user-space
    instructions of the event loop and the pool threads together, the mean over
    INSTRUCTION_REQUESTS keep-alive requests after 20 to warm up (timers, such as the mail
    queue's poll, run meanwhile too: their share shrinks with the count)."""
    import http.client
    port = harness.free_port()
    work = tempfile.mkdtemp(prefix="lkk-callgrind-")
    with open(site.portal.nginx_conf) as f:
        conf = f.read()
    conf = conf.replace("worker_processes 2;", "worker_processes 1; master_process off; "
                        "daemon off;")
    conf = conf.replace("listen 127.0.0.1:%d;" % site.portal.port, "listen 127.0.0.1:%d;" % port)
    conf = conf.replace("pid %s/nginx.pid;" % site.portal.dir, "pid %s/nginx.pid;" % work)
    conf = conf.replace("access_log %s/access.log;" % site.portal.dir,
                        "access_log %s/access.log;" % work)
    conf_path = os.path.join(work, "nginx.conf")
    with open(conf_path, "w") as f:
        f.write(conf)
    out = os.path.join(work, "callgrind.out")
    server = subprocess.Popen(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                               "--callgrind-out-file=" + out, "/usr/sbin/nginx", "-p", work,
                               "-c", conf_path], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    counts = {}
    try:
        assert harness.wait_port(port, timeout=60), "nginx under callgrind does not listen"
        control = ["callgrind_control"]
        subprocess.run(control + ["-i", "on", str(server.pid)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def get(path, cookie):
            conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
            r = conn.getresponse()
            r.read()
            return r.status

        for n, (page, (path, cookie)) in enumerate(site.paths().items(), start=1):
            statuses = {get(path, cookie) for _ in range(20)}
            subprocess.run(control + ["-z", str(server.pid)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            statuses |= {get(path, cookie) for _ in range(INSTRUCTION_REQUESTS)}
            subprocess.run(control + ["--dump=" + page, str(server.pid)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            assert statuses == {200}, "%s answered %s" % (path, statuses)
            with open("%s.%d" % (out, n)) as f:
                total = next(int(line.split()[1]) for line in f if line.startswith("summary:"))
            counts[page] = total / INSTRUCTION_REQUESTS
    finally:
        server.terminate()
        server.wait(timeout=60)
    return counts


def instructions_only(sites):
    figures = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "requests_per_page": INSTRUCTION_REQUESTS, "instructions_per_request": {}}
    print("%-8s %-9s %14s %10s" % ("backend", "page", "instr/request", "vs static"))
    for backend, site in sites.items():
        counts = instructions(site)
        figures["instructions_per_request"][backend] = counts
        for page, n in counts.items():
            print("%-8s %-9s %14.0f %9.2fx" % (backend, page, n, n / counts["static"]))
    with open(OPTS.json, "w") as f:
        json.dump(figures, f, indent=1)
    print("figures written to %s" % OPTS.json)
    return 0


def median(values):
    return statistics.median(values) if values else None


def main():
    sites = {}
    try:
        for backend in OPTS.backends.split(","):
            sites[backend] = Site(backend)
        if OPTS.instructions:
            return instructions_only(sites)
        runs = {b: {p: [] for p in PAGES + ("static_p99_alone", "static_p99_login", "raw",
                                            "login_cpu_ms")}
                for b in sites}
        argon2 = []
        hashing_path = []  # the portal's hashing path against the raw runs around it, per round
        load = [os.getloadavg()[0]]
        for r in range(ROUNDS):
            if "login" in RUN:
                before, lkk, after = (argon2_rate(LOGIN_SLICE), argon2_rate(LOGIN_SLICE, True),
                                      argon2_rate(LOGIN_SLICE))
                hashing_path.append(lkk / ((before + after) / 2))
            for backend, site in sites.items():
                for page, (path, cookie) in site.paths().items():
                    if page in RUN:
                        runs[backend][page].append(wrk(site.portal.port, path, cookie))
                if "login" in RUN:
                    # raw, login, raw, login, ..., raw: each login slice against the mean of
                    # the two raw runs around it.
                    raws = [argon2_rate(LOGIN_SLICE)]
                    for _ in range(LOGIN_SLICES):
                        figures, cpu = site.login_slice(LOGIN_SLICE)
                        runs[backend]["login"].append(figures)
                        runs[backend]["login_cpu_ms"].append(cpu)
                        raws.append(argon2_rate(LOGIN_SLICE))
                        runs[backend]["raw"].append((raws[-2] + raws[-1]) / 2)
                    argon2 += raws
                    alone, loaded = static_under_login(site)
                    runs[backend]["static_p99_alone"].append(alone)
                    runs[backend]["static_p99_login"].append(loaded)
            load.append(os.getloadavg()[0])
            print("round %d of %d done, load %.2f" % (r + 1, ROUNDS, load[-1]), flush=True)
        rss = {b: rss_growth(s) for b, s in sites.items()} if RUN == PAGES else {}
        big = None
        if OPTS.big:
            big = big_database(sites)
        problems = [p for s in sites.values() for p in s.portal.problems()]
    finally:
        for s in sites.values():
            s.portal.stop()
    return report(runs, argon2, hashing_path, rss, big, load, problems)


def big_database(sites):
    """The registry on a MariaDB with 1M users and 1M billing accounts against the almost
    empty one, alternating rounds."""
    try:
        sites["big"] = Site("mysql")
        seed_big(sites["big"])
        path, cookie = sites["big"].paths()["registry"]
        empty_path, empty_cookie = sites["mysql"].paths()["registry"]
        big_runs, empty_runs = [], []
        for _ in range(ROUNDS):
            big_runs.append(wrk(sites["big"].portal.port, path, cookie)[0])
            empty_runs.append(wrk(sites["mysql"].portal.port, empty_path, empty_cookie)[0])
        return {"big_rps": big_runs, "empty_rps": empty_runs,
                    "ratio": median(big_runs) / median(empty_runs)}
    except (subprocess.CalledProcessError, RuntimeError) as e:
        print("--big failed: %s %s" % (e, getattr(e, "stderr", "")))
        return None


def report(runs, argon2, hashing_path, rss, big, load, problems):
    raw = median(argon2)
    figures = {"seconds": SECONDS, "rounds": ROUNDS, "cpus": os.cpu_count(),
               "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "loadavg_1min": load, "argon2_raw_hashes_per_second": argon2,
               "argon2_params": ARGON2, "backends": {}, "big": big,
               "hashing_path_vs_raw": hashing_path}
    print("\nwrk -t2 -c64 (login -c16), %d s runs, median of %d rounds; load average %s"
          % (SECONDS, ROUNDS, " ".join("%.2f" % x for x in load)))
    if argon2:
        print("raw Argon2id m=%d t=%d p=%d on %d threads: %.1f hashes/s (each run: %s)"
              % (ARGON2["argon2_memory_kib"], ARGON2["argon2_iterations"],
                 ARGON2["argon2_parallelism"], os.cpu_count(), raw,
                 " ".join("%.1f" % x for x in argon2)))
    if hashing_path:
        print("the portal's hashing path without HTTP (verify_password on %d threads) against "
              "the raw runs around it: %.3fx (each round: %s)"
              % (2 * os.cpu_count(), median(hashing_path),
                 " ".join("%.3f" % x for x in hashing_path)))
    print("%-8s %-9s %10s %9s %10s %10s %10s %8s  %s" % ("backend", "page", "req/s", "p99 ms",
                                                         "vs static", "same round",
                                                         "vs ret200", "non-2xx", "rounds req/s"))
    for backend, pages in runs.items():
        out = {}
        static = median([x[0] for x in pages["static"]])
        return200 = median([x[0] for x in pages["return200"]])
        for page in PAGES:
            if not pages[page]:
                continue
            rates = [x[0] for x in pages[page]]
            rate, p99 = median(rates), median([x[1] for x in pages[page]])
            bad = sum(x[2] for x in pages[page])
            # Each run against the baseline measured in the same round (a minute apart at most),
            # so that the machine's drift over the rounds cancels: the median of those ratios.
            if page == "login":
                ratio = paired = median([x[0] / r for x, r in zip(pages[page], pages["raw"])])
                vs_return200 = float("nan")
            else:
                ratio = rate / static if static else float("nan")
                paired = median([x[0] / s[0] for x, s in zip(pages[page], pages["static"])])
                vs_return200 = rate / return200 if return200 else float("nan")
            out[page] = {"rps": rates, "p99_ms": [x[1] for x in pages[page]], "non_2xx": bad,
                         "median_rps": rate, "median_p99_ms": p99,
                         "ratio": ratio, "ratio_same_round": paired,
                         "ratio_of": "argon2_raw" if page == "login" else "static"}
            if page == "login":
                out[page]["argon2_raw_bracketing_each_run"] = pages["raw"]
            else:
                out[page]["ratio_of_return200"] = vs_return200
            print("%-8s %-9s %10.0f %9.2f %9.3fx%s %9.3fx %9.3fx %8d  %s"
                  % (backend, page, rate, p99, ratio, "A" if page == "login" else " ", paired,
                     vs_return200, bad, " ".join("%.0f" % x for x in rates)))
            if page == "login" and pages["login_cpu_ms"]:
                hashing = median([c[0] for c in pages["login_cpu_ms"]])
                around = median([c[1] for c in pages["login_cpu_ms"]])
                out[page]["worker_cpu_ms_per_login"] = {
                    "hashing_threads": [c[0] for c in pages["login_cpu_ms"]],
                    "other_threads": [c[1] for c in pages["login_cpu_ms"]],
                    "share_outside_argon2": around / (hashing + around)}
                print("%-8s login CPU per login: %.1f ms hashing, %.2f ms around the hash "
                      "(%.1f%% of the workers' CPU outside Argon2)"
                      % (backend, hashing, around, 100 * around / (hashing + around)))
        figures["backends"][backend] = out
        if not pages["static_p99_alone"]:
            continue
        alone = median(pages["static_p99_alone"])
        loaded = median(pages["static_p99_login"])
        out["static_p99_ms_alone"] = pages["static_p99_alone"]
        out["static_p99_ms_under_login"] = pages["static_p99_login"]
        paired = median([b / a for a, b in zip(pages["static_p99_alone"],
                                               pages["static_p99_login"])])
        out["static_p99_ratio_same_round"] = paired
        print("%-8s static p99 alone %.2f ms, under login load %.2f ms (%.2fx; same round %.2fx)"
              % (backend, alone, loaded, loaded / alone, paired))
        if backend in rss:
            before, after, growth, requests = rss[backend]
            out["rss"] = {"before_kib": before, "after_kib": after,
                          "max_worker_growth_kib": growth, "requests": requests}
            print("%-8s worker RSS %d -> %d KiB over %d registry requests (largest growth of "
                  "one worker %d KiB)" % (backend, before, after, requests, growth))
    print("(A: login as a ratio of the raw Argon2id rate around it, median of the slices' "
          "ratios; the others of the static file: the medians' ratio, and the median of each "
          "round's ratio to the static run of that round)")
    if big:
        print("registry with 1M users + 1M accounts: %.0f req/s vs %.0f almost empty: %.3fx"
              % (median(big["big_rps"]), median(big["empty_rps"]), big["ratio"]))
    if problems:
        print("error.log problems:", *problems[:5], sep="\n  ")
        figures["problems"] = problems[:20]
    with open(OPTS.json, "w") as f:
        json.dump(figures, f, indent=1)
    print("figures written to %s" % OPTS.json)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
