"""Meter readings, the monthly chore (SPEC 9), through lkk-admin and the real nginx.

Runs on SQLite (py_test_readings) and on MariaDB + Redis (py_test_readings_mariadb_redis,
LKK_IT_BACKEND=mysql), like the flow suite. The main portal's window is the whole month so
the story can be told on any day; ClosedWindow starts a second portal whose window excludes
today.
"""

import datetime
import json
import os
import unittest
import zoneinfo

from harness import Portal, PortalTestCase

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


if __name__ == "__main__":
    unittest.main()
