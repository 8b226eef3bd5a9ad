"""mod_lkk on Debian's Apache httpd 2.4 (issue 12), beyond the flow suite that runs on Apache too
(LKK_IT_SERVER=apache, see tests/integration/CMakeLists.txt):

- SettingsErrors: `apache2 -t` on a broken settings file fails naming FILE:LINE:COLUMN, and
  Apache refuses to start with it.
- Glue: HEAD, the 16 KiB body limit (declared, chunked), error statuses with the portal's own
  page and its headers, several Set-Cookie headers, a static file beside the portal.
- Delivery: two children, each with its own delivery thread, never send a mail twice.
- LateStart: a child whose portal cannot start answers the 503 page and starts it later.
- ConfExamples: conf-examples/apache2-sqlite.conf passes `apache2 -t`.

Apache's children run as www-data; the harness hands every test directory to www-data.
"""

import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.parse

from harness import (ADMIN, APACHE, APACHE_MODULE, SRC, Portal, PortalTestCase, free_port,
                     module_env, require_servers, wait_no_connections)

EXAMPLES = os.path.join(SRC, "conf-examples")
SESSION_COOKIE = "lkk_session"  # core/src/app_response.cpp, kSessionCookie


def built():
    return os.path.exists(APACHE_MODULE) and os.path.exists(ADMIN)


@unittest.skipUnless(built(), "mod_lkk.so or lkk-admin not built")
class SettingsErrors(unittest.TestCase):

    def test_configtest_names_file_line_and_column(self):
        p = Portal(server="apache", mail="file")
        try:
            p.write_settings()
            with open(p.settings_path, "a") as f:
                f.write("[portal]\n")  # line of the duplicate table header
            with open(p.settings_path) as f:
                lines = f.read().splitlines()
            p.write_apache_conf()
            r = subprocess.run([APACHE, "-t", "-f", p.apache_conf], capture_output=True,
                               text=True, env=module_env())
            self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
            m = re.search(r"invalid lkk settings: %s:(\d+):(\d+): " % re.escape(p.settings_path),
                          r.stderr)
            self.assertIsNotNone(m, r.stderr)
            self.assertEqual(int(m.group(1)), len(lines))
            self.assertGreaterEqual(int(m.group(2)), 1)
            self.assertIn("Syntax error on line", r.stderr)  # Apache names its own line too

            # and Apache does not start with it
            r = subprocess.run([APACHE, "-f", p.apache_conf], capture_output=True, text=True,
                               env=module_env())
            self.assertNotEqual(r.returncode, 0)
            self.assertFalse(os.path.exists(os.path.join(p.dir, "apache2.pid")))
        finally:
            p.stop()

    def test_unknown_key_and_missing_file(self):
        p = Portal(server="apache", mail="file")
        try:
            p.write_settings()
            with open(p.settings_path, "a") as f:
                f.write("[no_such_section]\nno_such_key = 1\n")
            p.write_apache_conf()
            r = subprocess.run([APACHE, "-t", "-f", p.apache_conf], capture_output=True,
                               text=True, env=module_env())
            self.assertNotEqual(r.returncode, 0)
            self.assertRegex(r.stderr, r"invalid lkk settings: %s:\d+:\d+: .*no_such_section"
                             % re.escape(p.settings_path))

            os.unlink(p.settings_path)
            r = subprocess.run([APACHE, "-t", "-f", p.apache_conf], capture_output=True,
                               text=True, env=module_env())
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("invalid lkk settings: %s" % p.settings_path, r.stderr)
        finally:
            p.stop()


