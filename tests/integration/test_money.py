"""Money (SPEC 10): office requisites, statements and payments through lkk-admin, and what a
subscriber sees of them through the real nginx.

Runs on SQLite (py_test_money) and on MariaDB + Redis (py_test_money_mariadb_redis,
LKK_IT_BACKEND=mysql), like the flow suite.
"""

import datetime
import json
import os
import zoneinfo

from harness import PortalTestCase

TZ = zoneinfo.ZoneInfo("Europe/Simferopol")

STATEMENTS_HEADER = ("office;account;period;opening_balance;accrued;paid;closing_balance;"
                     "consumption;tariff\n")
PAYMENTS_HEADER = "office;account;payment_id;date;amount;channel\n"

# РНКБ Банк (ПАО), Simferopol: its published BIC and correspondent account; the settlement
# account carries the right control key for that BIC.
RNKB = ["--payee", "ГУП РК «Крымгазсети»", "--inn", "9102019769", "--kpp", "910201001",
        "--bank", "РНКБ Банк (ПАО)", "--bic", "043510607",
        "--account", "40702810041200000123", "--corr-account", "30101810335100000607"]


def month_before(d, months):
    index = d.year * 12 + d.month - 1 - months
    return "%04d-%02d" % (index // 12, index % 12 + 1)


def today():
    return datetime.datetime.now(TZ).date()


class MoneyStory(PortalTestCase):

    def write(self, name, text, encoding="utf-8"):
        path = os.path.join(self.portal.dir, name)
        with open(path, "w", encoding=encoding) as f:
            f.write(text)
        return path

    def count(self, table):
        return int(self.portal.sql("SELECT count(*) FROM %s" % table)[0][0])

    # ---- office requisites -----------------------------------------------------------------
    def test_office_requisites_are_validated_and_a_bad_one_is_named(self):
        p = self.portal
        p.admin("offices", "add", "FEO", "--name", "Феодосийское УЭГХ", "--phones", "+7 1",
                *RNKB)
        row = p.sql("SELECT payee, inn, kpp, bank, bic, settlement_account, corr_account "
                    "FROM offices WHERE code = 'FEO'")
        self.assertEqual(row, [("ГУП РК «Крымгазсети»", "9102019769", "910201001",
                                "РНКБ Банк (ПАО)", "043510607", "40702810041200000123",
                                "30101810335100000607")])
        shown = {o["code"]: o for o in json.loads(p.admin("--json", "offices", "list").stdout)}
        self.assertEqual(shown["FEO"]["requisites"]["bic"], "043510607")
        self.assertIsNone(shown["SIM"]["requisites"])

        bad = [
            (["--inn", "9102019768"], "INN '9102019768'"),            # check digit
            (["--kpp", "91020100"], "KPP '91020100'"),
            (["--bic", "04351060"], "BIC '04351060'"),
            (["--account", "40702810041200000124"], "account '40702810041200000124'"),
            (["--corr-account", "30101810335100000608"], "correspondent account"),
            (["--bic", "044525225"], "account '40702810041200000123'"),  # another bank's BIC
            (["--payee", "ГУП | Газ"], "payee"),
            (["--bank", "Б" * 46], "bank"),
        ]
        for args, named in bad:
            r = p.admin("offices", "update", "FEO", *args, check=False)
            self.assertEqual(r.returncode, 1, (args, r.stdout, r.stderr))
            self.assertIn(named, r.stderr, args)
        # Nothing changed by the refused updates.
        self.assertEqual(p.sql("SELECT inn, bic, settlement_account FROM offices "
                               "WHERE code = 'FEO'"),
                         [("9102019769", "043510607", "40702810041200000123")])
        # Half a set is refused too, naming what is missing; the office is not added.
        r = p.admin("offices", "add", "DJK", "--name", "Джанкойское УЭГХ", "--phones", "+7 2",
                    "--inn", "9102019769", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("payee", r.stderr)
        self.assertIn("missing", r.stderr)
        self.assertEqual(p.sql("SELECT count(*) FROM offices WHERE code = 'DJK'"), [("0",)])

        # A good update, spaces around pasted values ignored; audited.
        p.admin("offices", "update", "FEO", "--account", " 40702810041200000123 ",
                "--kpp", "")
        self.assertEqual(p.sql("SELECT kpp, settlement_account FROM offices WHERE code = 'FEO'"),
                         [("", "40702810041200000123")])
        events = p.sql("SELECT detail FROM audit_log WHERE event = 'admin_offices_update'")
        self.assertTrue(any("BIC 043510607" in e[0] for e in events), events)

    # ---- statements and payments imports ---------------------------------------------------
    def test_statements_and_payments_import_idempotent_all_or_nothing(self):
        p = self.portal
        statements = self.write("statements.csv", STATEMENTS_HEADER +
                                "KRC;300400;2026-03;0;500,00;0;500,00;70;7,16\n"
                                "KRC;300400;2026-04;500;734,40;500;734,40;102,5;7,16\n"
                                "KRC;300400;2026-02;0;0;0;0;;\n")
        r = p.admin("statements", "import", statements)
        self.assertRegex(r.stdout, r"rows: 3\s+inserted: 3\s+updated: 0\s+bad: 0")
        query = ("SELECT s.period, s.opening_balance, s.accrued, s.paid, s.closing_balance, "
                 "s.consumption, s.tariff, s.imported_at FROM statements s "
                 "JOIN billing_accounts b ON b.id = s.billing_account_id "
                 "WHERE b.account_number = '300400' ORDER BY s.period")
        rows = p.sql(query)
        self.assertEqual([r[:7] for r in rows], [
            ("2026-02", "0", "0", "0", "0", None if p.backend == "sqlite" else "NULL",
             None if p.backend == "sqlite" else "NULL"),
            ("2026-03", "0", "50000", "0", "50000", "70000", "716"),
            ("2026-04", "50000", "73440", "50000", "73440", "102500", "716"),
        ])
        again = json.loads(p.admin("--json", "statements", "import", statements).stdout)
        self.assertEqual((again["inserted"], again["updated"], again["bad"]), (0, 3, 0))
        self.assertEqual(p.sql(query), rows, "re-importing the same file changes nothing")

        payments = self.write("payments.csv", PAYMENTS_HEADER +
                              "KRC;300400;P-1;10.04.2026;500,00;Почта России\n"
                              "KRC;300400;P-2;2026-05-05;734,40;\n")
        p.admin("payments", "import", payments)
        pquery = ("SELECT office_code, payment_id, paid_on, amount, channel FROM payments "
                  "WHERE office_code = 'KRC' ORDER BY payment_id")
        prows = p.sql(pquery)
        self.assertEqual(prows, [("KRC", "P-1", "2026-04-10", "50000", "Почта России"),
                                 ("KRC", "P-2", "2026-05-05", "73440", "")])
        p.admin("payments", "import", payments)
        self.assertEqual(p.sql(pquery), prows)

        # Bad lines are named by number and nothing of the file is taken.
        before = (self.count("statements"), self.count("payments"))
        bad = self.write("bad.csv", STATEMENTS_HEADER +
                         "KRC;300400;2026-05;734,40;700;0;1434,40;;\n"      # 2 good
                         "KRC;300400;2026-13;0;0;0;0;;\n"                   # 3 month
                         "KRC;999999;2026-05;0;0;0;0;;\n"                   # 4 no account
                         "KRC;300400;2026-05;0;12,345;0;0;;\n"              # 5 decimals
                         "KRC;300400;2026-05;0;0;0;0;;abc\n")               # 6 tariff
        r = p.admin("statements", "import", bad, check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("line 3: period:", r.stderr)
        self.assertIn("line 4: account: no billing account 999999", r.stderr)
        self.assertIn("line 5: accrued:", r.stderr)
        self.assertIn("line 6: tariff:", r.stderr)
        self.assertNotIn("line 2:", r.stderr)
        self.assertIn("nothing was imported", r.stdout)
        badpay = self.write("badpay.csv", PAYMENTS_HEADER +
                            "KRC;300400;P-3;2026-05-06;1;\n"
                            "KRC;300400;P|4;2026-05-06;1;\n"
                            "KRC;300400;P-5;2026-05-06;1;Банк|Онлайн\n")
        r = p.admin("payments", "import", badpay, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("line 3: payment_id: '|' is not allowed", r.stderr)
        self.assertIn("line 4: channel: '|' is not allowed", r.stderr)
        self.assertEqual((self.count("statements"), self.count("payments")), before)
        events = [e[0] for e in p.sql("SELECT event FROM audit_log")]
        self.assertIn("admin_statements_import", events)
        self.assertIn("admin_payments_import", events)

    # ---- the subscriber's pages and API, through nginx ---------------------------------------
    def test_registry_balance_account_history_payments_and_api(self):
        p = self.portal
        # Three years and a month of statements for 100200 (the oldest falls off the page), one
        # overpaid month for 100201; payments of both.
        last = today()
        months = [month_before(last, n) for n in range(37, -1, -1)]
        lines = []
        for i, period in enumerate(months[:-1]):
            lines.append("SIM;100200;%s;0;%d,00;%d,00;0;%d;7,16" % (period, 100 + i, 100 + i,
                                                                     10 + i))
        # The newest month: 734,40 due after 500 paid; 102,5 m³.
        lines.append("SIM;100200;%s;500;734,40;500;734,40;102,5;7,16" % months[-1])
        lines.append("SIM;100201;%s;0;0;50;-50;;" % months[-1])
        p.admin("statements", "import", self.write("st.csv", STATEMENTS_HEADER +
                                                   "\n".join(lines) + "\n"))
        p.admin("payments", "import", self.write("pay.csv", PAYMENTS_HEADER +
                                                 "SIM;100200;R-1;%s-10;500,00;Почта России\n"
                                                 "SIM;100200;R-2;%s-05;1 000,00;\n"
                                                 "SIM;100201;R-3;%s-07;50;Сбербанк Онлайн\n"
                                                 % (months[-1], months[-2], months[-1])))

        b = self.register_confirmed("money@example.org")
        own = self.link(b, "100200", "Иванов", "1234,50")
        over = self.link(b, "100201", "Ёлкина", "0")
        registry = b.get("accounts")
        self.assertEqual(registry.status, 200)
        self.assertIn("К оплате 734,40\u00a0₽", registry.text)
        self.assertIn("Переплата 50,00\u00a0₽", registry.text)

        page = b.get("accounts/%d" % own)
        self.assertEqual(page.status, 200, page.text)
        t = page.text
        self.assertIn("К оплате 734,40\u00a0₽", t)
        newest = "%s.%s" % (months[-1][5:], months[-1][:4])
        self.assertIn("По начислениям за %s." % newest, t)
        # The table: newest first, 36 months, accrued, paid, balance, consumption, and no link
        # to a bill while the office has no payment requisites.
        self.assertIn("<tr><td>%s</td><td>734,40</td><td>500,00</td><td>734,40</td>"
                      "<td>102,5</td><td></td></tr>" % newest, t)
        self.assertEqual(t.count("<tr><td>"), 36 + 2, "36 months and 2 payments")
        oldest = months[0]
        self.assertNotIn("<td>%s.%s</td>" % (oldest[5:], oldest[:4]), t)
        # The chart: inline SVG, one bar a month, its text alternative, no script, no style.
        self.assertIn('<svg viewBox="0 0 360 150" role="img"', t)
        self.assertIn("в таблице ниже", t)
        self.assertEqual(t.count("<rect "), 36)
        self.assertIn("<title>%s: 734,40\u00a0₽</title>" % newest, t)
        self.assertNotIn("style=", t)
        self.assertNotIn("<script", t.lower())
        self.assertIn("default-src 'none'", page.header("content-security-policy"))
        # The payments, newest first.
        r1 = t.index("500,00\u00a0₽</td><td>Почта России")
        r2 = t.index("1\u00a0000,00\u00a0₽</td><td>—")
        self.assertLess(r1, r2)
        self.assertIn("Сбербанк Онлайн", b.get("accounts/%d" % over).text)

        # The API: the same figures as exact decimal strings and kopecks.
        r = b.api("GET", "accounts/%d/statements" % own)
        self.assertEqual(r.status, 200, r.text)
        j = r.json()
        self.assertEqual(j["account"], {"id": own, "office": "SIM", "account": "100200"})
        self.assertEqual(j["balance"]["kopecks"], 73440)
        self.assertEqual(j["balance"]["amount"], "734.40")
        self.assertEqual(j["balance"]["kind"], "due")
        self.assertEqual(len(j["statements"]), 36)
        self.assertEqual(j["statements"][-1]["period"], months[-1])
        self.assertEqual(j["statements"][-1]["consumption"], "102.5")
        self.assertEqual(j["statements"][-1]["tariff"], "7.16")
        self.assertEqual(j["statements"][-1]["paid_kopecks"], 50000)
        r = b.api("GET", "accounts/%d/payments" % own)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual([(x["payment_id"], x["amount"], x["channel"]) for x in
                          r.json()["payments"]],
                         [("R-1", "500.00", "Почта России"), ("R-2", "1000.00", "")])
        self.assertEqual(b.api("GET", "accounts/%d/statements" % over).json()["balance"]["kind"],
                         "overpaid")

        # Another cabinet: the same ids are 404, on the page and in the API.
        other = self.register_confirmed("money.stranger@example.org")
        self.assertEqual(other.get("accounts/%d" % own).status, 404)
        for what in ("statements", "payments"):
            self.assertEqual(other.api("GET", "accounts/%d/%s" % (own, what)).status, 404)
        self.assertNotIn("734,40", other.get("accounts").text)
        # Not logged in: the API answers 401.
        self.assertEqual(p.browser().api("GET", "accounts/%d/statements" % own).status, 401)
