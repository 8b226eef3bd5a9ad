"""Notifications (SPEC 11) through the real nginx: the settings page, the readings reminder
with two hosts sharing one database, and the RFC 8058 one-click unsubscribe.

Runs on SQLite (py_test_notifications: both hosts open the same file) and on MariaDB + Redis
(py_test_notifications_mariadb_redis, LKK_IT_BACKEND=mysql). The readings window is the whole
month, so the reminder is due whatever day the suite runs; each host has two workers, so
four outbox timers race for every reminder.
"""

import datetime
import os
import re
import secrets
import time
import urllib.parse
import zoneinfo

from harness import TwoHostsTestCase, mail_text

SETTINGS = {"readings": {"window_start_day": 1, "window_end_day": 31, "remind_interval": "1s"}}
REMINDER_SUBJECT = "Пора передать показания счётчика"
LINK = re.compile(r"^<(http://127\.0\.0\.1:(\d+)/lkk/unsubscribe\?t=([A-Za-z0-9_-]{43}))>$")


class Notifications(TwoHostsTestCase):
    # Host B: its own nginx (two workers, its own timers) on A's database and sessions.
    portal_kwargs = {"settings": SETTINGS, "workers": 2}
    second_host_kwargs = portal_kwargs

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        a = cls.portal
        meters = os.path.join(a.dir, "meters.csv")
        with open(meters, "w", encoding="utf-8") as f:
            f.write("office;account;meter;last_reading;last_reading_date\n"
                    "SIM;100200;K-1;1000;2026-01-10\n")
        a.admin("meters", "import", meters)

    # ---- helpers ---------------------------------------------------------------------------
    def addr(self, who):
        return "%s-%s@example.org" % (who, secrets.token_hex(3))

    def reminders(self, addr):
        return [m for m in self.portal.sink.messages()
                if addr in str(m["To"]) and str(m["Subject"]) == REMINDER_SUBJECT]

    def wait_reminder(self, addr, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.reminders(addr)
            if got:
                return got
            time.sleep(0.1)
        self.fail("no reminder reached the sink for %s" % addr)

    def choose(self, b, **choices):
        page = b.get("settings")
        self.assertEqual(page.status, 200, page.text)
        fields = {k: "1" for k, on in choices.items() if on}
        fields["csrf"] = page.csrf()
        return b.post("settings", fields)

    def preference(self, addr, kind="readings"):
        rows = self.portal.sql(
            "SELECT p.enabled FROM notification_preferences p JOIN users u ON u.id = p.user_id "
            "WHERE u.email = ? AND p.kind = ?", (addr, kind))
        return rows[0][0] if rows else None

    @staticmethod
    def checked(page, name):
        m = re.search(r'<input id="%s"[^>]*>' % name, page.text)
        if not m:
            raise AssertionError("no %s checkbox:\n%s" % (name, page.text[:3000]))
        return " checked" in m.group(0)

    # ---- the settings page -----------------------------------------------------------------
    def test_settings_page_saves_and_shows_the_choices(self):
        anon = self.portal.browser()
        r = anon.get("settings")
        self.assertEqual(r.status, 303)
        self.assertEqual(r.header("location"), "/lkk/")

        addr = self.addr("settings")
        b = self.register_confirmed(addr)
        accounts = b.get("accounts")
        self.assertIn('href="/lkk/settings"', accounts.text)  # in the cabinet's menu
        page = b.get("settings")
        self.assertEqual(page.status, 200, page.text)
        self.assertIn("<h1>Уведомления</h1>", page.text)
        self.assertFalse(self.checked(page, "remind_readings"))  # off by default
        self.assertFalse(self.checked(page, "bill_by_email"))

        # CSRF like every other form: nothing changes without the session's token.
        r = b.post("settings", {"remind_readings": "1", "csrf": "x" * 43})
        self.assertEqual(r.status, 403)
        self.assertIsNone(self.preference(addr))

        r = self.choose(b, remind_readings=True)
        self.assertEqual(r.status, 303, r.text)
        self.assertEqual(r.header("location"), "/lkk/settings?saved=1")
        page = b.get("settings?saved=1")
        self.assertIn("Настройки уведомлений сохранены", page.text)
        self.assertTrue(self.checked(page, "remind_readings"))
        self.assertFalse(self.checked(page, "bill_by_email"))
        self.assertEqual(self.preference(addr), "1")
        self.assertEqual(self.preference(addr, "bill"), "0")

        r = self.choose(b, bill_by_email=True)
        self.assertEqual(r.status, 303)
        page = b.get("settings")
        self.assertFalse(self.checked(page, "remind_readings"))
        self.assertTrue(self.checked(page, "bill_by_email"))
        self.assertEqual(self.preference(addr), "0")
        # The other host shows the same choices (one database).
        other = self.b.browser()
        other.cookies = dict(b.cookies)
        self.assertTrue(self.checked(other.get("settings"), "bill_by_email"))

    # ---- the reminder, once with two hosts, and the one-click unsubscribe -------------------
    def test_reminder_once_with_two_hosts_then_one_click_unsubscribe(self):
        p = self.portal
        addr = self.addr("remind")
        b = self.register_confirmed(addr)
        self.link(b)
        no_meter = self.addr("nometer")
        c = self.register_confirmed(no_meter)
        self.link(c, account="100201", surname="Ёлкина", amount="0")
        self.assertEqual(self.choose(c, remind_readings=True).status, 303)
        self.assertEqual(self.choose(b, remind_readings=True).status, 303)

        msg = self.wait_reminder(addr)[0]
        # Four timers on two hosts go on looking every second: still one mail.
        time.sleep(4)
        self.assertEqual(len(self.reminders(addr)), 1)
        self.assertEqual(self.reminders(no_meter), [])  # no meter behind the link
        rows = p.sql("SELECT s.kind, s.item_key, s.period FROM sent_notifications s "
                     "JOIN users u ON u.id = s.user_id WHERE u.email = ?", (addr,))
        period = datetime.datetime.now(zoneinfo.ZoneInfo("Europe/Simferopol")).strftime("%Y-%m")
        self.assertEqual(rows, [("readings", "", period)])
        text = mail_text(msg)
        self.assertIn("Открыт приём показаний счётчиков", text)
        self.assertIn("/lkk/accounts", text)

        # RFC 8058: the link in List-Unsubscribe (also in the text) and the One-Click field.
        m = LINK.match(str(msg["List-Unsubscribe"]))
        self.assertIsNotNone(m, msg["List-Unsubscribe"])
        url, port, token = m.group(1), int(m.group(2)), m.group(3)
        self.assertIn(port, (p.port, self.b.port))
        self.assertEqual(str(msg["List-Unsubscribe-Post"]), "List-Unsubscribe=One-Click")
        self.assertIn(url, text)
        path = urllib.parse.urlparse(url).path + "?t=" + token

        # A GET (a mail scanner, a link preview) only shows the button.
        anon = p.browser()
        r = anon.get(path)
        self.assertEqual(r.status, 200, r.text)
        self.assertIn("Отписаться", r.text)
        self.assertIn('action="/lkk/unsubscribe"', r.text)
        self.assertIn('value="%s"' % token, r.text)
        self.assertEqual(self.preference(addr), "1")

        # The one-click POST of a mail client: no cookies, no CSRF token, on either host.
        client = self.b.browser()
        r = client.post(path, "List-Unsubscribe=One-Click")
        self.assertEqual(r.status, 200, r.text)
        self.assertIn("Вы отписались", r.text)
        self.assertEqual(self.preference(addr), "0")
        self.assertFalse(self.checked(b.get("settings"), "remind_readings"))
        audit = p.sql("SELECT a.event, a.detail FROM audit_log a JOIN users u ON u.id = a.user_id "
                      "WHERE u.email = ? AND a.event = 'unsubscribe'", (addr,))
        self.assertEqual(audit, [("unsubscribe", "remind_readings")])
        # Again, as multipart/form-data (RFC 8058's SHOULD): still fine, still off.
        boundary = "lkk" + secrets.token_hex(8)
        body = ("--%s\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n"
                "One-Click\r\n--%s--\r\n" % (boundary, boundary)).encode()
        r = client.request("POST", path, body=body, headers={
            "Content-Type": "multipart/form-data; boundary=" + boundary})
        self.assertEqual(r.status, 200, r.text)
        # The page's own button posts the token as a field.
        r = anon.post("unsubscribe", {"t": token})
        self.assertEqual(r.status, 200, r.text)

        # Next month (the record of this one removed): no reminder for an unsubscribed cabinet,
        # while a cabinet that still wants it gets its mail again.
        still = self.addr("still")
        d = self.register_confirmed(still)
        self.link(d)
        self.assertEqual(self.choose(d, remind_readings=True).status, 303)
        self.wait_reminder(still)
        p.sql("DELETE FROM sent_notifications")
        deadline = time.time() + 30
        while time.time() < deadline and len(self.reminders(still)) < 2:
            time.sleep(0.1)
        self.assertEqual(len(self.reminders(still)), 2)
        time.sleep(2)
        self.assertEqual(len(self.reminders(addr)), 1)

    def test_bad_unsubscribe_tokens_are_4xx_and_change_nothing(self):
        addr = self.addr("badtoken")
        b = self.register_confirmed(addr)
        self.assertEqual(self.choose(b, remind_readings=True).status, 303)
        anon = self.portal.browser()
        for method in ("GET", "POST"):
            for query, status in (("", 400), ("?t=short", 400), ("?t=" + "!" * 43, 400),
                                  ("?t=" + secrets.token_urlsafe(32)[:43], 404)):
                if method == "GET":
                    r = anon.get("unsubscribe" + query)
                else:
                    r = anon.post("unsubscribe" + query, "List-Unsubscribe=One-Click")
                self.assertEqual(r.status, status, "%s %s: %s" % (method, query, r.text[:300]))
                self.assertIn("Ссылка недействительна", r.text)
                self.assertNotIn("Отписаться</button>", r.text)
        self.assertEqual(self.preference(addr), "1")
        self.assertTrue(self.checked(b.get("settings"), "remind_readings"))