@unittest.skipUnless(built(), "mod_lkk.so or lkk-admin not built")
class Glue(PortalTestCase):
    portal_kwargs = {"server": "apache"}

    def test_head_is_get_without_body(self):
        b = self.portal.browser()
        get = b.get("/lkk/")
        head = b.request("HEAD", "/lkk/")
        self.assertEqual(head.status, 200)
        self.assertEqual(head.raw, b"")
        self.assertEqual(head.header("content-length"), str(len(get.raw)))
        self.assertEqual(head.header("content-type"), get.header("content-type"))

    def test_bodies_over_16k_get_the_portals_413_page(self):
        b = self.portal.browser()
        big = b"email=" + b"a" * 20000
        r = b.post("login", big)
        self.assertEqual(r.status, 413)
        self.assertIn("<html", r.text)  # the portal's page, not Apache's
        self.assertNotIn("Apache", r.text)
        # chunked: no declared length, measured while read
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.portal.port, timeout=30)
        conn.putrequest("POST", "/lkk/login")
        conn.putheader("Content-Type", "application/x-www-form-urlencoded")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for _ in range(5):
            conn.send(b"1000\r\n" + b"a" * 0x1000 + b"\r\n")
        conn.send(b"0\r\n\r\n")
        resp = conn.getresponse()
        body = resp.read().decode()
        conn.close()
        self.assertEqual(resp.status, 413)
        self.assertIn("<html", body)
        # a small chunked body is read: the CSRF check answers, not the size limit
        conn = http.client.HTTPConnection("127.0.0.1", self.portal.port, timeout=30)
        conn.request("POST", "/lkk/login", body=iter([b"email=a%40example.org", b"&password=x"]),
                     headers={"Content-Type": "application/x-www-form-urlencoded",
                              "Transfer-Encoding": "chunked"}, encode_chunked=True)
        resp = conn.getresponse()
        resp.read()
        conn.close()
        self.assertEqual(resp.status, 403)

    def test_error_statuses_carry_the_portals_page_and_headers(self):
        b = self.portal.browser()
        r = b.get("/lkk/no-such-page")
        self.assertEqual(r.status, 404)
        self.assertIn("<html", r.text)
        self.assertNotIn("Apache", r.text)
        self.assertEqual(r.header("x-frame-options"), "DENY")
        self.assertEqual(r.header("content-type"), "text/html; charset=utf-8")
        r = b.post("login", {"email": "a@example.org", "password": "x"})  # no CSRF token
        self.assertEqual(r.status, 403)
        self.assertIn("<html", r.text)
        self.assertEqual(r.header("x-content-type-options"), "nosniff")

    def test_several_set_cookie_headers_stay_separate(self):
        # A session cookie naming no live session on a first visit: the portal drops it and
        # sets its CSRF cookie, two Set-Cookie headers that must not be joined into one.
        b = self.portal.browser()
        b.cookies = {SESSION_COOKIE: "no-such-session"}
        r = b.get("/lkk/")
        self.assertEqual(r.status, 200)
        cookies = r.all("set-cookie")
        self.assertEqual(len(cookies), 2, r.headers)
        names = sorted(c.split("=", 1)[0] for c in cookies)
        self.assertEqual(names, sorted([SESSION_COOKIE, "lkk_csrf"]))
        dropped = [c for c in cookies if c.startswith(SESSION_COOKIE + "=")][0]
        self.assertRegex(dropped, r"Max-Age=0")

    def test_several_cookie_headers_are_read_as_one(self):
        # Apache merges repeated Cookie headers with ", "; the glue joins them with "; " as
        # nginx's does, so the session is found beside the host site's own cookies.
        import http.client
        b = self.register_confirmed("two-headers@example.org")
        conn = http.client.HTTPConnection("127.0.0.1", self.portal.port, timeout=30)
        conn.putrequest("GET", "/lkk/accounts")
        conn.putheader("Cookie", "site_a=1; site_b=2")
        conn.putheader("Cookie", "%s=%s" % (SESSION_COOKIE, b.cookies[SESSION_COOKIE]))
        conn.putheader("Cookie", "site_c=3")
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read().decode()
        conn.close()
        self.assertEqual(resp.status, 200, body[:500])

    def test_error_page_keeps_its_cookie(self):
        # error statuses carry the portal's headers too (err_headers_out): a first visit to a
        # missing page gets the CSRF cookie with the 404
        r = self.portal.browser().get("/lkk/no-such-page")
        self.assertEqual(r.status, 404)
        self.assertEqual([c.split("=", 1)[0] for c in r.all("set-cookie")], ["lkk_csrf"])

    def test_static_file_beside_the_portal_and_redirect_of_the_bare_prefix(self):
        b = self.portal.browser()
        r = b.get("/static.txt")
        self.assertEqual((r.status, r.text), (200, "static ok\n"))
        r = b.get("/lkk")
        self.assertEqual(r.status, 301)
        self.assertTrue(r.header("location").endswith("/lkk/"), r.headers)


