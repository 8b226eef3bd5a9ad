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
