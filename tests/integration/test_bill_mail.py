"""The bill by mail (SPEC 10 and 11) through lkk-admin, two real nginx hosts and the SMTP sink.

Runs on SQLite (py_test_bill_mail: both hosts open the same file) and on MariaDB + Redis
(py_test_bill_mail_mariadb_redis, LKK_IT_BACKEND=mysql). A statements import of a new month
mails the bill with the PDF attached to the cabinets that ticked bill_by_email: once, even when
both hosts import the file at the same moment and it is imported again; the PDF is rendered by
the delivering host and read back like the bill's own (pdftoppm, zbarimg, pdftotext); the
RFC 8058 one-click unsubscribe turns the mail off.
"""

import os
import re
import secrets
import tempfile
import threading
import time

import test_bill as bill
from harness import TwoHostsTestCase, mail_text


class BillByMail(TwoHostsTestCase):
    """bill_by_email (SPEC 10, 11): a statements import of a new month mails the bill with the
    PDF attached, once per user, account and month even with two hosts importing at once and a
    re-import; the RFC 8058 one-click unsubscribe turns it off."""

    # Host B: its own nginx (two workers, its own outbox timers) and lkk-admin on A's
    # database and sessions.
    portal_kwargs = {"workers": 2}
    second_host_kwargs = portal_kwargs

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        a = cls.portal
        a.admin("offices", "update", "SIM", *bill.REQUISITES)
        # The month before: imported before anybody asked for bills by mail.
        a.admin("statements", "import", cls.write(
            "statements-old.csv", bill.STATEMENTS_HEADER + "SIM;100200;%s;0;500;500;0;;\n"
            % bill.PREVIOUS.strftime("%Y-%m")))

    @classmethod
    def write(cls, name, text):
        path = os.path.join(cls.portal.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def bills(self, addr):
        return [m for m in self.portal.sink.messages()
                if addr in str(m["To"]) and str(m["Subject"]).startswith("Счёт за ")]

    def wait_bill(self, addr, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.bills(addr)
            if got:
                return got
            time.sleep(0.1)
        self.fail("no bill reached the sink for %s" % addr)

    def choose_bills(self, b):
        page = b.get("settings")
        self.assertEqual(page.status, 200, page.text)
        r = b.post("settings", {"bill_by_email": "1", "csrf": page.csrf()})
        self.assertEqual(r.status, 303, r.text)

    def preference(self, addr):
        rows = self.portal.sql(
            "SELECT p.enabled FROM notification_preferences p JOIN users u ON u.id = p.user_id "
            "WHERE u.email = ? AND p.kind = 'bill'", (addr,))
        return str(rows[0][0]) if rows else None

    def test_new_month_mails_the_pdf_once_then_one_click_unsubscribe(self):
        p = self.portal
        addr = "bills-%s@example.org" % secrets.token_hex(3)
        b = self.register_confirmed(addr)
        self.link(b)
        self.choose_bills(b)
        quiet = "quiet-%s@example.org" % secrets.token_hex(3)
        q = self.register_confirmed(quiet)
        self.link(q, "100201", "Ёлкина", "0")  # bill_by_email stays off

        # The new month, imported on both hosts at the same moment.
        new = self.write("statements-new.csv", bill.STATEMENTS_HEADER +
                         "SIM;100200;%s;0;1234,56;0;1234,56;;\n"
                         "SIM;100201;%s;0;100;300;-200;;\n" % (bill.PERIOD, bill.PERIOD))
        outputs = []

        def run_import(host):
            outputs.append(host.admin("statements", "import", new).stdout)

        threads = [threading.Thread(target=run_import, args=(h,)) for h in (p, self.b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sum("mails queued: 1" in o for o in outputs), 1, outputs)

        msg = self.wait_bill(addr)[0]
        # Four outbox timers on two hosts, then a re-import: still one mail.
        r = p.admin("statements", "import", new)
        self.assertNotIn("mails queued", r.stdout)
        time.sleep(4)
        self.assertEqual(len(self.bills(addr)), 1)
        self.assertEqual(self.bills(quiet), [])
        rows = p.sql("SELECT s.kind, s.item_key, s.period FROM sent_notifications s "
                     "JOIN users u ON u.id = s.user_id WHERE u.email = ?", (addr,))
        self.assertEqual(rows, [("bill", "SIM/100200", bill.PERIOD)])

        # The mail: text with the bill's address, and the PDF attached.
        self.assertEqual(str(msg["Subject"]),
                         "Счёт за %s по лицевому счёту 100200" % bill.MONTH.strftime("%m.%Y"))
        self.assertIn("/lkk/accounts/", mail_text(msg))
        pdfs = [part for part in msg.iter_attachments()
                if part.get_content_type() == "application/pdf"]
        self.assertEqual(len(pdfs), 1, [part.get_content_type() for part in msg.walk()])
        self.assertEqual(pdfs[0].get_filename(), "bill-100200-%s.pdf" % bill.PERIOD)
        pdf = pdfs[0].get_content()
        self.assertTrue(pdf.startswith(b"%PDF-"))
        with tempfile.TemporaryDirectory() as d:
            self.assertEqual(bill.decode_pdf(pdf, d), bill.payload("100200", 123456))
            words = bill.run("pdftotext", os.path.join(d, "bill.pdf"), "-").stdout
            words = words.decode("utf-8")
            self.assertIn(bill.PAYEE, words)
            self.assertIn("100200", words)

        # RFC 8058 one-click unsubscribe, as for the reminders: bill_by_email is off.
        m = re.match(r"^<(http://127\.0\.0\.1:\d+(/lkk/unsubscribe)\?t=([A-Za-z0-9_-]{43}))>$",
                     str(msg["List-Unsubscribe"]))
        self.assertIsNotNone(m, msg["List-Unsubscribe"])
        self.assertEqual(str(msg["List-Unsubscribe-Post"]), "List-Unsubscribe=One-Click")
        self.assertIn(m.group(1), mail_text(msg))
        self.assertEqual(self.preference(addr), "1")
        r = self.b.browser().post(m.group(2) + "?t=" + m.group(3), "List-Unsubscribe=One-Click")
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(self.preference(addr), "0")

        # The month after: no mail for the unsubscribed cabinet.
        after = self.write("statements-next.csv", bill.STATEMENTS_HEADER +
                           "SIM;100200;%s;1234,56;500;0;1734,56;;\n"
                           % bill.TODAY.strftime("%Y-%m"))
        r = p.admin("statements", "import", after)
        self.assertNotIn("mails queued", r.stdout)
        time.sleep(3)
        self.assertEqual(len(self.bills(addr)), 1)


if __name__ == "__main__":
    import unittest
    unittest.main()