@unittest.skipUnless(built(), "mod_lkk.so or lkk-admin not built")
class Restarts(unittest.TestCase):
    """A graceful restart (SIGUSR1) with requests in flight, then a full restart (SIGHUP): Apache
    reads its configuration again and loads the module afresh; every request gets its answer,
    the new children start the portal, and nothing is logged above what is expected."""

    def test_graceful_and_full_restart_with_requests_in_flight(self):
        import signal
        import threading
        p = Portal(server="apache", mail="file").start()
        try:
            b = p.browser()
            self.assertEqual(b.get("/lkk/").status, 200)
            before = p.worker_pids()
            answers = []

            def post():
                answers.append(p.browser().post("login", {"email": "a@example.org",
                                                          "password": "x"}).status)

            threads = [threading.Thread(target=post) for _ in range(6)]
            for t in threads:
                t.start()
            os.kill(p.master_pid, signal.SIGUSR1)
            for t in threads:
                t.join(30)
            self.assertEqual(answers, [403] * 6)  # no CSRF token: the portal's answer
            deadline = time.time() + 15
            while time.time() < deadline and (p.worker_pids() == before
                                              or not p.worker_pids()):
                time.sleep(0.1)
            self.assertNotEqual(p.worker_pids(), before, "no new children after SIGUSR1")
            self.assertEqual(p.browser().get("/lkk/").status, 200)

            # A full restart kills the children at once. Apache's event MPM then closes the
            # sockets its workers still hold from the main thread, which races with a worker
            # freeing its connection (close_worker_sockets() against the worker's pool): under
            # ASan one child in about 15 died in apr_os_sock_get() in that race, with no frame
            # of ours on any thread. So the full restart is sent when no connection is open,
            # and the portal is asked again only once the new children are there.
            self.assertTrue(wait_no_connections(p.port), "Apache still holds a connection")
            before = p.worker_pids()
            os.kill(p.master_pid, signal.SIGHUP)
            deadline = time.time() + 15
            now = p.worker_pids()
            while time.time() < deadline and (not now or not set(now).isdisjoint(before)):
                time.sleep(0.1)
                now = p.worker_pids()
            self.assertTrue(now and set(now).isdisjoint(before), "no new children after SIGHUP")
            status = 0
            while time.time() < deadline and status != 200:
                try:
                    status = p.browser().get("/lkk/").status
                except OSError:
                    time.sleep(0.1)
            self.assertEqual(status, 200)
            self.assertEqual(p.problems(), [])
        finally:
            p.stop()


@unittest.skipUnless(built(), "mod_lkk.so or lkk-admin not built")
class Delivery(PortalTestCase):
    """Two children, two delivery threads, one outbox: every mail goes out exactly once."""

    portal_kwargs = {"server": "apache", "workers": 2}

    def test_every_mail_once_with_two_children(self):
        self.assertEqual(len(self.portal.initial_workers), 2)
        addrs = ["twice-%d@example.org" % i for i in range(8)]
        for a in addrs:
            b = self.portal.browser()
            r = b.form("register", "register", {"email": a, "password": "secret12",
                                                "password_confirm": "secret12", "consent": "1"})
            self.assertEqual(r.status, 200, r.text)
        self.portal.sink.wait_for(len(addrs), timeout=60)
        time.sleep(2.5)  # longer than poll_interval: a second delivery would show now
        got = [str(m["To"]) for m in self.portal.sink.messages()]
        for a in addrs:
            self.assertEqual(sum(a in t for t in got), 1, got)
        self.assertEqual(self.portal.sql("SELECT state, count(*) FROM outbox GROUP BY state"),
                         [("sent", str(len(addrs)))])


