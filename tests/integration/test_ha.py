"""High availability (SPEC 14, issue 14): two nginx hosts on a Galera cluster (three MariaDB
nodes in one mysql:// URL) and on Redis behind Sentinel, under a load of 8 browsers that log
in, view their registry, link accounts and submit meter readings.

- Phase "galera": the node in use (the URL's first host) stops; the portals move to the next
  node. It then comes back (an incremental state transfer) and, 30 s after the move, the
  portals return to it.
- Phase "redis": the Redis master stops; Sentinel promotes the replica and the portals follow.
  The old master comes back as a replica.

Per phase the figures (requests, 503s, seconds to full service) are printed. Afterwards no
worker may have died, and every link and reading acknowledged to a browser must be in the
database.

Needs the cluster of `scripts/services.sh ha` (LKK_TEST_GALERA_URL, LKK_TEST_SENTINEL_URL,
LKK_TEST_GALERA_SOCKETS, LKK_TEST_HA_SCRIPT, LKK_TEST_HA_DIR): skipped without it, failed where
it is required (CI=true or LKK_TEST_REQUIRE_HA=1, as scripts/test.sh sets).
"""

import datetime
import os
import re
import secrets
import subprocess
import tempfile
import threading
import time
import unittest
import zoneinfo

from harness import ADMIN, MODULE, Browser, Portal, SmtpSink, free_port
from test_production import PASSWORD, UNAVAILABLE, ProductionCase, recorder, report

RUN = secrets.token_hex(3)
HA_VARIABLES = ("LKK_TEST_GALERA_URL", "LKK_TEST_SENTINEL_URL", "LKK_TEST_GALERA_SOCKETS",
                "LKK_TEST_HA_SCRIPT", "LKK_TEST_HA_DIR")
BROWSERS = 8
ACCOUNTS = 400  # per browser: each iteration links the next one
FULL_SERVICE_LIMIT = 15  # seconds from a server stopping to full service on both hosts
TZ = zoneinfo.ZoneInfo("Europe/Simferopol")


def ha_required():
    return (os.environ.get("CI") in ("true", "1")
            or os.environ.get("LKK_TEST_REQUIRE_HA") == "1")


def setUpModule():
    missing = [n for n in HA_VARIABLES if not os.environ.get(n)]
    if missing:
        if ha_required():
            raise AssertionError("%s not set, and the HA cluster is required here"
                                 % ", ".join(missing))
        raise unittest.SkipTest("%s not set: run eval \"$(bash scripts/services.sh ha)\""
                                % ", ".join(missing))
    for path in (MODULE, ADMIN):
        if not os.path.exists(path):
            raise unittest.SkipTest("not built: " + path)


def services(*args):
    env = dict(os.environ, LKK_SERVICES_DIR=os.environ["LKK_TEST_HA_DIR"])
    r = subprocess.run(["bash", os.environ["LKK_TEST_HA_SCRIPT"]] + list(args),
                       capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
                       timeout=300)
    if r.returncode != 0:
        raise RuntimeError("services.sh %s: %s %s" % (" ".join(args), r.stdout, r.stderr))


def node_sql(node, query):
    """Rows of a query on Galera node `node` (1..3), as root through its socket."""
    socket = os.environ["LKK_TEST_GALERA_SOCKETS"].split(",")[node - 1]
    r = subprocess.run(["mariadb", "--socket=" + socket, "-uroot", "-N", "-B", "-e", query],
                       capture_output=True, text=True, check=True)
    return [tuple(line.split("\t")) for line in r.stdout.splitlines()]


def sentinel_master():
    port = re.search(r",127\.0\.0\.1:(\d+)|//127\.0\.0\.1:(\d+)",
                     os.environ["LKK_TEST_SENTINEL_URL"]).group(2)
    r = subprocess.run(["redis-cli", "-p", port, "SENTINEL", "get-master-addr-by-name",
                        "mymaster"], capture_output=True, text=True, check=True)
    return int(r.stdout.split()[1])


