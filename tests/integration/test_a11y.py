"""Accessibility of the subscriber's pages in a real browser (issue 9 part 3, SPEC 9 and 10):
axe-core's WCAG 2.1 A/AA rules, the Content-Security-Policy enforced, no sideways scroll at
360 px, and the readings form reached and sent with the keyboard alone.

The real nginx serves the demo data (demo/demo.sh: offices, billing, statements, payments,
meters); Debian's headless Chromium, driven by playwright-core (tests/a11y/check.mjs, installed
by scripts/install-deps.sh with `npm ci`), loads each page at 360 and 1280 px wide. The
screenshots are left in the portal's directory (a11y/PAGE-WIDTH.png) for a person to look at.
"""

import json
import os
import shutil
import subprocess
import unittest

from harness import ADMIN, SRC, PortalTestCase, servers_required

A11Y = os.path.join(SRC, "tests", "a11y")
CHROMIUM = os.environ.get("LKK_CHROMIUM", "/usr/bin/chromium")
WIDTHS = [360, 1280]


def browser_missing():
    if not os.path.exists(CHROMIUM):
        return CHROMIUM + " is not installed (apt-get install chromium)"
    if not shutil.which("node"):
        return "node is not installed"
    if not os.path.isdir(os.path.join(A11Y, "node_modules", "axe-core")):
        return "tests/a11y has no node_modules (npm ci --prefix tests/a11y)"
    return None


class Accessibility(PortalTestCase):
    portal_kwargs = {"settings": {"readings": {"window_start_day": 1, "window_end_day": 31}}}

    @classmethod
    def setUpClass(cls):
        missing = browser_missing()
        if missing:
            if servers_required():
                raise AssertionError(missing + "; required here (CI or scripts/test.sh)")
            raise unittest.SkipTest(missing)
        super().setUpClass()
        subprocess.run(["bash", os.path.join(SRC, "demo", "demo.sh"), cls.portal.settings_path,
                        ADMIN], check=True, capture_output=True, env=cls.portal.env())
        cls.portal.give_to_apache_user()

    def check(self, browser, pages):
        job = {"base": "http://127.0.0.1:%d" % self.portal.port,
               "cookies": [{"name": k, "value": v} for k, v in browser.cookies.items()],
               "outdir": os.path.join(self.portal.dir, "a11y"), "widths": WIDTHS,
               "pages": pages}
        r = subprocess.run(["node", os.path.join(A11Y, "check.mjs")], input=json.dumps(job),
                           capture_output=True, text=True, timeout=300, cwd=A11Y)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def assert_clean(self, results, expected_pages):
        seen = sorted({(x["page"], x["width"]) for x in results})
        self.assertEqual(seen, sorted((p, w) for p in expected_pages for w in WIDTHS))
        problems = []
        for x in results:
            where = "%s at %d px" % (x["page"], x["width"])
            problems += ["%s: axe %s (%s) on %s" % (where, v["id"], v["impact"], v["nodes"])
                         for v in x["violations"]]
            problems += ["%s: CSP blocked %s" % (where, c) for c in x["csp"]]
            if x["overflow"]:
                problems.append(where + " scrolls sideways")
            if os.path.getsize(x["screenshot"]) < 1000:
                problems.append(where + ": empty screenshot")
        self.assertEqual(problems, [])

    def readings_of(self, serial):
        return self.portal.sql("SELECT r.period, r.value, r.source FROM readings r "
                               "JOIN meters m ON m.id = r.meter_id "
                               "WHERE m.serial = ? ORDER BY r.period", (serial,))

    def test_subscriber_pages_pass_axe_csp_and_360px(self):
        b = self.register_confirmed("a11y@example.org")
        link = self.link(b)
        acc = b.get("accounts/%d" % link)
        # The demo's data is on the page being checked: the meters and the money history.
        self.assertIn("K-100200", acc.text)
        self.assertIn("<svg", acc.text)

        pages = [
            {"name": "start", "path": "/lkk/", "anonymous": True},
            {"name": "register", "path": "/lkk/register", "anonymous": True},
            {"name": "registry", "path": "/lkk/accounts"},
            {"name": "account", "path": "/lkk/accounts/%d" % link},
            {"name": "settings", "path": "/lkk/settings"},
            # A reading below the last one comes back as a form error: checked too.
            {"name": "readings", "path": "/lkk/accounts/%d/readings" % link,
             "submit": {"value": "1"}},
        ]
        before = self.readings_of("B-100200")
        results = self.check(b, pages)
        self.assert_clean(results, [p["name"] for p in pages] + ["readings-submitted"])
        # The refused reading is a form error (400), checked like the pages themselves.
        self.assertEqual({(x["page"], x["status"]) for x in results},
                         {(p["name"], 200) for p in pages} | {("readings-submitted", 400)})
        # Nothing was saved by the refused reading.
        self.assertEqual(self.readings_of("B-100200"), before)

    def test_readings_form_works_with_the_keyboard_alone(self):
        b = self.register_confirmed("keys@example.org")
        link = self.link(b)
        results = self.check(b, [{"name": "readings-keys",
                                  "path": "/lkk/accounts/%d/readings" % link,
                                  "keyboard": {"type": "8880"}}])
        self.assert_clean(results, ["readings-keys"])
        reached = results[0]["keyboard"]
        names = [(e["tag"], e["name"]) for e in reached]
        # Both meters' value fields and their submit buttons are reached by Tab, in page order,
        # and every element that takes the focus shows it.
        self.assertEqual([n for n in names if n == ("input", "value")], [("input", "value")] * 2)
        buttons = [e for e in reached if e["text"] == "Передать показание"]
        self.assertEqual(len(buttons), 2, reached)
        first_field = names.index(("input", "value"))
        self.assertEqual(reached[first_field + 1]["tag"], "button", reached)
        self.assertEqual([e for e in reached if not e["visible"]], [])
        # Typed into the first meter's field (the boiler's, B-100200, last read at 8871) and
        # sent with Enter: the reading is saved and the page says so.
        sent = results[0]["sent"]
        self.assertEqual(sent["status"], 200, sent)
        self.assertIn("Показание 8880 м³ принято", sent["notice"])
        self.assertIn(("8880000", "subscriber"), [row[1:] for row in self.readings_of("B-100200")])


if __name__ == "__main__":
    unittest.main()
