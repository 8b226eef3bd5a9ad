"""Pages that need no backend skip the thread-pool hop (issue 11): nginx answers them on its event
loop (lkk_app_handle_inline), the rest goes to the pool as before.

nginx runs with a thread pool of ONE thread and an Argon2 cost that makes a login take about a
second. Three logins occupy it: one hashing, the others queued behind it (lkk_pool_queue says
so). Meanwhile the start page, the stylesheet, help, consent, the registration form and
/healthz (checked by the pool just before) all answer 200, each before the second login is
answered; had any of them gone to the pool, it would have waited behind both. A logged-in
person's page (a session to look up) does wait for the pool. The metrics count the answers
given on the event loop like the others.

Runs on SQLite and (py_test_inline_mariadb_redis) on MariaDB + Redis. Apache has no thread hop
to skip, so the file is nginx's only. The outage side of /healthz (503 within about 2 s of
MariaDB or Redis going down, 200 again soon after they are back) is in test_production.Outages.
"""

import os
import re
import secrets
import threading
import time
import unittest

import harness
from harness import Browser, PortalTestCase

# About a second per hash on this machine's cores (at most one hash at a time in one thread).
SLOW_ARGON2 = {"argon2_memory_kib": 65536, "argon2_iterations": 12}
METRICS = "location = /lkk-metrics { lkk_metrics; allow 127.0.0.1; deny all; }"
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$")
ROUTE = {"": "start", "healthz": "health", "lkk.css": "static", "help": "static",
         "consent": "static", "register": "register", "login": "login", "accounts": "accounts"}


class SlowLogins:
    """Logins of e-mails nobody has (one dummy Argon2 hash each), posted at once from threads;
    the CSRF tokens are fetched before, so that start() only posts."""

    def __init__(self, portal, n):
        self.browsers = []
        for _ in range(n):
            b = portal.browser()
            self.browsers.append((b, b.get("").csrf()))
        self.answers = [None] * n  # (time answered, status)
        self.threads = []

    def start(self):
        for i, (b, csrf) in enumerate(self.browsers):
            t = threading.Thread(target=self.login, args=(i, b, csrf))
            t.start()
            self.threads.append(t)
            time.sleep(0.02)  # posted in this order
        return self

    def login(self, i, b, csrf):
        r = b.post("login", {"email": "nobody-%s@example.org" % secrets.token_hex(4),
                             "password": "wrong-one1", "csrf": csrf})
        self.answers[i] = (time.time(), r.status)

    def join(self):
        for t in self.threads:
            t.join(120)
        return sorted(self.answers)


