"""Prometheus metrics (SPEC 13, issue 13) through the real server.

nginx with `worker_processes 2` (or Apache, LKK_IT_SERVER=apache, whose children count into the
same APR shared memory; py_test_metrics_apache runs mpm_prefork): after a scripted flow
(registrations, good and bad logins, a login lock, links, a reading) the counts are exact,
summed over every worker, whichever worker answers the scrape. `promtool check metrics`
(Debian's prometheus package) accepts the output, and the location refuses clients outside
its `allow`. A second portal with one worker and an SMTP server that does not answer shows
the outbox gauges growing and the counts surviving `nginx -s reload` (the shared zone is
reused).
"""

import datetime
import os
import re
import shutil
import signal
import subprocess
import time
import unittest
import urllib.parse
import zoneinfo

import harness
from harness import Browser, Portal, PortalTestCase, mail_link

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$")


def server_extra(server, portal_dir):
    """The metrics locations: the documented one (127.0.0.1 only) and one for a monitoring
    host this test is not (10.0.0.1). nginx names the worker of every answer in X-Worker;
    Apache writes the child's pid to pids.log."""
    if server == "apache":
        return """
LoadModule authz_host_module {mods}/mod_authz_host.so
CustomLog {d}/pids.log "%P %U"
<Location /lkk-metrics>
    SetHandler lkk-metrics
    Require ip 127.0.0.1
</Location>
<Location /lkk-metrics-office>
    SetHandler lkk-metrics
    Require ip 10.0.0.1
</Location>
""".format(mods=harness.APACHE_MODULES, d=portal_dir)
    return """
        add_header X-Worker $pid always;
        location = /lkk-metrics { lkk_metrics; allow 127.0.0.1; deny all; }
        location = /lkk-metrics-office { lkk_metrics; allow 10.0.0.1; deny all; }
"""


