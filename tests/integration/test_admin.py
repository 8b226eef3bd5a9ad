"""lkk-admin driven as support staff would: exit codes, tables, --json, database rows.

AdminSqlite runs every CLI test on a fresh SQLite file; AdminMysql runs the same tests on a
fresh MariaDB database when LKK_TEST_MYSQL_URL is set (scripts/services.sh sets it).
AdminOnPortal checks that support operations act on a running portal at once (real nginx),
on SQLite and, as AdminOnPortalMariadbRedis, on MariaDB + Redis.
"""

import json
import os
import pty
import pwd
import secrets
import select
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import unittest
import urllib.parse

from harness import ADMIN, PortalTestCase, require_servers, this_year, to_toml

YEAR = this_year()


def os_user():
    """Who lkk-admin names as the actor when run from here: sudo's caller, else this user."""
    return os.environ.get("SUDO_USER") or pwd.getpwuid(os.geteuid()).pw_name
HEADER = "office;account;surname;last_payment;last_payment_date;address;balance\n"


class AdminCliTests:
    """Mixin: the tests; subclasses say which database (storage_url, sql)."""

    backend = "sqlite"

    # ---- fixture ---------------------------------------------------------------------------
    def setUp(self):
        if not os.path.exists(ADMIN):
            self.skipTest("not built: " + ADMIN)
        self.dir = tempfile.mkdtemp(prefix="lkk-admin-")
        self.addCleanup(self.cleanup)  # runs even when setUp skips or fails after this
        self.mail_dir = os.path.join(self.dir, "mail")
        settings = {
            "portal": {"base_url": "https://lkk.example.org", "base_path": "/lkk"},
            "storage": {"url": self.storage_url()},
            "sessions": {"url": self.sessions_url()},
            "mail": {"url": "file:" + self.mail_dir},
            "passwords": {"argon2_memory_kib": 1024, "argon2_iterations": 1},
        }
        self.config = os.path.join(self.dir, "lkk.toml")
        with open(self.config, "w") as f:
            f.write(to_toml(settings))
        r = self.admin("migrate")
        if r.returncode != 0 and "not built" in r.stderr:
            self.skipTest("this build has no %s backend: %s" % (self.backend, r.stderr.strip()))
        self.assertEqual(r.returncode, 0, r.stderr)

    def cleanup(self):
        self.drop_database()
        if not os.environ.get("LKK_KEEP_TEST_DIRS"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def storage_url(self):
        return "sqlite:%s/lkk.db" % self.dir

    def sessions_url(self):
        return "storage"

    def drop_database(self):
        pass

    def sql(self, query, params=()):
        con = sqlite3.connect(os.path.join(self.dir, "lkk.db"), timeout=10)
        try:
            rows = con.execute(query, params).fetchall()
            con.commit()
            return [tuple(None if c is None else str(c) for c in row) for row in rows]
        finally:
            con.close()

    def admin(self, *args, input=None, config=True):
        cmd = [ADMIN] + (["--config", self.config] if config else []) + list(args)
        return subprocess.run(cmd, capture_output=True, text=True, input=input, timeout=120)

    def ok(self, *args):
        r = self.admin(*args)
        self.assertEqual(r.returncode, 0, "lkk-admin %s: %s %s" % (args, r.stdout, r.stderr))
        return r

    def json_of(self, *args):
        r = self.ok("--json", *args)
        return json.loads(r.stdout)

    def write(self, name, text, encoding="utf-8"):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(text.encode(encoding))
        return path

    def add_offices(self):
        self.ok("offices", "add", "SIM", "--name", "Симферопольское УЭГХ",
                "--phones", "+7 (3652) 11-22-33")
        self.ok("offices", "add", "KRC", "--name", "Керченское УЭГХ",
                "--phones", "+7 (36561) 5-55-55", "--email", "krc@example.org")

    def billing_count(self):
        return int(self.sql("SELECT count(*) FROM billing_accounts")[0][0])

    def insert_user(self, email, status="active"):
        self.sql("INSERT INTO users (email, password_hash, status, created_at, confirmed_at) "
                 "VALUES (?, 'x', ?, 1700000000, ?)",
                 (email, status, None if status == "pending" else 1700000100))
        return int(self.sql("SELECT id FROM users WHERE email = ?", (email,))[0][0])

    def insert_link(self, user_id, office, account):
        bid = self.sql("SELECT id FROM billing_accounts WHERE office_code = ? AND "
                       "account_number = ?", (office, account))[0][0]
        self.sql("INSERT INTO links (user_id, billing_account_id, linked_at) "
                 "VALUES (?, ?, 1700000200)", (user_id, bid))

    def audit_events(self):
        return [r[0] for r in self.sql("SELECT event FROM audit_log ORDER BY id")]

    # ---- the command line ------------------------------------------------------------------
    def test_usage_errors_exit_2_and_help_exits_0(self):
        for args in ([], ["frobnicate"], ["offices"], ["offices", "add", "SIM"],
                     ["billing", "import"], ["outbox", "retry", "abc"],
                     ["users", "show", "not-an-email"], ["offices", "add", "S I M",
                                                         "--name", "x", "--phones", "y"],
                     ["billing", "import", "x.csv", "--encoding", "koi8-r"]):
            r = self.admin(*args)
            self.assertEqual(r.returncode, 2, "%s: %s %s" % (args, r.stdout, r.stderr))
            self.assertNotEqual(r.stderr.strip(), "", args)
        r = self.admin("--help")
        self.assertEqual(r.returncode, 0)
        for command in ("migrate", "offices", "billing", "users", "accounts", "outbox", "stats"):
            self.assertIn(command, r.stdout)

    def test_missing_settings_file_says_how_to_give_one(self):
        r = subprocess.run([ADMIN, "--config", os.path.join(self.dir, "nope.toml"), "stats"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("--config", r.stderr)
        # A storage URL in an error message never shows its password.
        bad = os.path.join(self.dir, "bad.toml")
        with open(bad, "w") as f:
            f.write('[storage]\nurl = "mysql://lkk:s3cret-pw@127.0.0.1"\n')
        r = subprocess.run([ADMIN, "--config", bad, "stats"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot open storage", r.stderr)
        self.assertNotIn("s3cret-pw", r.stdout + r.stderr)
        env = dict(os.environ, LKK_CONFIG=self.config)
        r = subprocess.run([ADMIN, "stats"], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)  # LKK_CONFIG is read too

    def test_migrate_is_idempotent(self):
        first = self.json_of("migrate")
        second = self.ok("migrate")
        self.assertEqual(first["schema_version"], first["expected_version"])
        self.assertIn("schema version %d" % first["schema_version"], second.stdout)
        self.assertIn("up to date", second.stdout)

    # ---- offices ---------------------------------------------------------------------------
    def test_offices_add_list_update_remove(self):
        r = self.ok("offices", "list")
        self.assertIn("offices add", r.stdout)  # an empty list says what to do
        self.add_offices()
        dup = self.admin("offices", "add", "SIM", "--name", "x", "--phones", "y")
        self.assertEqual(dup.returncode, 1)
        self.assertIn("already exists", dup.stderr)
        self.assertIn("offices update SIM", dup.stderr)

        table = self.ok("offices", "list").stdout.splitlines()
        self.assertTrue(table[0].startswith("CODE"), table)
        rows = [line for line in table if line.startswith(("SIM", "KRC"))]
        self.assertEqual(len(rows), 2)
        # Columns are aligned by characters, so the phones start in one column on every row.
        starts = {line.index("+7") for line in rows}
        self.assertEqual(len(starts), 1, table)

        offices = {o["code"]: o for o in self.json_of("offices", "list")}
        self.assertEqual(offices["KRC"]["email"], "krc@example.org")
        self.assertEqual(offices["SIM"]["name"], "Симферопольское УЭГХ")

        self.ok("offices", "update", "SIM", "--phones", "+7 (3652) 99-99-99")
        self.assertEqual(self.sql("SELECT name, phones FROM offices WHERE code = 'SIM'"),
                         [("Симферопольское УЭГХ", "+7 (3652) 99-99-99")])
        self.assertEqual(self.admin("offices", "update", "SIM").returncode, 2)  # nothing to change
        missing = self.admin("offices", "update", "NOPE", "--name", "x")
        self.assertEqual(missing.returncode, 1)
        self.assertIn("offices list", missing.stderr)

        self.ok("offices", "remove", "KRC")
        self.assertEqual(self.sql("SELECT code FROM offices"), [("SIM",)])
        gone = self.admin("--json", "offices", "remove", "KRC")
        self.assertEqual(gone.returncode, 1)
        self.assertIn("not found", json.loads(gone.stdout)["error"])
        events = self.audit_events()
        for e in ("admin_offices_add", "admin_offices_update", "admin_offices_remove"):
            self.assertIn(e, events)

    def test_offices_remove_refuses_while_accounts_are_linked(self):
        self.add_offices()
        self.ok("billing", "import", self.write("b.csv", HEADER +
                                                "SIM;100200;Иванов;10;%d-01-01;;\n" % YEAR))
        self.insert_link(self.insert_user("linked@example.org"), "SIM", "100200")
        r = self.admin("offices", "remove", "SIM")
        self.assertEqual(r.returncode, 1)
        self.assertIn("--force", r.stderr)
        self.assertIn("accounts unlink", r.stderr)
        self.assertEqual(self.sql("SELECT count(*) FROM offices WHERE code = 'SIM'"), [("1",)])
        self.ok("offices", "remove", "SIM", "--force")
        self.assertEqual(self.sql("SELECT count(*) FROM offices WHERE code = 'SIM'"), [("0",)])

    # ---- billing import ----------------------------------------------------------------------
    def test_import_upserts_and_reports(self):
        self.add_offices()
        text = ("\ufeff" + HEADER +
                "SIM;12-345 67;Иванов;1 234,50;%d-03-15;\"г. Симферополь; ул. Ленина, 1\";-5,10\n"
                "SIM;100201;Ёлкина;0;;;\n"
                "KRC;300400;Петрова-Водкина;99.99;15.01.%d;ул. Морская;\n" % (YEAR, YEAR))
        path = self.write("billing.csv", text)
        r = self.ok("billing", "import", path)
        self.assertRegex(r.stdout, r"rows: 3\s+inserted: 3\s+updated: 0\s+bad: 0")
        self.assertNotIn("\r", r.stderr)  # no progress bar into a pipe
        rows = self.sql("SELECT office_code, account_number, surname, surname_key, last_payment, "
                        "last_payment_date, address, balance FROM billing_accounts "
                        "ORDER BY account_number")
        self.assertEqual(rows, [
            ("SIM", "100201", "Ёлкина", "елкина", "0", "", "", None),
            ("SIM", "1234567", "Иванов", "иванов", "123450", "%d-03-15" % YEAR,
             "г. Симферополь; ул. Ленина, 1", "-510"),
            ("KRC", "300400", "Петрова-Водкина", "петрова-водкина", "9999", "%d-01-15" % YEAR,
             "ул. Морская", None),
        ])

        changed = self.write("billing2.csv", HEADER + "SIM;1234567;Иванов;2000;%d-04-01;;\n"
                                                      "SIM;555;Ким;0;;;\n" % YEAR)
        report = self.json_of("billing", "import", changed)
        self.assertEqual((report["rows"], report["inserted"], report["updated"], report["bad"]),
                         (2, 1, 1, 0))
        self.assertTrue(report["committed"])
        self.assertEqual(self.billing_count(), 4)
        self.assertEqual(self.sql("SELECT last_payment FROM billing_accounts "
                                  "WHERE account_number = '1234567'"), [("200000",)])

        shown = self.json_of("billing", "show", "SIM", "12-345-67")
        self.assertEqual(shown["surname"], "Иванов")
        self.assertEqual(shown["last_payment"], "2000.00")
        self.assertEqual(shown["expected_amount"], "2000.00")  # paid this year
        self.assertEqual(self.json_of("billing", "show", "SIM", "100201")["expected_amount"],
                         "0.00")
        human = self.ok("billing", "show", "KRC", "300400").stdout
        self.assertIn("Петрова-Водкина", human)
        self.assertIn("99.99", human)
        missing = self.admin("billing", "show", "SIM", "999")
        self.assertEqual(missing.returncode, 1)
        self.assertIn("billing import", missing.stderr)
        self.assertIn("admin_billing_import", self.audit_events())

    def test_bad_file_imports_nothing_and_names_every_bad_line(self):
        self.add_offices()
        self.ok("billing", "import", self.write("old.csv", HEADER + "SIM;1;Старый;0;;;\n"))
        lines = [
            HEADER.rstrip("\n"),                               # 1
            "SIM;100;Иванов;10;%d-01-01;;" % YEAR,             # 2
            "SIM;101;Петров;10;%d-01-01;" % YEAR,              # 3 a column short
            "SIM;102;Сидоров;10;%d-01-01;;" % YEAR,            # 4
            "XXX;103;Кузнецов;10;%d-01-01;;" % YEAR,           # 5 unknown office
            "KRC;104;Орлова;10;%d-01-01;;" % YEAR,             # 6
            "KRC;105;Зайцев;12,345;%d-01-01;;" % YEAR,         # 7 bad amount
            "KRC;106;Белова;0;;;",                             # 8
        ]
        path = self.write("bad.csv", "\n".join(lines) + "\n")
        r = self.admin("billing", "import", path)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("line 7: last_payment:", r.stderr)
        self.assertIn("line 3: expected 7 fields", r.stderr)
        self.assertIn("line 5: office: XXX not found", r.stderr)
        for good in (2, 4, 6, 8):
            self.assertNotIn("line %d:" % good, r.stderr)
        self.assertIn("nothing was imported", r.stdout)
        self.assertEqual(self.billing_count(), 1)  # only the account that was there before

        report = json.loads(self.admin("--json", "billing", "import", path).stdout)
        self.assertEqual([b["line"] for b in report["bad_lines"]], [3, 5, 7])
        self.assertFalse(report["committed"])

        dry = self.admin("billing", "import", path, "--dry-run")
        self.assertEqual(dry.returncode, 1)
        self.assertEqual(self.billing_count(), 1)

        skipped = self.admin("billing", "import", path, "--skip-bad")
        self.assertEqual(skipped.returncode, 0, skipped.stderr)
        self.assertIn("line 7:", skipped.stderr)
        self.assertEqual(self.billing_count(), 5)

    def test_import_from_stdin(self):
        self.add_offices()
        r = self.admin("billing", "import", "-", input=HEADER + "KRC;42;Ли;0;;;\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.billing_count(), 1)

    def test_dry_run_of_a_good_file_changes_nothing(self):
        self.add_offices()
        path = self.write("b.csv", HEADER + "SIM;1;Иванов;10;%d-01-01;;\n" % YEAR)
        r = self.ok("billing", "import", path, "--dry-run")
        self.assertIn("inserted: 1", r.stdout)
        self.assertIn("dry run", r.stdout)
        self.assertEqual(self.billing_count(), 0)

    def test_wrong_header_is_refused_with_its_line(self):
        self.add_offices()
        path = self.write("h.csv", "office;account;surname;paid;last_payment_date\n"
                                   "SIM;1;Иванов;10;%d-01-01\n" % YEAR)
        r = self.admin("billing", "import", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("line 1: unknown column 'paid'", r.stderr)
        missing = self.admin("billing", "import", os.path.join(self.dir, "absent.csv"))
        self.assertEqual(missing.returncode, 1)
        self.assertIn("not found", missing.stderr)

    def test_cp1251_file_with_yo_surname(self):
        self.add_offices()
        text = HEADER + "SIM;100201;Ёлкина;0;;г. Симферополь, ул. Гоголя, 2;\n"
        data = text.encode("cp1251")
        self.assertIn(b"\xa8\xeb\xea\xe8\xed\xe0", data)
        path = os.path.join(self.dir, "win.csv")
        with open(path, "wb") as f:
            f.write(data)
        wrong = self.admin("billing", "import", path)
        self.assertEqual(wrong.returncode, 1)
        self.assertIn("--encoding cp1251", wrong.stderr)
        self.ok("billing", "import", path, "--encoding", "cp1251")
        self.assertEqual(self.sql("SELECT surname, surname_key, address FROM billing_accounts"),
                         [("Ёлкина", "елкина", "г. Симферополь, ул. Гоголя, 2")])

    def test_comma_file_without_office_column_takes_office_option(self):
        self.add_offices()
        path = self.write("c.csv", "account,surname,last_payment,last_payment_date\n"
                                   "7-7,Ким,\"1 234,50\",01.02.%d\n" % YEAR)
        r = self.admin("billing", "import", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("--office", r.stderr)
        unknown = self.admin("billing", "import", path, "--office", "NOPE")
        self.assertEqual(unknown.returncode, 1)
        self.assertIn("offices list", unknown.stderr)
        self.ok("billing", "import", path, "--office", "KRC")
        self.assertEqual(self.sql("SELECT office_code, account_number, last_payment, "
                                  "last_payment_date FROM billing_accounts"),
                         [("KRC", "77", "123450", "%d-02-01" % YEAR)])

    def test_progress_bar_only_on_a_terminal(self):
        self.add_offices()
        path = self.write("p.csv", HEADER + "".join(
            "SIM;%d;Иванов;10;%d-01-01;;\n" % (i, YEAR) for i in range(1, 3001)))
        # stderr on a pseudo-terminal: the bar is drawn in place with \r and rows/s.
        master, slave = pty.openpty()
        proc = subprocess.Popen([ADMIN, "--config", self.config, "billing", "import", path],
                                stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        seen = b""
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        out, _ = proc.communicate(timeout=60)
        os.close(master)
        self.assertEqual(proc.returncode, 0)
        self.assertIn(b"\r", seen)
        self.assertIn(b"rows/s", seen)
        self.assertIn(b"3000 rows", seen)
        self.assertIn(b"inserted: 3000", out)
        self.assertEqual(self.billing_count(), 3000)

    # ---- users and accounts ----------------------------------------------------------------
    def test_users_find_show_confirm_block_unblock_delete(self):
        uid = self.insert_user("ivanov@example.org", status="pending")
        self.insert_user("petrov@example.org")
        found = self.ok("users", "find", "example").stdout
        self.assertIn("ivanov@example.org", found)
        self.assertIn("petrov@example.org", found)
        self.assertEqual([u["email"] for u in self.json_of("users", "find", "ivan")],
                         ["ivanov@example.org"])
        self.assertIn("no cabinet", self.ok("users", "find", "nobody").stdout)

        shown = self.json_of("users", "show", "IVANOV@Example.org")
        self.assertEqual((shown["id"], shown["status"]), (uid, "pending"))
        self.assertEqual(shown["links"], [])
        self.assertIn("login_failures", shown["locks"])
        human = self.ok("users", "show", "ivanov@example.org").stdout
        self.assertIn("status:", human)
        self.assertIn("linked accounts:", human)

        self.ok("users", "confirm", "ivanov@example.org")
        self.assertEqual(self.sql("SELECT status FROM users WHERE id = ?", (uid,)), [("active",)])
        self.ok("users", "block", "ivanov@example.org")
        self.assertEqual(self.sql("SELECT status FROM users WHERE id = ?", (uid,)), [("blocked",)])
        self.assertEqual(self.json_of("users", "unblock", "ivanov@example.org")["status"],
                         "active")

        missing = self.admin("users", "block", "nobody@example.org")
        self.assertEqual(missing.returncode, 1)
        self.assertIn("users find", missing.stderr)

        self.ok("users", "delete", "ivanov@example.org")
        self.assertEqual(self.sql("SELECT count(*) FROM users WHERE email = 'ivanov@example.org'"),
                         [("0",)])
        self.assertEqual(self.sql("SELECT status FROM users WHERE id = ?", (uid,)), [("deleted",)])
        events = self.sql("SELECT event FROM audit_log WHERE user_id = ?", (uid,))
        for e in ("admin_confirm", "admin_block", "admin_unblock", "admin_delete"):
            self.assertIn((e,), events)

    def test_reset_password_print_link_and_resend(self):
        uid = self.insert_user("reset@example.org")
        r = self.ok("users", "reset-password", "reset@example.org", "--print-link")
        link = r.stdout.strip()
        self.assertRegex(link, r"^https://lkk\.example\.org/lkk/password/reset\?token=[\w-]{20,}$")
        self.assertEqual(self.sql("SELECT count(*) FROM tokens WHERE user_id = ? AND "
                                  "kind = 'reset'", (uid,)), [("1",)])
        self.assertEqual(self.sql("SELECT count(*) FROM outbox"), [("0",)])  # nothing mailed
        self.ok("users", "reset-password", "reset@example.org")
        self.assertEqual(self.sql("SELECT recipient FROM outbox"), [("reset@example.org",)])
        # resend refuses a cabinet that is not pending, and says so.
        r = self.admin("users", "resend", "reset@example.org")
        self.assertEqual(r.returncode, 1)
        pending = self.insert_user("new@example.org", status="pending")
        self.ok("users", "resend", "new@example.org")
        self.assertEqual(self.sql("SELECT count(*) FROM tokens WHERE user_id = ? AND "
                                  "kind = 'confirm'", (pending,)), [("1",)])

    def test_accounts_unlink_and_unlock(self):
        self.add_offices()
        self.ok("billing", "import", self.write("b.csv", HEADER +
                                                "SIM;100200;Иванов;10;%d-01-01;;\n" % YEAR))
        uid = self.insert_user("link@example.org")
        self.insert_link(uid, "SIM", "100200")
        self.assertEqual(len(self.json_of("users", "show", "link@example.org")["links"]), 1)
        self.ok("accounts", "unlink", "link@example.org", "SIM", "100-200")
        self.assertEqual(self.sql("SELECT count(*) FROM links"), [("0",)])
        again = self.admin("accounts", "unlink", "link@example.org", "SIM", "100200")
        self.assertEqual(again.returncode, 1)
        self.assertIn("not linked", again.stderr)
        self.ok("accounts", "unlock", "SIM", "100200")
        r = self.admin("accounts", "unlock", "NOPE", "100200")
        self.assertEqual(r.returncode, 1)
        self.assertIn("offices list", r.stderr)

    # ---- outbox and stats ------------------------------------------------------------------
    def test_outbox_list_retry_flush(self):
        self.sql("INSERT INTO outbox (recipient, subject, body_text, state, attempts, created_at, "
                 "next_attempt_at, last_error) VALUES ('a@example.org', 'Подтверждение', 'text', "
                 "'failed', 10, 1700000000, 1700000000, 'connection refused')")
        mid = int(self.sql("SELECT id FROM outbox")[0][0])
        listed = self.ok("outbox", "list").stdout
        self.assertIn("failed", listed)
        self.assertIn("connection refused", listed)
        self.assertEqual(self.json_of("outbox", "list", "--state", "failed")[0]["id"], mid)
        self.assertEqual(self.json_of("outbox", "list", "--state", "sent"), [])
        self.assertEqual(self.json_of("stats")["outbox"]["failed"], 1)

        self.ok("outbox", "retry", str(mid))
        self.assertEqual(self.sql("SELECT state FROM outbox"), [("pending",)])
        flushed = self.json_of("outbox", "flush")
        self.assertEqual(flushed["sent"], 1)
        self.assertEqual(self.sql("SELECT state FROM outbox"), [("sent",)])
        self.assertEqual(len([f for f in os.listdir(self.mail_dir) if f.endswith(".eml")]), 1)
        again = self.admin("outbox", "retry", str(mid))
        self.assertEqual(again.returncode, 1)
        self.assertIn("already sent", again.stderr)
        self.assertEqual(self.admin("outbox", "retry", "999999").returncode, 1)
        self.assertIn("admin_outbox_flush", self.audit_events())

    def insert_mail(self, to, state, created_at, next_attempt_at, attempts=0, error="",
                    sent_at=None):
        self.sql("INSERT INTO outbox (recipient, subject, body_text, state, attempts, created_at, "
                 "next_attempt_at, sent_at, last_error) VALUES (?, 'Подтверждение', 'text', ?, ?, "
                 "?, ?, ?, ?)", (to, state, attempts, created_at, next_attempt_at,
                                 sent_at or 0, error))
        return int(self.sql("SELECT max(id) FROM outbox")[0][0])

    def test_outbox_list_shows_age_and_next_attempt(self):
        now = int(time.time())
        waiting = self.insert_mail("late@example.org", "pending", now - 3 * 3600, now + 600,
                                   attempts=7, error="connection refused")
        due = self.insert_mail("due@example.org", "pending", now - 90, now - 5)
        sent = self.insert_mail("sent@example.org", "sent", now - 7200, now - 7200,
                                attempts=1, sent_at=now - 7100)
        failed = self.insert_mail("failed@example.org", "failed", now - 4 * 86400,
                                  now - 3 * 86400, attempts=10, error="550 no such user")
        rows = {m["id"]: m for m in self.json_of("outbox", "list")}
        self.assertEqual(set(rows), {waiting, due, sent, failed})
        w = rows[waiting]
        self.assertTrue(3 * 3600 <= w["age_seconds"] <= 3 * 3600 + 120, w)
        self.assertTrue(480 <= w["next_attempt_in_seconds"] <= 600, w)
        self.assertEqual(w["state"], "pending")
        self.assertEqual(rows[due]["next_attempt_in_seconds"], 0)  # due now
        self.assertTrue(90 <= rows[due]["age_seconds"] <= 210, rows[due])
        self.assertIsNone(rows[sent]["next_attempt_in_seconds"])
        self.assertIsNone(rows[sent]["next_attempt_at"])
        self.assertIsNone(rows[failed]["next_attempt_in_seconds"])
        self.assertTrue(4 * 86400 <= rows[failed]["age_seconds"] <= 4 * 86400 + 120)
        only = self.json_of("outbox", "list", "--state", "pending", "--limit", "1")
        self.assertEqual([m["id"] for m in only], [due])  # the newest waiting mail

        table = self.ok("outbox", "list").stdout.splitlines()
        self.assertRegex(table[0], r"^ID\s+STATE\s+TRIES\s+AGE\s+NEXT TRY\s+TO")
        line = {l.split()[0]: l for l in table[1:] if l.strip()}
        self.assertRegex(line[str(waiting)], r"pending\s+7\s+3h 0[0-2]m\s+in (9m|10m) ")
        self.assertIn("connection refused", line[str(waiting)])
        self.assertRegex(line[str(due)], r"pending\s+0\s+\d+m \d\ds\s+now\s")
        self.assertRegex(line[str(sent)], r"sent\s+1\s+\d+h \d\dm\s+sent 20\d\d-")
        self.assertRegex(line[str(failed)], r"failed\s+10\s+4d 0\dh\s+given up\s")

    def test_stats(self):
        self.add_offices()
        self.ok("billing", "import", self.write("b.csv", HEADER +
                                                "SIM;1;Иванов;10;%d-01-01;;\n"
                                                "SIM;2;Петров;0;;;\n"
                                                "KRC;3;Ли;0;;;\n" % YEAR))
        self.insert_link(self.insert_user("a@example.org"), "SIM", "1")
        self.insert_link(self.insert_user("a2@example.org"), "SIM", "2")
        self.insert_user("b@example.org", status="pending")
        self.insert_user("c@example.org")
        self.insert_user("d@example.org")
        self.ok("users", "block", "c@example.org")
        self.ok("users", "delete", "d@example.org")
        now = int(time.time())
        for state in ("pending", "pending", "sent", "failed", "failed", "failed"):
            self.insert_mail("m@example.org", state, now, now)
        s = self.json_of("stats")
        self.assertEqual(s["users"], {"active": 2, "pending": 1, "blocked": 1, "deleted": 1})
        self.assertEqual(s["users_total"], 5)
        self.assertEqual((s["links"], s["billing_accounts"], s["offices"]), (2, 3, 2))
        self.assertEqual(s["outbox"], {"pending": 2, "sent": 1, "failed": 3})
        human = self.ok("stats").stdout
        self.assertRegex(human, r"users\s+5\n")
        self.assertRegex(human, r"billing accounts\s+3")
        self.assertRegex(human, r"linked accounts\s+2")
        self.assertRegex(human, r"mails failed\s+3")
        self.assertIn("outbox retry", human)  # failed mails: what to do

    def test_audit_names_the_os_user_and_host(self):
        uid = self.insert_user("audited@example.org")
        self.ok("users", "block", "audited@example.org")
        self.ok("offices", "add", "SIM", "--name", "Симферопольское УЭГХ", "--phones", "1")
        # Through sudo the person is sudo's caller, not root.
        r = subprocess.run([ADMIN, "--config", self.config, "users", "unblock",
                            "audited@example.org"], capture_output=True, text=True,
                           env=dict(os.environ, SUDO_USER="boris"))
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.sql("SELECT event, actor_kind, actor_os_user, actor_host, ip FROM audit_log "
                        "WHERE event <> 'admin_migrate' ORDER BY id")  # MariaDB: setUp migrated
        me, host = os_user(), socket.gethostname()
        self.assertEqual(rows, [("admin_block", "tool", me, host, ""),
                                ("admin_offices_add", "tool", me, host, ""),
                                ("admin_unblock", "tool", "boris", host, "")])
        shown = self.json_of("users", "show", "audited@example.org")
        self.assertEqual([(e["event"], e["actor"]["kind"], e["actor"]["os_user"])
                          for e in shown["audit"]],
                         [("admin_users_show", "tool", me), ("admin_unblock", "tool", "boris"),
                          ("admin_block", "tool", me)])
        self.assertEqual(shown["audit"][2]["actor"]["host"], host)
        self.assertEqual(shown["id"], uid)


    # ---- audit -----------------------------------------------------------------------------
    def insert_audit(self, at, event, user_id=None, detail=""):
        self.sql("INSERT INTO audit_log (at, user_id, event, detail, ip, actor_kind, "
                 "actor_user_id) VALUES (?, ?, ?, ?, '192.0.2.5', 'subscriber', ?)",
                 (at, user_id, event, detail, user_id))

    def test_audit_filters_newest_first_and_json(self):
        now = int(time.time())
        ivanov = self.insert_user("ivanov@example.org")
        petrova = self.insert_user("petrova@example.org")
        self.insert_audit(now - 10 * 86400, "login_ok", ivanov, "ten days ago")
        self.insert_audit(now - 2 * 86400, "login_fail", petrova, "two days ago")
        self.insert_audit(now - 3 * 3600, "login_fail", ivanov, "three hours ago")
        self.insert_audit(now - 20 * 60, "login_ok", petrova, "twenty minutes ago")
        self.ok("users", "block", "ivanov@example.org")  # a tool row, now

        def details(*args):
            return [(e["event"], e["detail"]) for e in self.json_of("audit", *args)
                    if e["event"] not in ("admin_audit", "admin_migrate")]

        everything = self.json_of("audit")
        # Newest first: this reading, the block, then the inserted rows by time.
        self.assertEqual(everything[0]["event"], "admin_audit")
        self.assertEqual(everything[0]["actor"]["os_user"], os_user())
        self.assertEqual([e["id"] for e in everything],
                         sorted((e["id"] for e in everything), reverse=True))
        self.assertEqual(details(), [("admin_block", ""),
                                     ("login_ok", "twenty minutes ago"),
                                     ("login_fail", "three hours ago"),
                                     ("login_fail", "two days ago"),
                                     ("login_ok", "ten days ago")])
        row = next(e for e in everything if e["detail"] == "three hours ago")
        self.assertEqual((row["user_id"], row["ip"], row["actor"]["kind"]),
                         (ivanov, "192.0.2.5", "subscriber"))
        self.assertEqual(row["at_unix"], now - 3 * 3600)

        self.assertEqual(details("--since", "30m"),
                         [("admin_block", ""), ("login_ok", "twenty minutes ago")])
        self.assertEqual(details("--since", "24h", "--action", "login_fail"),
                         [("login_fail", "three hours ago")])
        self.assertEqual(details("--since", "7d", "--action", "login_fail"),
                         [("login_fail", "three hours ago"), ("login_fail", "two days ago")])
        self.assertEqual(details("--user", "Ivanov@Example.org"),
                         [("admin_block", ""), ("login_fail", "three hours ago"),
                          ("login_ok", "ten days ago")])
        self.assertEqual(details("--user", "petrova@example.org", "--action", "login_ok",
                                 "--since", "1d"), [("login_ok", "twenty minutes ago")])
        self.assertEqual(self.json_of("audit", "--action", "no_such_event"), [])

        # The table for people, newest first, the actor in BY.
        out = self.ok("audit", "--user", "ivanov@example.org").stdout.splitlines()
        self.assertRegex(out[0], r"^AT \(UTC\)\s+EVENT\s+USER\s+BY\s+DETAIL$")
        self.assertEqual([line.split()[2] for line in out[1:]],
                         ["admin_audit", "admin_audit", "admin_block", "login_fail", "login_ok"])
        self.assertIn("lkk-admin by %s@" % os_user(), out[3])
        self.assertIn("subscriber %d from 192.0.2.5" % ivanov, out[4])
        self.assertIn("no audit rows match",
                      self.ok("audit", "--action", "no_such_event").stdout)
        # Every reading is itself in the log, with its filter and the cabinet it was about.
        reads = self.sql("SELECT user_id, detail FROM audit_log WHERE event = 'admin_audit' "
                         "ORDER BY id")
        self.assertIn((str(ivanov), "user"), reads)
        self.assertIn((None, "since 86400s, action login_fail"), reads)

    def test_audit_bad_arguments(self):
        for bad in ("yesterday", "30x", "0", "1.5h", "", "7 d"):
            r = self.admin("audit", "--since", bad)
            self.assertEqual(r.returncode, 2, "%r: %s %s" % (bad, r.stdout, r.stderr))
            self.assertIn("--since", r.stderr)
            self.assertIn("like 30m, 24h or 7d", r.stderr)
            self.assertEqual(r.stdout, "")
        r = self.admin("--json", "audit", "--since", "soon")
        self.assertEqual(r.returncode, 2)
        self.assertIn("not a duration", json.loads(r.stdout)["error"])
        r = self.admin("audit", "--user", "not-an-email")
        self.assertEqual(r.returncode, 2, r.stderr)
        r = self.admin("audit", "--user", "nobody@example.org")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("no cabinet with e-mail nobody@example.org", r.stderr)
        self.assertNotIn("admin_audit", self.audit_events())  # refused readings are not rows


class AdminSqlite(AdminCliTests, unittest.TestCase):
    pass


class AdminMysql(AdminCliTests, unittest.TestCase):
    """The same tests on MariaDB (+ Redis sessions when LKK_TEST_REDIS_URL is set)."""

    backend = "mysql"

    def setUp(self):
        require_servers("LKK_TEST_MYSQL_URL")
        self.db_name = None
        super().setUp()

    def _mariadb(self, *args, db=None):
        u = urllib.parse.urlparse(os.environ["LKK_TEST_MYSQL_URL"])
        cmd = ["mariadb", "-h", u.hostname, "-P", str(u.port), "-u", u.username,
               "-p" + u.password, "-N", "-B"] + ([db] if db else []) + list(args)
        return subprocess.run(cmd, capture_output=True, text=True, check=True)

    def storage_url(self):
        u = urllib.parse.urlparse(os.environ["LKK_TEST_MYSQL_URL"])
        self.db_name = "lkk_admin_" + secrets.token_hex(4)
        self._mariadb("-e", "CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                      % self.db_name)
        return "mysql://%s:%s@%s:%d/%s" % (u.username, u.password, u.hostname, u.port,
                                           self.db_name)

    def sessions_url(self):
        return os.environ.get("LKK_TEST_REDIS_URL") or "storage"

    def drop_database(self):
        if self.db_name:
            self._mariadb("-e", "DROP DATABASE IF EXISTS %s" % self.db_name)

    def sql(self, query, params=()):
        q = query
        for p in params:
            q = q.replace("?", "NULL" if p is None else "'%s'" % str(p).replace("'", "''"), 1)
        out = self._mariadb("-e", q, db=self.db_name).stdout
        return [tuple(None if c == "NULL" else c for c in line.split("\t"))
                for line in out.splitlines()]


def path_of(url):
    u = urllib.parse.urlparse(url)
    return u.path + ("?" + u.query if u.query else "")


class AdminOnPortal(PortalTestCase):
    """Support operations act on a running portal at once."""

    def link(self, b, office, account, surname, amount):
        page = b.get("accounts/link")
        return b.post("accounts/link", {"office": office, "account": account,
                                        "surname": surname, "amount": amount,
                                        "csrf": page.csrf()})

    def test_cp1251_import_links_when_subscriber_types_elkina(self):
        path = os.path.join(self.portal.dir, "win.csv")
        with open(path, "wb") as f:
            f.write((HEADER + "SIM;700701;Ёлкина;0;;ул. Гоголя, 2;\n").encode("cp1251"))
        self.portal.admin("billing", "import", path, "--encoding", "cp1251")
        b = self.register_confirmed("elkina@example.org")
        r = self.link(b, "SIM", "700701", "елкина", "0")
        self.assertIn(r.status, (200, 303), r.text)
        self.assertIn("700701", b.get("accounts").text)
        # ... and the account now keeps its office from being removed.
        refused = self.portal.admin("offices", "remove", "SIM", check=False)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("--force", refused.stderr)

    def test_logout_block_unblock_delete_act_at_once(self):
        b = self.register_confirmed("support@example.org", "secret12")
        self.assertEqual(b.get("accounts").status, 200)
        self.portal.admin("users", "logout", "support@example.org")
        r = b.get("accounts")
        self.assertEqual(r.status, 303)  # the next request is logged out
        self.assertTrue(r.header("location").endswith("/lkk/"))

        self.portal.admin("users", "block", "support@example.org")
        fresh = self.portal.browser()
        r = fresh.form("", "login", {"email": "support@example.org", "password": "secret12"})
        self.assertNotEqual(r.status, 303)
        self.portal.admin("users", "unblock", "support@example.org")
        r = fresh.form("", "login", {"email": "support@example.org", "password": "secret12"})
        self.assertEqual(r.status, 303, r.text)

        self.portal.admin("users", "delete", "support@example.org")
        self.assertEqual(fresh.get("accounts").status, 303)
        r = self.portal.browser().form("", "login", {"email": "support@example.org",
                                                     "password": "secret12"})
        self.assertNotEqual(r.status, 303)
        self.assertEqual(self.portal.sql("SELECT count(*) FROM users WHERE email = ?",
                                         ("support@example.org",)), [("0",)])

    def test_users_show_names_the_os_user_and_host_of_a_block(self):
        b = self.register_confirmed("actor@example.org", "secret12")
        self.assertEqual(b.get("accounts").status, 200)
        uid = int(self.portal.sql("SELECT id FROM users WHERE email = ?",
                                  ("actor@example.org",))[0][0])
        self.portal.admin("users", "block", "actor@example.org")
        me, host = os_user(), socket.gethostname()

        shown = json.loads(self.portal.admin("--json", "users", "show",
                                             "actor@example.org").stdout)
        self.assertEqual(shown["status"], "blocked")
        by_event = {}
        for e in shown["audit"]:
            by_event.setdefault(e["event"], e)
        block = by_event["admin_block"]["actor"]
        self.assertEqual((block["kind"], block["os_user"], block["host"]), ("tool", me, host))
        self.assertEqual(block["text"], "lkk-admin by %s@%s" % (me, host))
        # What the subscriber did through nginx names the subscriber and the client's IP.
        for event in ("register", "confirm", "login_ok"):
            actor = by_event[event]["actor"]
            self.assertEqual((actor["kind"], actor["user_id"], actor["ip"]),
                             ("subscriber", uid, "127.0.0.1"), event)

        human = self.portal.admin("users", "show", "actor@example.org").stdout
        audit = human[human.index("recent audit events:"):].splitlines()
        self.assertRegex(audit[1], r"AT \(UTC\)\s+EVENT\s+BY\s+DETAIL")
        block_line = [l for l in audit if " admin_block " in l]
        self.assertEqual(len(block_line), 1, human)
        self.assertIn("lkk-admin by %s@%s" % (me, host), block_line[0])
        login_line = [l for l in audit if " login_ok " in l]
        self.assertIn("subscriber %d from 127.0.0.1" % uid, login_line[0])

    def test_unlock_lifts_the_login_lock(self):
        self.register_confirmed("locked@example.org", "secret12")
        b = self.portal.browser()
        for _ in range(6):
            b.form("", "login", {"email": "locked@example.org", "password": "wrong-pass"})
        r = b.form("", "login", {"email": "locked@example.org", "password": "secret12"})
        self.assertEqual(r.status, 429, r.text)
        shown = json.loads(self.portal.admin("--json", "users", "show",
                                             "locked@example.org").stdout)
        self.assertTrue(shown["locks"]["login_locked"])
        self.portal.admin("users", "unlock", "locked@example.org")
        r = b.form("", "login", {"email": "locked@example.org", "password": "secret12"})
        self.assertEqual(r.status, 303, r.text)

    def test_printed_reset_link_works_once(self):
        self.register_confirmed("printed@example.org", "secret12")
        link = self.portal.admin("users", "reset-password", "printed@example.org",
                                 "--print-link").stdout.strip()
        path = path_of(link)
        token = urllib.parse.parse_qs(urllib.parse.urlparse(link).query)["token"][0]
        b = self.portal.browser()
        page = b.get(path)
        self.assertEqual(page.status, 200, page.text)
        fields = {"token": token, "password": "brandnew1", "password_confirm": "brandnew1",
                  "csrf": page.csrf()}
        r = b.post("password/reset?token=" + token, fields)
        self.assertIn(r.status, (200, 303), r.text)
        again = b.post("password/reset?token=" + token, dict(fields, password="other1234",
                                                             password_confirm="other1234"))
        self.assertEqual(again.status, 400)
        r = self.portal.browser().form("", "login", {"email": "printed@example.org",
                                                     "password": "brandnew1"})
        self.assertEqual(r.status, 303, r.text)


class AdminOnPortalMariadbRedis(AdminOnPortal):
    """The same, with the portal on MariaDB + Redis (scripts/services.sh)."""

    portal_kwargs = {"backend": "mysql"}

    @classmethod
    def setUpClass(cls):
        require_servers("LKK_TEST_MYSQL_URL", "LKK_TEST_REDIS_URL")
        super().setUpClass()


if __name__ == "__main__":
    unittest.main()
