"""Meter readings, the monthly chore (SPEC 9), through lkk-admin and the real nginx.

Runs on SQLite (py_test_readings) and on MariaDB + Redis (py_test_readings_mariadb_redis,
LKK_IT_BACKEND=mysql), like the flow suite. The main portal's window is the whole month so
the story can be told on any day; ClosedWindow starts a second portal whose window excludes
today.
"""

import datetime
import json
import os
import re
import subprocess
import unittest
import zoneinfo

from harness import NGINX, Portal, PortalTestCase, module_env

TZ = zoneinfo.ZoneInfo("Europe/Simferopol")


def today():
    return datetime.datetime.now(TZ).date()


def month_before(d, months):
    index = d.year * 12 + d.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, 1)


METERS_HEADER = "office;account;meter;last_reading;last_reading_date;name;model;digits;verification_due\n"


class ReadingsStory(PortalTestCase):
    portal_kwargs = {"settings": {"readings": {"window_start_day": 1, "window_end_day": 31,
                                               "max_monthly_m3": 500}}}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        last_month = month_before(today(), 1)
        soon = today() + datetime.timedelta(days=30)
        rows = [
            # a kitchen meter read by the utility last month, поверка due in 30 days
            ("SIM", "100200", "K-1", "1000", last_month.strftime("%d.%m.%Y"), "Кухня",
             "СГМН-1 G6", "5", soon.isoformat()),
            # a boiler meter near the end of its 5-digit dial
            ("SIM", "100200", "B-2", "99950", last_month.isoformat(), "Котёл", "", "", ""),
            ("KRC", "300400", "S-9", "10", last_month.isoformat(), "", "", "", "2020-01-01"),
        ]
        cls.meters_csv = os.path.join(cls.portal.dir, "meters.csv")
        with open(cls.meters_csv, "w", encoding="utf-8") as f:
            f.write(METERS_HEADER)
            for row in rows:
                f.write(";".join(row) + "\n")
        cls.portal.admin("meters", "import", cls.meters_csv)

    def period(self):
        return today().strftime("%Y-%m")

    # ---- lkk-admin -------------------------------------------------------------------------
    def test_admin_meters_import_list_remove_and_export(self):
        p = self.portal
        r = p.admin("--json", "meters", "list", "SIM", "100200")
        meters = {m["meter"]: m for m in json.loads(r.stdout)}
        self.assertEqual(sorted(meters), ["B-2", "K-1"])
        self.assertEqual(meters["K-1"]["name"], "Кухня")
        self.assertEqual(meters["K-1"]["last_reading"], "1000")
        self.assertEqual(meters["K-1"]["last_reading_source"], "utility")
        table = p.admin("meters", "list", "SIM", "100200").stdout
        self.assertIn("K-1", table)
        self.assertIn("СГМН-1 G6", table)

        # All or nothing, with line numbers: one bad line keeps the good one out too.
        bad = os.path.join(p.dir, "meters-bad.csv")
        with open(bad, "w", encoding="utf-8") as f:
            f.write("office,account,meter,last_reading,last_reading_date\n"
                    "SIM,100200,NEW-1,5,2026-01-01\n"
                    "SIM,100200,NEW-2,-5,2026-01-01\n"
                    "SIM,999999,NEW-3,5,2026-01-01\n")
        r = p.admin("meters", "import", bad, check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("line 3: last_reading", r.stderr)
        self.assertIn("line 4: account: no billing account 999999", r.stderr)
        self.assertNotIn("NEW-1", p.admin("meters", "list", "SIM", "100200").stdout)

        # cp1251 and --office, as a Windows export would come.
        win = os.path.join(p.dir, "meters-1251.csv")
        with open(win, "w", encoding="cp1251") as f:
            f.write("account;meter;last_reading;last_reading_date;name\n"
                    "100201;W-1;7;2026-01-05;Счётчик в ванной\n")
        p.admin("meters", "import", win, "--office", "SIM", "--encoding", "cp1251")
        r = p.admin("--json", "meters", "list", "SIM", "100201")
        self.assertEqual(json.loads(r.stdout)[0]["name"], "Счётчик в ванной")
        p.admin("meters", "remove", "SIM", "100201", "W-1")
        self.assertEqual(json.loads(p.admin("--json", "meters", "list", "SIM", "100201").stdout),
                         [])
        r = p.admin("meters", "remove", "SIM", "100201", "W-1", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no meter W-1", r.stderr)
        rows = p.sql("SELECT event FROM audit_log WHERE event IN "
                     "('admin_meters_import', 'admin_meters_remove')")
        self.assertIn(("admin_meters_remove",), rows)

        # The export changes nothing and can be run again; filters by office and period.
        last_month = month_before(today(), 1).strftime("%Y-%m")
        out1 = p.admin("readings", "export", "--period", last_month, "--office", "KRC").stdout
        out2 = p.admin("readings", "export", "--period", last_month, "--office", "KRC").stdout
        self.assertEqual(out1, out2)
        lines = out1.strip().splitlines()
        self.assertEqual(lines[0], "office;account;meter;period;value;submitted_at;source")
        self.assertEqual(len(lines), 2, out1)
        self.assertTrue(lines[1].startswith("KRC;300400;S-9;%s;10;" % last_month), lines[1])
        self.assertTrue(lines[1].endswith(";utility"))
        r = p.admin("readings", "export", "--period", "2026-13", check=False)
        self.assertEqual(r.returncode, 2)

    # ---- the subscriber's month, through nginx ---------------------------------------------
    def reading_rows(self, serial):
        return self.portal.sql(
            "SELECT r.value, r.source FROM readings r JOIN meters m ON m.id = r.meter_id "
            "WHERE m.serial = ? AND r.period = ?", (serial, self.period()))

    def test_monthly_story_through_the_pages(self):
        p = self.portal
        b = self.register_confirmed("monthly@example.org")
        link_id = self.link(b)
        page = "accounts/%d/readings" % link_id

        # The account page lists the meters, the last reading and the поверка flag.
        acc = b.get("accounts/%d" % link_id)
        self.assertEqual(acc.status, 200, acc.text)
        self.assertIn("Счётчик № K-1 — Кухня", acc.text)
        self.assertIn("1000 м³", acc.text)
        self.assertIn("скоро срок поверки", acc.text)
        self.assertNotIn("S-9", acc.text)  # another account's meter
        self.assertIn(page, acc.text)

        r = b.get(page)
        self.assertEqual(r.status, 200, r.text)
        self.assertIn("Показания принимаются", r.text)
        self.assertNotIn("<script", r.text.lower())

        # Below the last reading: a form error next to the field, nothing stored.
        r = b.post(page, {"meter": "K-1", "value": "999", "csrf": r.csrf()})
        self.assertEqual(r.status, 400, r.text)
        self.assertIn("меньше последнего известного (1000 м³, %s)"
                      % month_before(today(), 1).strftime("%d.%m.%Y"), r.text)
        self.assertIn('value="999"', r.text)
        self.assertEqual(self.reading_rows("K-1"), [])
        # Exact parsing: too many decimals is a form error too.
        r = b.post(page, {"meter": "K-1", "value": "1100,5", "csrf": r.csrf()})
        self.assertEqual(r.status, 400, r.text)
        self.assertIn("целые кубометры", r.text)
        # Without the CSRF token: 403, nothing stored.
        r = b.post(page, {"meter": "K-1", "value": "1100"})
        self.assertEqual(r.status, 403)
        self.assertEqual(self.reading_rows("K-1"), [])

        # Success: 303 back, the message names the consumption.
        r = b.form(page, page, {"meter": "K-1", "value": "1 100"})
        self.assertEqual(r.status, 303, r.text)
        self.assertTrue(r.header("location").endswith(page + "?saved=K-1"), r.header("location"))
        shown = b.get(r.header("location"))
        self.assertIn("Показание 1100 м³ принято. Расход за месяц: 100 м³.", shown.text)
        self.assertEqual(self.reading_rows("K-1"), [("1100000", "subscriber")])

        # A second reading this month replaces the first; the audit keeps both.
        r = b.form(page, page, {"meter": "K-1", "value": "1150"})
        self.assertEqual(r.status, 303, r.text)
        self.assertEqual(self.reading_rows("K-1"), [("1150000", "subscriber")])
        audit = [row[0] for row in p.sql(
            "SELECT detail FROM audit_log WHERE event = 'reading' AND detail LIKE ?",
            ("%meter K-1 %",))]
        self.assertEqual(len(audit), 2, audit)
        self.assertTrue(any("value 1100.000" in d for d in audit), audit)
        self.assertTrue(any("value 1150.000" in d and "replaces 1100.000" in d for d in audit))

        # A dial that rolled over asks for a confirmation showing the consumption.
        r = b.form(page, page, {"meter": "B-2", "value": "30"})
        self.assertEqual(r.status, 422, r.text)
        self.assertIn("расход за месяц — 80 м³", r.text)
        self.assertIn("счётчик прошёл через ноль", r.text)
        self.assertIn('name="confirm" value="1"', r.text)
        self.assertEqual(self.reading_rows("B-2"), [])
        r = b.post(page, {"meter": "B-2", "value": "30", "confirm": "1", "csrf": r.csrf()})
        self.assertEqual(r.status, 303, r.text)
        self.assertEqual(self.reading_rows("B-2"), [("30000", "subscriber")])

        # More than max_monthly_m3 is stored only with confirm=1.
        r = b.form(page, page, {"meter": "K-1", "value": "1600"})
        self.assertEqual(r.status, 422, r.text)
        self.assertIn("расход за месяц — 600 м³", r.text)
        self.assertEqual(self.reading_rows("K-1"), [("1150000", "subscriber")])
        r = b.form(page, page, {"meter": "K-1", "value": "1600", "confirm": "1"})
        self.assertEqual(r.status, 303, r.text)
        self.assertEqual(self.reading_rows("K-1"), [("1600000", "subscriber")])

        # The history: a table (the chart's text alternative) and an inline SVG chart.
        h = b.get(page)
        self.assertEqual(h.status, 200)
        self.assertIn("<svg", h.text)
        self.assertIn('role="img"', h.text)
        self.assertIn("<rect", h.text)  # this month's bar: 600 m³ since last month
        self.assertIn("в таблице ниже", h.text)
        self.assertIn('<table class="history">', h.text)
        self.assertIn(today().strftime("%m.%Y"), h.text)
        self.assertIn("газовая служба", h.text)
        self.assertIn("абонент", h.text)
        self.assertNotIn("style=", h.text)  # the CSP allows no inline style
        self.assertIn("default-src 'none'", h.header("content-security-policy"))
        self.assertNotIn("<script", h.text.lower())

        # The export for billing carries the subscriber's reading.
        out = p.admin("readings", "export", "--period", self.period(), "--office", "SIM").stdout
        self.assertIn("SIM;100200;K-1;%s;1600;" % self.period(), out)
        self.assertIn("SIM;100200;B-2;%s;30;" % self.period(), out)
        self.assertRegex(out, r"SIM;100200;K-1;[0-9-]+;1600;[0-9T:-]+Z;subscriber")

        # Another cabinet: the same account id is a 404 everywhere.
        other = self.register_confirmed("stranger@example.org")
        for path in ("accounts/%d" % link_id, page):
            self.assertEqual(other.get(path).status, 404)
        start = other.get("accounts")
        r = other.post(page, {"meter": "K-1", "value": "1700", "csrf": start.csrf()})
        self.assertEqual(r.status, 404)
        self.assertEqual(other.api("GET", "accounts/%d/meters" % link_id).status, 404)
        self.assertEqual(self.reading_rows("K-1"), [("1600000", "subscriber")])

    def test_api_meters_and_readings(self):
        b = self.register_confirmed("api.user@example.org")
        link_id = self.link(b, office="KRC", account="300400", surname="Сидоров",
                            amount="99.99")
        r = b.api("GET", "accounts/%d/meters" % link_id)
        self.assertEqual(r.status, 200, r.text)
        j = r.json()
        self.assertTrue(j["window"]["open"])
        self.assertEqual(j["window"]["period"], self.period())
        self.assertEqual(j["meters"][0]["meter"], "S-9")
        self.assertEqual(j["meters"][0]["last_reading"]["value"], "10")
        self.assertEqual(j["meters"][0]["verification"], "overdue")
        csrf = b.api("GET", "me").json()["csrf"]
        path = "accounts/%d/readings" % link_id
        # Changes need the X-CSRF-Token like every other API change.
        r = b.api("POST", path, {"meter": "S-9", "value": "20"})
        self.assertEqual(r.status, 403, r.text)
        h = {"X-CSRF-Token": csrf}
        r = b.api("POST", path, {"meter": "S-9", "value": "5"}, headers=h)
        self.assertEqual(r.status, 422, r.text)
        self.assertEqual(r.header("content-type").split(";")[0], "application/problem+json")
        self.assertEqual(r.json()["error_codes"]["value"], "reading_below_last")
        r = b.api("POST", path, {"meter": "S-9", "value": "900"}, headers=h)
        self.assertEqual(r.status, 422, r.text)
        self.assertEqual(r.json()["code"], "needs_confirmation")
        self.assertEqual(r.json()["consumption"], "890")
        r = b.api("POST", path, {"meter": "S-9", "value": "900", "confirm": True}, headers=h)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.json()["consumption"], "890")
        self.assertFalse(r.json()["replaced"])
        r = b.api("POST", path, {"meter": "S-9", "value": 905, "confirm": 1}, headers=h)
        self.assertEqual(r.status, 200, r.text)
        self.assertTrue(r.json()["replaced"])
        self.assertEqual(b.api("POST", path, {"meter": "S-9", "value": 9.5}, headers=h).status, 400)
        self.assertEqual(b.api("POST", path, {"meter": "NOPE", "value": "1"}, headers=h).status,
                         404)
        self.assertEqual(self.reading_rows("S-9"), [("905000", "subscriber")])


class ClosedWindow(PortalTestCase):
    """A second portal whose readings window excludes today."""

    day = today().day
    portal_kwargs = {"settings": {"readings": (
        {"window_start_day": 20, "window_end_day": 25} if day <= 14
        else {"window_start_day": 1, "window_end_day": 5})}}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        path = os.path.join(cls.portal.dir, "meters.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write(METERS_HEADER + "SIM;100200;K-1;1000;%s;Кухня;;;\n"
                    % month_before(today(), 1).isoformat())
        cls.portal.admin("meters", "import", path)

    def test_outside_the_window_the_page_says_when_and_post_is_409(self):
        b = self.register_confirmed("late@example.org")
        r = b.form("accounts/link", "accounts/link", {"office": "SIM", "account": "100200",
                                                      "surname": "Иванов", "amount": "1234,50"})
        link_id = int(r.header("location").split("linked=")[1])
        page = "accounts/%d/readings" % link_id
        start = self.portal.settings["readings"]["window_start_day"]
        opens = today().replace(day=start) if today().day < start else \
            month_before(today(), -1).replace(day=start)
        r = b.get(page)
        self.assertEqual(r.status, 200)
        self.assertIn("Приём показаний сейчас закрыт. Он откроется %s" % opens.strftime("%d.%m.%Y"),
                      r.text)
        self.assertNotIn('name="value"', r.text)
        r = b.post(page, {"meter": "K-1", "value": "1100", "csrf": r.csrf()})
        self.assertEqual(r.status, 409, r.text)
        self.assertIn("откроется", r.text)
        csrf = b.api("GET", "me").json()["csrf"]
        r = b.api("POST", "accounts/%d/readings" % link_id, {"meter": "K-1", "value": "1100"},
                  headers={"X-CSRF-Token": csrf})
        self.assertEqual(r.status, 409, r.text)
        self.assertEqual(r.json()["code"], "window_closed")
        self.assertEqual(r.json()["window"]["next_start"], opens.isoformat())
        self.assertEqual(self.portal.sql("SELECT count(*) FROM readings WHERE source = "
                                         "'subscriber'"), [("0",)])


class BadWindowSettings(unittest.TestCase):
    """`nginx -t` refuses a readings window whose start day is after its end day, naming the
    settings file and the line of the value (issue 9 part 2)."""

    def test_nginx_t_names_the_line_of_a_start_day_after_the_end_day(self):
        p = Portal(mail="file")
        try:
            p.write_settings()
            with open(p.settings_path, "a") as f:
                f.write("[readings]\nwindow_end_day = 10\nwindow_start_day = 20\n")
            with open(p.settings_path) as f:
                last = len(f.read().splitlines())
            p.write_nginx_conf()
            r = subprocess.run([NGINX, "-t", "-p", p.dir, "-c", p.nginx_conf],
                               capture_output=True, text=True, env=module_env())
            self.assertNotEqual(r.returncode, 0, r.stderr)
            m = re.search(r"%s:(\d+):\d+: .*window_start_day" % re.escape(p.settings_path),
                          r.stderr)
            self.assertIsNotNone(m, r.stderr)
            self.assertEqual(int(m.group(1)), last)
            self.assertIn("test failed", r.stderr)
        finally:
            p.stop()


if __name__ == "__main__":
    unittest.main()