@unittest.skipUnless(built(), "mod_lkk.so or lkk-admin not built")
class LateStart(unittest.TestCase):
    """The database is not there when the children start: they answer the plain 503 page and
    the delivery thread starts the portal once it is (nginx's glue retries the same way)."""

    def setUp(self):
        require_servers("LKK_TEST_MYSQL_URL", "LKK_TEST_REDIS_URL")

    def test_503_until_the_database_exists_then_the_portal(self):
        p = Portal(server="apache", backend="mysql", mail="file")
        base = urllib.parse.urlparse(os.environ["LKK_TEST_MYSQL_URL"])
        db = "lkk_it_late_%d" % os.getpid()
        p.shared_db = "mysql://%s:%s@%s:%d/%s" % (base.username, base.password, base.hostname,
                                                 base.port, db)
        mysql = ["mariadb", "-h", base.hostname, "-P", str(base.port), "-u", base.username,
                 "-p" + base.password]
        subprocess.run(mysql + ["-e", "DROP DATABASE IF EXISTS %s" % db], check=True)
        try:
            p.start()
            r = p.browser().get("/lkk/")
            self.assertEqual(r.status, 503)
            self.assertIn("временно недоступен", r.text)
            self.assertEqual(r.header("retry-after"), "30")
            self.assertIn("lkk: the portal cannot start", p.error_log())

            subprocess.run(mysql + ["-e", "CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE "
                                    "utf8mb4_unicode_ci" % db], check=True)
            p.admin("migrate")
            deadline = time.time() + 20
            while time.time() < deadline and p.browser().get("/lkk/").status != 200:
                time.sleep(0.2)
            self.assertEqual(p.browser().get("/lkk/").status, 200, p.error_log())
            self.assertIn("lkk: the portal started at attempt", p.error_log())
            self.assertEqual(p.worker_pids(), p.initial_workers)
        finally:
            p.stop()
            subprocess.run(mysql + ["-e", "DROP DATABASE IF EXISTS %s" % db])


@unittest.skipUnless(os.path.exists(APACHE_MODULE), "mod_lkk.so not built")
class ConfExamples(unittest.TestCase):

    def test_complete_sqlite_config_passes_apache2_t(self):
        d = tempfile.mkdtemp(prefix="lkk-conf-")
        try:
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                            "2", "-subj", "/CN=lkk.example.org", "-keyout",
                            os.path.join(d, "key.pem"), "-out", os.path.join(d, "cert.pem")],
                           check=True, capture_output=True)
            with open(os.path.join(EXAMPLES, "apache2-sqlite.conf"), encoding="utf-8") as f:
                conf = f.read()
            for old, new in (("Listen 80\n", "Listen 127.0.0.1:%d\n" % free_port()),
                             ("Listen 443\n", "Listen 127.0.0.1:%d\n" % free_port()),
                             ("/usr/lib/apache2/modules/mod_lkk.so", APACHE_MODULE),
                             ("/etc/apache2/lkk-snippet.conf",
                              os.path.join(EXAMPLES, "apache-lkk-snippet.conf")),
                             ("/etc/lkk/lkk.toml", os.path.join(EXAMPLES, "lkk.toml")),
                             ("/run/apache2", d), ("/var/log/apache2", d),
                             ("/etc/ssl/certs/lkk.example.org.pem", os.path.join(d, "cert.pem")),
                             ("/etc/ssl/private/lkk.example.org.key",
                              os.path.join(d, "key.pem"))):
                self.assertIn(old, conf)
                conf = conf.replace(old, new)
            path = os.path.join(d, "apache2.conf")
            with open(path, "w", encoding="utf-8") as f:
                f.write(conf)
            r = subprocess.run([APACHE, "-t", "-f", path], capture_output=True, text=True,
                               env=module_env())
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("Syntax OK", r.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