class PoolBusy(PortalTestCase):
    portal_kwargs = {"threads": 1, "server_extra": METRICS,
                     "settings": {"passwords": SLOW_ARGON2}}

    @classmethod
    def setUpClass(cls):
        if harness.SERVER == "apache":
            raise unittest.SkipTest("Apache answers on its own threads: no hop to skip")
        super().setUpClass()

    def samples(self):
        r = Browser(self.portal.port).get("/lkk-metrics")
        self.assertEqual(r.status, 200, r.text)
        out = {}
        for line in r.text.splitlines():
            m = SAMPLE.match(line)
            if m:
                out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
        return out

    def wait_queued(self, at_least=1, timeout=20):
        """Until lkk_pool_queue (answered on the event loop) shows requests waiting."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.samples().get("lkk_pool_queue", 0) >= at_least:
                return
            time.sleep(0.02)
        self.fail("the logins never queued up in the pool")

    def test_pages_without_a_backend_answer_while_the_pool_is_busy(self):
        p = self.portal
        logged_in = self.register_confirmed("busy-%s@example.org" % secrets.token_hex(3))
        before = self.samples()
        sent = []  # (route, status) of every portal request from here on, for the metrics

        for attempt in range(3):
            logins = SlowLogins(p, 3)
            sent += [("start", 200)] * 3
            health = Browser(p.port).get(p.base + "/healthz")  # the pool checks: 1 s of memo
            checked = time.time()
            self.assertEqual(health.status, 200, health.text)
            sent.append(("health", 200))
            logins.start()
            self.wait_queued()
            answers = []
            for path in ("healthz", "", "lkk.css", "help", "consent", "register"):
                t0 = time.time()
                r = Browser(p.port).get(p.base + "/" + path)
                answers.append((path, r, t0, time.time()))
                sent.append((ROUTE[path], r.status))
            # The logged-in registry needs its session looked up: it waits for the pool.
            registry = logged_in.get("accounts")
            registry_at = time.time()
            sent.append(("accounts", registry.status))
            done = logins.join()
            sent += [("login", status) for _, status in done]
            self.assertEqual([status for _, status in done], [400] * 3)
            self.assertEqual(registry.status, 200)
            if answers[0][2] - checked >= 0.9:
                continue  # the machine was too slow for the memo's second: try again

            for path, r, t0, at in answers:
                self.assertEqual(r.status, 200, "/%s: %s" % (path, r.text[:300]))
                self.assertLess(at, done[1][0],
                                "/%s waited for the pool (answered %.2f s after it was sent)"
                                % (path, at - t0))
            self.assertEqual(answers[0][1].text, "ok\n")
            self.assertIn('name="csrf"', answers[1][1].text)
            self.assertIn("max-width", answers[2][1].text)
            self.assertGreater(registry_at, done[1][0], "a session's page skipped the pool")
            break
        else:
            self.fail("/healthz never came within 0.9 s of the check in 3 attempts")

        # Every answer is counted once, whichever thread gave it.
        after = self.samples()
        expected = {}
        for route, status in sent:
            key = 'lkk_requests_total{route="%s",status="%d"}' % (route, status)
            expected[key] = expected.get(key, 0) + 1
        for key, n in expected.items():
            self.assertEqual(after.get(key, 0) - before.get(key, 0), n, key)
        total = lambda s: sum(v for k, v in s.items()  # noqa: E731
                              if k.startswith("lkk_requests_total{"))
        self.assertEqual(total(after) - total(before), len(sent))
        self.assertEqual(after["lkk_pool_queue"], 0)


class ModuleDeclaredPool(PortalTestCase):
    """nginx.conf without a thread_pool line: the module declares the pool itself, 2 threads
    per CPU (4 to 32; README "Directives"), and the portal runs on it."""

    portal_kwargs = {"threads": None, "workers": 1}

    def test_the_pool_has_two_threads_per_cpu_and_serves_the_portal(self):
        with open(self.portal.nginx_conf) as f:
            self.assertNotIn("thread_pool", f.read())
        b = self.register_confirmed("pool@example.org", "pool-pass-1")
        r = b.get("accounts")
        self.assertEqual(r.status, 200)
        self.assertIn("<h1>Мои лицевые счета</h1>", r.text)
        self.assertIn('action="/lkk/logout"', r.text)
        expected = min(32, max(4, 2 * os.sysconf("SC_NPROCESSORS_ONLN")))
        (pid,) = self.portal.worker_pids()
        stats = {tid: fields for _, tid, fields in harness.thread_stats([pid])}
        tasks = list(stats)
        hashing = [t for t in tasks if harness.is_hashing_thread(stats[t])]
        # The registration's password hash ran on a hashing thread, under SCHED_IDLE (at most
        # one per CPU are made).
        self.assertGreaterEqual(len(hashing), 1)
        self.assertLessEqual(len(hashing), os.sysconf("SC_NPROCESSORS_ONLN"))
        threads = len(tasks) - len(hashing)
        # The worker's event loop and its pool; SQLite starts no thread of its own.
        if harness.BACKEND == "sqlite":
            self.assertEqual(threads, 1 + expected)
        else:
            self.assertGreaterEqual(threads, 1 + expected)


if __name__ == "__main__":
    unittest.main()
