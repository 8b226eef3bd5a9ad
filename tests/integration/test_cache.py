"""The read cache (issue 11, README "Read cache") on two hosts: a change made through host A or
lkk-admin is seen by the very next request on host B, whose workers have the registry cached.

Host B is its own nginx (two workers of two pool threads) on A's database and sessions: the
same SQLite file (sessions in it, the embedded default), or MariaDB + Redis. The same
subscriber's cookie is used on both hosts. Before each change, B's registry (or account page:
its statements, payments and meters are kept too) is read often enough that every pool thread
of B has it cached; after it, every one of a dozen reads on B must show the change. On MariaDB
the tests run once more with the sessions in MariaDB too (sessions.url = "storage", no Redis).

A change written straight into the database, behind lkk's back, is the one thing the cache does
not hear of: host B keeps showing the old data until cache_max_age (4 s here) is over, which
shows the cache is really in use.
"""
import os
import time
import unittest

from harness import BACKEND, TwoHostsTestCase, this_year

SETTINGS = {"sessions": {"cache_max_age": "4s"}}
WARM = 24  # reads on B before a change: more than its 4 pool threads ever need
AFTER = 12  # reads on B after it, each of which must show the change


class CacheAcrossHosts(TwoHostsTestCase):
    portal_kwargs = {"settings": SETTINGS, "workers": 2, "threads": 2}

    second_host_kwargs = {"settings": SETTINGS, "workers": 2, "threads": 2}

    # ---- helpers ---------------------------------------------------------------------------
    def subscriber(self, email):
        """A logged-in browser on A and one with the same cookies on B."""
        on_a = self.register_confirmed(email)
        on_b = self.b.browser()
        on_b.cookies = dict(on_a.cookies)
        return on_a, on_b

    def registry_on_b(self, on_b, times):
        pages = []
        for _ in range(times):
            r = on_b.get("accounts")
            self.assertEqual(r.status, 200, r.text)
            pages.append(r.text)
        return pages

    def assert_every(self, pages, text, present=True):
        for i, page in enumerate(pages):
            if present:
                self.assertIn(text, page, "read %d of %d on host B" % (i + 1, len(pages)))
            else:
                self.assertNotIn(text, page, "read %d of %d on host B" % (i + 1, len(pages)))

    def import_billing(self, rows):
        path = os.path.join(self.portal.dir, "billing-cache.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("office;account;surname;last_payment;last_payment_date;address\n")
            for row in rows:
                f.write(";".join(row) + "\n")
        self.portal.admin("billing", "import", path)

    # ---- tests -----------------------------------------------------------------------------
    def test_link_and_unlink_on_a_are_seen_on_b_at_once(self):
        on_a, on_b = self.subscriber("cache-link@example.org")
        self.assert_every(self.registry_on_b(on_b, WARM), "100201", present=False)
        link_id = self.link(on_a, "100201", "Ёлкина", "0")
        self.assert_every(self.registry_on_b(on_b, AFTER), "100201")
        self.assert_every(self.registry_on_b(on_b, AFTER), "ул. Гоголя, 2")
        # The account page on B (read through the same cached registry) too.
        self.assertEqual(on_b.get("accounts/%d" % link_id).status, 200)

        page = on_a.get("accounts/%d" % link_id)
        r = on_a.post("accounts/%d/unlink" % link_id, {"csrf": page.csrf()})
        self.assertEqual(r.status, 303, r.text)
        self.assert_every(self.registry_on_b(on_b, AFTER), "100201", present=False)
        self.assertEqual(on_b.get("accounts/%d" % link_id).status, 404)

    def test_billing_and_statements_imports_are_seen_on_b_at_once(self):
        year = this_year()
        on_a, on_b = self.subscriber("cache-import@example.org")
        self.link(on_a, "100202", "Петрова-Водкина", "0")  # paid last year only
        self.assert_every(self.registry_on_b(on_b, WARM), "ул. Мира, 3")
        self.import_billing([("SIM", "100202", "Петрова-Водкина", "500.00",
                              "%d-12-01" % (year - 1), "ул. Мира, 33")])
        self.assert_every(self.registry_on_b(on_b, AFTER), "ул. Мира, 33")

        # The registry's balance comes from the latest statement once there is one.
        self.registry_on_b(on_b, WARM)
        path = os.path.join(self.portal.dir, "statements-cache.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("office;account;period;opening_balance;accrued;paid;closing_balance;"
                    "consumption;tariff\n"
                    "SIM;100202;%d-01;0;432,10;0;432,10;70;7,16\n" % year)
        self.portal.admin("statements", "import", path)
        self.assert_every(self.registry_on_b(on_b, AFTER), "432,10")

    def test_the_account_pages_imports_are_seen_on_b_at_once(self):
        """The account page keeps the statements, payments and meters it read, under the same
        generation as the registry: each import shows on B's next view."""
        last = this_year() - 1
        self.import_billing([("SIM", "100277", "Орлова", "10,00", "%d-11-10" % last,
                              "ул. Садовая, 7")])
        on_a, on_b = self.subscriber("cache-account@example.org")
        page = "accounts/%d" % self.link(on_a, "100277", "Орлова", "0")  # paid last year

        def account_on_b(times):
            pages = []
            for _ in range(times):
                r = on_b.get(page)
                self.assertEqual(r.status, 200, r.text)
                pages.append(r.text)
            return pages

        def imported(kind, header, row):
            path = os.path.join(self.portal.dir, "%s-cache.csv" % kind)
            with open(path, "w", encoding="utf-8") as f:
                f.write(header + row + "\n")
            self.portal.admin(kind, "import", path)

        self.assert_every(account_on_b(WARM), "K-277", present=False)
        imported("meters", "office;account;meter;last_reading;last_reading_date;name;model;"
                 "digits;verification_due\n",
                 "SIM;100277;K-277;1000;%d-12-01;Кухня;;5;%d-01-01" % (last, last + 3))
        self.assert_every(account_on_b(AFTER), "K-277")

        self.assert_every(account_on_b(WARM), "432,10", present=False)
        imported("statements", "office;account;period;opening_balance;accrued;paid;"
                 "closing_balance;consumption;tariff\n",
                 "SIM;100277;%d-12;0;432,10;0;432,10;70;7,16" % last)
        self.assert_every(account_on_b(AFTER), "432,10")

        self.assert_every(account_on_b(WARM), "321,09", present=False)
        imported("payments", "office;account;payment_id;date;amount;channel\n",
                 "SIM;100277;P-277;%d-12-20;321,09;Почта России" % last)
        self.assert_every(account_on_b(AFTER), "321,09")

    def test_block_by_lkk_admin_ends_the_session_on_b_at_once(self):
        on_a, on_b = self.subscriber("cache-block@example.org")
        self.link(on_a, "100200", "Иванов", "1234,50")
        self.assert_every(self.registry_on_b(on_b, WARM), "100200")
        self.portal.admin("users", "block", "cache-block@example.org")
        for _ in range(AFTER):
            r = on_b.request("GET", "/lkk/accounts", headers={
                "Cookie": "lkk_session=" + on_a.cookies["lkk_session"]})
            self.assertEqual(r.status, 303, r.text)
            self.assertEqual(r.header("location"), "/lkk/")

    def test_a_change_behind_lkks_back_waits_for_cache_max_age(self):
        on_a, on_b = self.subscriber("cache-behind@example.org")
        self.link(on_a, "100299", "Кузнецов", "10,00")
        self.assert_every(self.registry_on_b(on_b, WARM), "ул. Кирова, 9")
        self.portal.sql("UPDATE billing_accounts SET address = ? WHERE account_number = ?",
                        ("ул. Кирова, 99", "100299"))
        pages = self.registry_on_b(on_b, AFTER)
        # Kept under a generation nobody renewed: the old address (on the threads whose copy
        # is younger than cache_max_age).
        self.assertTrue(any("ул. Кирова, 99" not in p for p in pages))
        time.sleep(4.5)
        self.assert_every(self.registry_on_b(on_b, AFTER), "ул. Кирова, 99")


if BACKEND == "mysql":
    DB_SESSIONS = {"sessions": {"cache_max_age": "4s", "url": "storage"}}

    class CacheAcrossHostsWithSessionsInMariaDB(CacheAcrossHosts):
        """The same on MariaDB without Redis: the generation is the database's
        cache_generation row, read with the session in one query."""
        portal_kwargs = {"settings": DB_SESSIONS, "workers": 2, "threads": 2}
        second_host_kwargs = {"settings": DB_SESSIONS, "workers": 2, "threads": 2}

        def test_sessions_are_in_mariadb(self):
            self.subscriber("cache-where@example.org")
            self.assertEqual(self.portal.settings["sessions"]["url"], "storage")
            self.assertEqual(self.b.settings["sessions"]["url"], "storage")
            rows = self.portal.sql("SELECT count(*) FROM sessions")
            self.assertGreaterEqual(int(rows[0][0]), 1)


if __name__ == "__main__":
    unittest.main()