def parse(text):
    """{'name{labels}': value} of every sample; fails on a line that is not a sample,
    a comment or empty."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise AssertionError("not a sample line: %r" % line)
        out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def total(samples, name):
    return sum(v for k, v in samples.items() if k == name or k.startswith(name + "{"))


class CountingBrowser(Browser):
    """A Browser that counts every request the portal answered, by status."""

    answered = []  # (path, status) of every portal request, shared by all browsers of a test

    def request(self, method, path, body=None, headers=None, raw_body=False):
        r = super().request(method, path, body=body, headers=headers, raw_body=raw_body)
        full = path if path.startswith("/") else self.base + "/" + path
        if full.startswith(self.base + "/"):
            CountingBrowser.answered.append((full, r.status))
        return r


class MetricsTestCase(PortalTestCase):

    @classmethod
    def setUpClass(cls):
        server = cls.portal_kwargs.get("server") or harness.SERVER
        if not os.path.exists(PROMTOOL):
            raise AssertionError("promtool is missing: apt-get install prometheus")
        # The harness builds the config when the portal starts: the directory is known
        # before, so the extra directives can name it.
        original = Portal.start

        def start(portal):
            portal.server_extra = server_extra(server, portal.dir)
            return original(portal)

        Portal.start = start
        try:
            super().setUpClass()
        finally:
            Portal.start = original
        CountingBrowser.answered = []

    def browser(self):
        return CountingBrowser(self.portal.port, self.portal.base)

    def scrape(self, path="/lkk-metrics"):
        r = Browser(self.portal.port).get(path)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8")
        return r

    def samples(self):
        return parse(self.scrape().text)

    def wait_for(self, name, value, timeout=20):
        """Scrapes until the sample has the value (the timer and delivery run every second)."""
        deadline = time.time() + timeout
        while True:
            s = self.samples()
            if s.get(name) == value:
                return s
            if time.time() > deadline:
                self.fail("%s is %r, expected %r" % (name, s.get(name), value))
            time.sleep(0.2)

    def promtool(self, text):
        r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, "promtool: %s %s\n%s" % (r.stdout, r.stderr, text))
        self.assertEqual((r.stdout + r.stderr).strip(), "", text)

    def register(self, email, password="secret12"):
        b = self.browser()
        r = b.form("register", "register", {"email": email, "password": password,
                                            "password_confirm": password, "consent": "1"})
        self.assertEqual(r.status, 200, r.text)
        return b

    def confirm(self, b, email):
        link = mail_link(self.portal.sink.wait_for(1, to=email)[-1], "/confirm?token=")
        u = urllib.parse.urlparse(link)
        self.assertEqual(b.get(u.path + "?" + u.query).status, 200)

    def login(self, b, email, password, status):
        r = b.form("", "login", {"email": email, "password": password})
        self.assertEqual(r.status, status, r.text)
        return r


class FlowCounts(MetricsTestCase):
    portal_kwargs = {"workers": 2, "settings": {
        "throttle": {"login_failures_per_email": 3},
        "readings": {"window_start_day": 1, "window_end_day": 31, "max_monthly_m3": 500}}}

    def load_meter(self):
        last_month = (datetime.datetime.now(zoneinfo.ZoneInfo("Europe/Simferopol")).date()
                      .replace(day=1) - datetime.timedelta(days=1))
        path = os.path.join(self.portal.dir, "meters.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("office;account;meter;last_reading;last_reading_date\n"
                    "SIM;100200;K-1;1000;%s\n" % last_month.isoformat())
        self.portal.admin("meters", "import", path)

    def workers_of(self, prefix):
        """The distinct worker (child) pids that answered requests whose path starts with
        prefix, from the X-Worker headers (nginx) or pids.log (Apache)."""
        if self.portal.server == "apache":
            with open(os.path.join(self.portal.dir, "pids.log")) as f:
                return {line.split()[0] for line in f if line.split()[1].startswith(prefix)}
        return self.pids.get(prefix, set())

    def get_noting_worker(self, path, prefix):
        r = Browser(self.portal.port).get(path)
        if r.header("x-worker"):
            self.pids.setdefault(prefix, set()).add(r.header("x-worker"))
        return r

    def test_counts_after_a_flow_are_exact_over_every_worker(self):
        p = self.portal
        self.pids = {}
        self.load_meter()
        before = self.samples()
        self.promtool(self.scrape().text)
        self.assertEqual(total(before, "lkk_requests_total"), 0)
        self.assertEqual(before["lkk_registrations_total"], 0)

        # Three new cabinets; two are confirmed, one stays pending.
        alice = self.register("alice@example.org")
        bob = self.register("bob@example.org")
        carol = self.register("carol@example.org")
        self.confirm(alice, "alice@example.org")
        self.confirm(bob, "bob@example.org")

        self.login(alice, "alice@example.org", "secret12", 303)
        self.login(bob, "bob@example.org", "secret12", 303)
        stranger = self.browser()
        self.login(stranger, "alice@example.org", "wrong-pw1", 400)
        self.login(stranger, "alice@example.org", "wrong-pw2", 400)
        self.login(carol, "carol@example.org", "secret12", 403)  # not confirmed
        # An e-mail nobody has: three failures lock it, the fourth attempt is throttled.
        for _ in range(3):
            self.login(stranger, "mallory@example.org", "guess-123", 400)
        self.login(stranger, "mallory@example.org", "guess-123", 429)

        # Links: one mismatch, one success; then a reading.
        page = alice.get("accounts/link")
        r = alice.post("accounts/link", {"office": "SIM", "account": "100200",
                                         "surname": "Петров", "amount": "1234,50",
                                         "csrf": page.csrf()})
        self.assertEqual(r.status, 422, r.text)
        r = alice.post("accounts/link", {"office": "SIM", "account": "100200",
                                         "surname": "Иванов", "amount": "1234,50",
                                         "csrf": r.csrf()})
        self.assertEqual(r.status, 303, r.text)
        link_id = int(r.header("location").split("linked=")[1])
        readings = "accounts/%d/readings" % link_id
        r = alice.form(readings, readings, {"meter": "K-1", "value": "1100"})
        self.assertEqual(r.status, 303, r.text)
        self.assertEqual(alice.get("accounts").status, 200)

        # Both workers take part: spread harmless requests until each served some (every
        # one is counted like the rest).
        for _ in range(200):
            r = self.get_noting_worker(p.base + "/healthz", p.base + "/")
            CountingBrowser.answered.append((p.base + "/healthz", r.status))
            if p.server == "apache" or len(self.workers_of(p.base + "/")) >= 2:
                break
        if p.server != "apache":
            self.assertGreaterEqual(len(self.workers_of(p.base + "/")), 2,
                                    "one nginx worker answered everything")

        # The three confirmation mails went out; the counter follows the delivery.
        p.sink.wait_for(3)
        self.wait_for('lkk_mail_sent_total{result="sent"}', 3)
        self.wait_for("lkk_outbox_pending", 0)

        answered = len(CountingBrowser.answered)
        by = lambda route_prefix, status: sum(  # noqa: E731
            1 for path, st in CountingBrowser.answered
            if path.startswith(p.base + route_prefix) and st == status)
        expected = {
            "lkk_registrations_total": 3,
            'lkk_logins_total{result="success"}': 2,
            'lkk_logins_total{result="failure"}': 5,
            'lkk_logins_total{result="not_confirmed"}': 1,
            'lkk_logins_total{result="throttled"}': 1,
            'lkk_logins_total{result="invalid"}': 0,
            'lkk_logins_total{result="error"}': 0,
            'lkk_throttled_total{kind="login_email"}': 1,
            'lkk_throttled_total{kind="login_ip"}': 0,
            'lkk_links_total{result="success"}': 1,
            'lkk_links_total{result="mismatch"}': 1,
            "lkk_readings_total": 1,
            'lkk_mail_sent_total{result="sent"}': 3,
            'lkk_mail_sent_total{result="failed"}': 0,
            "lkk_outbox_pending": 0,
            "lkk_outbox_oldest_age_seconds": 0,
            'lkk_backend_up{backend="storage"}': 1,
            'lkk_backend_up{backend="sessions"}': 1,
            "lkk_pool_queue": 0,
            'lkk_requests_total{route="register",status="200"}': 6,
            'lkk_requests_total{route="confirm",status="200"}': 2,
            'lkk_requests_total{route="login",status="303"}': 2,
            'lkk_requests_total{route="login",status="400"}': 5,
            'lkk_requests_total{route="login",status="403"}': 1,
            'lkk_requests_total{route="login",status="429"}': 1,
            'lkk_requests_total{route="link",status="422"}': 1,
            'lkk_requests_total{route="link",status="303"}': 1,
            'lkk_requests_total{route="readings",status="303"}': 1,
            'lkk_requests_total{route="health",status="200"}': by("/healthz", 200),
            'lkk_request_duration_seconds_count{route="login"}': 9,
        }

        # Any worker may answer a scrape: every answer is the same exact sum. Scrape until
        # at least two workers (children) have answered one.
        seen = 0
        for _ in range(60):
            r = self.get_noting_worker("/lkk-metrics", "/lkk-metrics")
            self.assertEqual(r.status, 200)
            s = parse(r.text)
            for name, value in expected.items():
                self.assertEqual(s.get(name), value, name)
            self.assertEqual(total(s, "lkk_requests_total"), answered)
            self.assertEqual(total(s, "lkk_request_duration_seconds_count"), answered)
            seen += 1
            if seen >= 5 and len(self.workers_of("/lkk-metrics")) >= 2:
                break
        self.assertGreaterEqual(len(self.workers_of("/lkk-metrics")), 2,
                                "every scrape was answered by the same worker")
        self.promtool(r.text)

        # Buckets are cumulative and end in the count.
        buckets = [v for k, v in s.items()
                   if k.startswith('lkk_request_duration_seconds_bucket{route="login"')]
        self.assertEqual(buckets, sorted(buckets))
        self.assertEqual(buckets[-1], 9)
        self.assertGreater(s['lkk_request_duration_seconds_sum{route="login"}'], 0)

    def test_the_location_refuses_clients_outside_allow_and_other_methods(self):
        # The documented location from another address than 127.0.0.1.
        r = Browser(self.portal.port, source="127.0.0.2").get("/lkk-metrics")
        self.assertEqual(r.status, 403)
        self.assertNotIn("lkk_requests_total", r.text)
        # A location that allows only the monitoring host.
        r = Browser(self.portal.port).get("/lkk-metrics-office")
        self.assertEqual(r.status, 403)
        self.assertNotIn("lkk_requests_total", r.text)
        # Read-only.
        r = Browser(self.portal.port).post("/lkk-metrics", {"a": "1"})
        self.assertEqual(r.status, 405)
        self.assertEqual(self.scrape().status, 200)


class OutboxAndReload(MetricsTestCase):
    """One worker; mail to a port where nobody listens, so the outbox only grows."""

    @classmethod
    def setUpClass(cls):
        cls.portal_kwargs = {"workers": 1,
                             "settings": {"mail": {"url": "smtp://127.0.0.1:%d"
                                                   % harness.free_port()}}}
        super().setUpClass()

    def test_outbox_gauges_grow_and_counts_survive_a_reload(self):
        p = self.portal
        self.register("dave@example.org")
        self.register("erin@example.org")
        s = self.wait_for("lkk_outbox_pending", 2)
        # The gauge may show both mails before the delivery's first attempt has failed (its
        # poll comes every second; under ASan that once took longer than the gauge's timer).
        deadline = time.time() + 20
        while s.get('lkk_mail_sent_total{result="failed"}', 0) < 1 and time.time() < deadline:
            time.sleep(0.2)
            s = self.samples()
        self.assertGreaterEqual(s['lkk_mail_sent_total{result="failed"}'], 1)
        self.assertEqual(s['lkk_mail_sent_total{result="sent"}'], 0)
        time.sleep(2.2)
        s = self.samples()
        self.assertGreaterEqual(s["lkk_outbox_oldest_age_seconds"], 2)
        self.promtool(self.scrape().text)

        if p.server == "apache":
            # Apache's graceful restart: the children go, the process pool keeps the block.
            os.kill(p.master_pid, signal.SIGUSR1)
        else:
            os.kill(p.master_pid, signal.SIGHUP)
        old = set(p.initial_workers)
        deadline = time.time() + 20
        while time.time() < deadline:
            now = set(p.worker_pids())
            if now and not (now & old):
                break
            time.sleep(0.1)
        self.assertFalse(set(p.worker_pids()) & old, "the old workers are still there")
        p.initial_workers = p.worker_pids()

        after = self.samples()
        self.assertEqual(after["lkk_registrations_total"], 2)
        self.assertEqual(total(after, "lkk_requests_total"), total(s, "lkk_requests_total"))
        self.assertEqual(self.browser().get("help").status, 200)
        after = self.samples()
        self.assertEqual(after['lkk_requests_total{route="static",status="200"}'], 1)
        self.assertEqual(after["lkk_outbox_pending"], 2)
        self.assertEqual(total(after, "lkk_requests_total"), total(s, "lkk_requests_total") + 1)


if __name__ == "__main__":
    unittest.main()