class Failover(ProductionCase):

    @classmethod
    def setUpClass(cls):
        cls.db = "lkk_ha_" + RUN
        node_sql(1, "CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                 % cls.db)
        url = re.sub(r"/[^/]+$", "/" + cls.db, os.environ["LKK_TEST_GALERA_URL"])
        cls.sink = SmtpSink(tempfile.mkdtemp(prefix="lkk-sink-"), port=free_port()).start()
        settings = {"throttle": {"register_per_ip": 100000, "login_attempts_per_ip": 100000,
                                 "link_failures_per_user": 100000},
                    "readings": {"window_start_day": 1, "window_end_day": 31,
                                 "max_monthly_m3": 1000000}}
        cls.portals = ()
        try:
            cls.a, cls.b = (Portal(backend="mysql", shared_db=url,
                                   redis_url=os.environ["LKK_TEST_SENTINEL_URL"],
                                   sink=cls.sink, settings=settings, threads=8)
                            for _ in range(2))
            cls.a.write_settings()
            cls.a.admin("migrate")  # lkk-admin on the same three-host URL
            cls.a.start()
            cls.b.start()
            cls.portals = (cls.a, cls.b)
            cls.prepare_data()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for p in cls.portals:
            p.stop()
        cls.sink.stop()
        services("ha")  # whatever happened, the cluster is whole again
        node_sql(1, "DROP DATABASE IF EXISTS %s" % cls.db)

    @classmethod
    def prepare_data(cls):
        last_month = (datetime.datetime.now(TZ).date().replace(day=1)
                      - datetime.timedelta(days=1))
        billing = os.path.join(cls.a.dir, "billing.csv")
        meters = os.path.join(cls.a.dir, "meters.csv")
        with open(billing, "w", encoding="utf-8") as f:
            f.write("office;account;surname;last_payment;last_payment_date;address\n")
            for n in range(BROWSERS):
                for i in range(ACCOUNTS):
                    f.write("SIM;%d;Иванов;100,00;%s;ул. Ленина, %d\n"
                            % (account(n, i), last_month.isoformat(), i))
        with open(meters, "w", encoding="utf-8") as f:
            f.write("office;account;meter;last_reading;last_reading_date\n")
            for n in range(BROWSERS):
                f.write("SIM;%d;HA-%d;0;%s\n" % (account(n, 0), n, last_month.isoformat()))
        cls.a.admin("offices", "add", "SIM", "--name", "Симферополь", "--phones", "+7 3652 00")
        cls.a.admin("billing", "import", billing)
        cls.a.admin("meters", "import", meters)
        cls.users = []
        for n in range(BROWSERS):
            addr = "ha%d-%s@example.org" % (n, RUN)
            b = cls.a.browser()
            page = b.get("register")
            r = b.post("register", {"email": addr, "password": PASSWORD,
                                    "password_confirm": PASSWORD, "consent": "1",
                                    "csrf": page.csrf()})
            assert r.status == 200, r.text
            cls.a.admin("users", "confirm", addr)
            cls.users.append(addr)
        # Each browser's first account carries its meter: link it now.
        cls.link_ids = []
        for n, addr in enumerate(cls.users):
            b, r = cls.login_as(cls.a, addr)
            assert r.status == 303, r.text
            r = b.form("accounts/link", "accounts/link", {
                "office": "SIM", "account": str(account(n, 0)), "surname": "Иванов",
                "amount": "100,00"})
            assert r.status == 303, r.text
            cls.link_ids.append(int(r.header("location").split("linked=")[1]))
        cls.next_account = [1] * BROWSERS
        cls.reading = [0] * BROWSERS
        cls.acked_links = set()
        cls.acked_readings = {}  # browser -> the highest value acknowledged
        cls.sent_readings = {n: set() for n in range(BROWSERS)}

    @staticmethod
    def login_as(portal, addr):
        b = portal.browser()
        r = b.form("", "login", {"email": addr, "password": PASSWORD})
        return b, r

    # One browser: log in on one host, view the registry, link the next account and submit a
    # reading on the other host (a balancer without stickiness), then again.
    def browse(self, n, stop, log):
        record = recorder(log)
        addr = self.users[n]
        i = 0
        while not stop.is_set():
            i += 1
            one, other = (self.a, self.b) if i % 2 else (self.b, self.a)
            b = one.browser()
            page = record("page", lambda: b.get("/lkk/"))
            if page is None or page.status != 200 or 'name="csrf"' not in page.text:
                time.sleep(0.1)
                continue
            r = record("login", lambda: b.post("login", {"email": addr, "password": PASSWORD,
                                                         "csrf": page.csrf()}))
            if r is None or r.status != 303:
                time.sleep(0.1)
                continue
            b2 = Browser(other.port, other.base)
            b2.cookies = dict(b.cookies)
            r = record("registry", lambda: b2.get("accounts"))
            if r is None or r.status != 200:
                time.sleep(0.1)
                continue
            if self.next_account[n] < ACCOUNTS:
                number = account(n, self.next_account[n])
                form = record("link_form", lambda: b2.get("accounts/link"))
                if form is None or form.status != 200:
                    continue
                r = record("link", lambda: b2.post("accounts/link", {
                    "office": "SIM", "account": str(number), "surname": "Иванов",
                    "amount": "100,00", "csrf": form.csrf()}))
                if r is not None and r.status == 303 and "linked=" in (r.header("location")
                                                                        or ""):
                    self.acked_links.add((addr, str(number)))
                    self.next_account[n] += 1
                elif r is not None and r.status == 200 and "уже" in r.text:
                    self.next_account[n] += 1  # linked by an earlier try whose answer was lost
            page_path = "accounts/%d/readings" % self.link_ids[n]
            form = record("reading_form", lambda: b2.get(page_path))
            if form is None or form.status != 200:
                continue
            value = self.reading[n] + 1
            self.sent_readings[n].add(value)
            r = record("reading", lambda: b2.post(page_path, {"meter": "HA-%d" % n,
                                                              "value": str(value),
                                                              "csrf": form.csrf()}))
            if r is not None and r.status == 303 and "saved=" in (r.header("location") or ""):
                self.acked_readings[n] = value
                self.reading[n] = value
            elif r is not None and r.status not in (503, 0):
                self.reading[n] = value  # refused (e.g. stored by a lost try): go on above
            time.sleep(0.05)

    def full_service(self):
        """A fresh login on one host and the registry on the other, both ways."""
        for one, other in ((self.a, self.b), (self.b, self.a)):
            try:
                b, r = self.login_as(one, self.users[0])
                if r.status != 303:
                    return False
                b2 = Browser(other.port, other.base)
                b2.cookies = dict(b.cookies)
                if b2.get("accounts").status != 200:
                    return False
            except OSError:
                return False
        return True

    def run_phase(self, name, fault, after_recovery=None, session_loss=False):
        self.assertTrue(self.full_service(), "no full service before the phase")
        workers = [p.worker_pids() for p in self.portals]
        stop, log = threading.Event(), []
        threads = [threading.Thread(target=self.browse, args=(n, stop, log))
                   for n in range(BROWSERS)]
        for t in threads:
            t.start()
        first_ok = None
        try:
            time.sleep(3)
            t_fault = time.time()
            fault()
            t_stopped = time.time()
            while time.time() < t_fault + 60:
                if self.full_service():
                    first_ok = time.time()
                    break
                time.sleep(0.1)
            if after_recovery:
                after_recovery()
            time.sleep(3)
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        t_end = time.time()
        self.assertIsNotNone(first_ok, "%s: no full service 60 s after the fault" % name)
        in_phase = [e for e in log if e[1] >= t_fault]
        unavailable = [e for e in in_phase if e[3] == 503]
        failed = [e for e in log if not self.ok(e, t_fault, first_ok, session_loss)]
        report("HA %s: %d requests by %d browsers on 2 hosts (%d after the fault, in %.0f s); "
               "%d answered 503; full service %.2f s after the fault (the stop command took "
               "%.2f s); %d other failures; last 503 %.2f s after the fault"
               % (name, len(log), BROWSERS, len(in_phase), t_end - t_fault, len(unavailable),
                  first_ok - t_fault, t_stopped - t_fault, len(failed),
                  max((e[1] for e in unavailable), default=t_fault) - t_fault))
        before = [(e[2], e[3]) for e in log if e[1] < t_fault and e[3] not in (200, 303)]
        self.assertEqual(before, [], "failures before the fault")
        self.assertLess(first_ok - t_fault, FULL_SERVICE_LIMIT)
        not_human = [(round(e[0] - t_fault, 2), e[2], e[3], e[4][:200]) for e in failed]
        self.assertEqual(not_human, [], "answers other than the 503 page (or a lost session)")
        late = [(round(e[0] - first_ok, 2), e[2], e[3]) for e in unavailable
                if e[0] > first_ok + 2]
        self.assertEqual(late, [], "503s long after full service returned")
        self.assertTrue(any(e[0] > first_ok and e[2] == "reading" and e[3] == 303 for e in log),
                        "the load made no progress after recovery")
        self.assertEqual([p.worker_pids() for p in self.portals], workers,
                         "a worker process died")

    @staticmethod
    def ok(entry, t_fault, first_ok, session_loss):
        t0, _, step, status, text = entry
        if status == 503:
            return UNAVAILABLE in text
        if status == 200 and step == "link":
            return True  # a form error ("already linked" after a lost answer)
        if status == 303 and session_loss and t_fault - 5 <= t0 <= first_ok + 5:
            return True  # a session written just before the failover: back to the login
        return status in (200, 303)

    def test_failover(self):
        # Phase 1: the Galera node in use (the URL's first host) stops, then comes back.
        in_use = node_sql(1, "SELECT count(*) FROM information_schema.processlist "
                             "WHERE db = '%s'" % self.db)
        self.assertGreater(int(in_use[0][0]), 0, "the portals do not use node 1")
        rejoined = {}

        def back_and_return():
            t = time.time()
            services("galera-node-start", "1")
            rejoined["rejoin"] = time.time() - t
            # 30 s after the move to node 2 the portals try node 1 again between units of work.
            deadline = time.time() + 60
            while time.time() < deadline:
                n = node_sql(1, "SELECT count(*) FROM information_schema.processlist "
                                "WHERE db = '%s'" % self.db)
                if int(n[0][0]) > 0:
                    rejoined["back"] = time.time() - t
                    break
                time.sleep(0.5)

        self.run_phase("galera (node 1 of 3 stops)", lambda: services("galera-node-stop", "1"),
                       after_recovery=back_and_return)
        report("HA galera: node 1 rejoined in %.1f s; the portals were back on it %.1f s after "
               "its restart command" % (rejoined["rejoin"], rejoined.get("back", -1)))
        self.assertIn("back", rejoined, "the portals never returned to node 1")

        # Phase 2: the Redis master stops; Sentinel promotes the replica.
        master = sentinel_master()
        promoted = {}

        def stop_master():
            subprocess.run(["redis-cli", "-p", str(master), "shutdown", "nosave"],
                           capture_output=True, timeout=30)

        def old_master_back():
            promoted["master"] = sentinel_master()
            services("redis-ha-start", str(master))

        self.run_phase("redis (master stops, Sentinel promotes the replica)", stop_master,
                       after_recovery=old_master_back, session_loss=True)
        self.assertNotEqual(promoted["master"], master, "Sentinel promoted no replica")

        # Every change acknowledged to a browser is in the database.
        links = set(node_sql(2, "SELECT u.email, b.account_number FROM %s.links l "
                                "JOIN %s.users u ON u.id = l.user_id JOIN %s.billing_accounts b "
                                "ON b.id = l.billing_account_id" % (self.db, self.db, self.db)))
        lost = sorted(self.acked_links - links)
        self.assertEqual(lost, [], "acknowledged links missing from the database")
        self.assertGreater(len(self.acked_links), 50)
        period = datetime.datetime.now(TZ).strftime("%Y-%m")
        stored = dict(node_sql(3, "SELECT m.serial, r.value FROM %s.readings r JOIN %s.meters m "
                                  "ON m.id = r.meter_id WHERE r.period = '%s'"
                               % (self.db, self.db, period)))
        for n, value in self.acked_readings.items():
            got = int(stored["HA-%d" % n]) // 1000
            self.assertGreaterEqual(got, value, "an acknowledged reading of HA-%d is lost" % n)
            self.assertIn(got, self.sent_readings[n])
        report("HA: %d links and %d meters' readings acknowledged, all in the database"
               % (len(self.acked_links), len(self.acked_readings)))


def account(browser, i):
    return 500000 + browser * 1000 + i


if __name__ == "__main__":
    unittest.main()
