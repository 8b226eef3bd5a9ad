"""The monthly bill with the payment QR code (SPEC 10), through lkk-admin and the real nginx.

Runs on SQLite (py_test_bill) and on MariaDB + Redis (py_test_bill_mariadb_redis,
LKK_IT_BACKEND=mysql). Support staff set the office's requisites and import meters and a
month's statements; a subscriber opens the bill page, its PDF and the API. The QR codes are
read back the way a phone would: the PDF rendered to PNG (pdftoppm) and decoded (zbarimg),
and the HTML's SVG path drawn into a PNG here and decoded the same way.
"""

import datetime
import os
import re
import struct
import subprocess
import tempfile
import zlib
import zoneinfo

from harness import PortalTestCase

TZ = zoneinfo.ZoneInfo("Europe/Simferopol")

PAYEE = "АО «Газпром газораспределение Крым»"
BANK = "ПАО Сбербанк"
REQUISITES = ["--payee", PAYEE, "--inn", "7707083893", "--kpp", "773601001", "--bank", BANK,
              "--bic", "044525225", "--account", "40702810138250123017",
              "--corr-account", "30101810400000000225"]


STATEMENTS_HEADER = ("office;account;period;opening_balance;accrued;paid;closing_balance;"
                     "consumption;tariff\n")


def month_before(d, months):
    index = d.year * 12 + d.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, 1)


TODAY = datetime.datetime.now(TZ).date()
MONTH = month_before(TODAY, 1)
PERIOD = MONTH.strftime("%Y-%m")
PREVIOUS = month_before(TODAY, 2)


def payload(account, due_kopecks):
    fields = ["ST00012", "Name=" + PAYEE, "PersonalAcc=40702810138250123017", "BankName=" + BANK,
              "BIC=044525225", "CorrespAcc=30101810400000000225", "PayeeINN=7707083893",
              "KPP=773601001", "PersAcc=" + account]
    if due_kopecks > 0:
        fields.append("Sum=%d" % due_kopecks)
    fields.append("Purpose=Оплата за газ за %s, л/с %s" % (MONTH.strftime("%m.%Y"), account))
    return "|".join(fields)


def run(*args, **kwargs):
    return subprocess.run(args, check=True, capture_output=True, **kwargs)


def decode_png(path):
    """The QR code's text as zbarimg reads it (UTF-8, as banking apps read it)."""
    out = run("zbarimg", "--raw", "-q", path).stdout
    return out.decode("utf-8").rstrip("\n")


def decode_pdf(pdf_bytes, directory):
    pdf = os.path.join(directory, "bill.pdf")
    with open(pdf, "wb") as f:
        f.write(pdf_bytes)
    run("pdftoppm", "-r", "150", "-png", "-singlefile", pdf, os.path.join(directory, "page"))
    return decode_png(os.path.join(directory, "page.png"))


def svg_to_png(svg, path, scale=8):
    """Draws the QR code's SVG (one path of 'Mx yhNv1h-Nz' runs on a white square) into a
    grey-scale PNG, so zbarimg reads exactly what a browser shows."""
    side = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    d = re.search(r'<path fill="#000" d="([^"]*)"', svg).group(1)
    dark = [[False] * side for _ in range(side)]
    for x, y, n in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", d):
        for i in range(int(n)):
            dark[int(y)][int(x) + i] = True
    rows = []
    for y in range(side):
        line = bytes(0 if dark[y][x] else 255 for x in range(side) for _ in range(scale))
        rows.extend([b"\x00" + line] * scale)
    size = side * scale

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)


class BillStory(PortalTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        p = cls.portal
        p.admin("offices", "update", "SIM", *REQUISITES)

        def write(name, text):
            path = os.path.join(p.dir, name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            return path

        # The kitchen meter: the utility's reading of the month before, then the month's.
        header = "office;account;meter;last_reading;last_reading_date;name\n"
        p.admin("meters", "import", write("meters-1.csv", header +
                "SIM;100200;K-1;1000;%s;Кухня\n" % PREVIOUS.replace(day=25).isoformat()))
        p.admin("meters", "import", write("meters-2.csv", header +
                "SIM;100200;K-1;1012;%s;Кухня\n" % MONTH.replace(day=25).isoformat()))
        cls.statements = write("statements.csv", STATEMENTS_HEADER +
            "SIM;100200;%s;1 000,00;1234,56;1000;1234,56;12;7,25\n"
            "SIM;100201;%s;0;100,00;300,00;-200,00;;\n" % (PERIOD, PERIOD))
        p.admin("statements", "import", cls.statements)

    def test_bill_page_pdf_and_api_carry_the_same_payment(self):
        b = self.register_confirmed("bill@example.org")
        link_id = self.link(b)
        expected = payload("100200", 123456)

        # The printable page: requisites, figures, readings and the QR code as inline SVG.
        r = b.get("accounts/%d/bill/%s" % (link_id, PERIOD))
        self.assertEqual(r.status, 200, r.text)
        self.assertIn("text/html", r.header("content-type"))
        text = r.text.replace("\u00a0", " ")
        self.assertIn("Счёт за", text)
        self.assertIn(PAYEE, text)
        self.assertIn("7707083893 / 773601001", text)
        self.assertIn("100200", text)
        self.assertIn("Иванов", text)
        self.assertIn("1 234,56 ₽", text)
        self.assertIn("K-1 (Кухня)", text)
        self.assertIn("<td>1000</td><td>1012</td><td>12</td>", text)
        self.assertIn('<svg xmlns="http://www.w3.org/2000/svg" class="qr"', r.text)
        self.assertEqual(r.text.count("<path"), 1)
        self.assertNotIn("<script", r.text)
        self.assertIn("/bill/%s.pdf" % PERIOD, r.text)
        self.assertIn("default-src 'none'", r.header("content-security-policy"))
        svg = re.search(r"<svg .*?</svg>", r.text, re.S).group(0)

        # The API answers the exact payload.
        j = b.api("GET", "accounts/%d/bill/%s" % (link_id, PERIOD))
        self.assertEqual(j.status, 200, j.text)
        self.assertEqual(j.json()["qr_payload"], expected)
        self.assertEqual(j.json()["amount_due_kopecks"], 123456)
        self.assertEqual(j.json()["closing_balance"], "1234.56")

        # The PDF: application/pdf, a file name, Cyrillic text, embedded fonts, and a QR code
        # that decodes to the same payload.
        r = b.get("accounts/%d/bill/%s.pdf" % (link_id, PERIOD))
        self.assertEqual(r.status, 200, r.text[:300])
        self.assertEqual(r.header("content-type"), "application/pdf")
        self.assertEqual(r.header("content-disposition"),
                         'inline; filename="bill-100200-%s.pdf"' % PERIOD)
        self.assertTrue(r.raw.startswith(b"%PDF-"))
        with tempfile.TemporaryDirectory() as d:
            self.assertEqual(decode_pdf(r.raw, d), expected)
            pdf = os.path.join(d, "bill.pdf")
            words = run("pdftotext", "-layout", pdf, "-").stdout.decode("utf-8")
            self.assertIn(PAYEE, words)
            self.assertIn("100200", words)
            self.assertIn("Иванов", words)
            self.assertIn("Лицевой счёт", words)
            fonts = run("pdffonts", pdf).stdout.decode("utf-8").splitlines()[2:]
            self.assertTrue(fonts, "no fonts in the PDF")
            for line in fonts:
                self.assertIn("DejaVuSans", line)
                # columns: name type encoding emb sub uni object ID
                self.assertEqual(line.split()[-5:-3], ["yes", "yes"], line)
            # The HTML's QR code, drawn as the browser draws it, reads the same.
            png = os.path.join(d, "html-qr.png")
            svg_to_png(svg, png)
            self.assertEqual(decode_png(png), expected)

    def test_overpaid_month_has_no_sum(self):
        b = self.register_confirmed("overpaid@example.org")
        link_id = self.link(b, "100201", "Ёлкина", "0")
        j = b.api("GET", "accounts/%d/bill/%s" % (link_id, PERIOD))
        self.assertEqual(j.status, 200, j.text)
        self.assertEqual(j.json()["qr_payload"], payload("100201", 0))
        self.assertEqual(j.json()["amount_due_kopecks"], 0)
        r = b.get("accounts/%d/bill/%s.pdf" % (link_id, PERIOD))
        self.assertEqual(r.status, 200)
        with tempfile.TemporaryDirectory() as d:
            self.assertEqual(decode_pdf(r.raw, d), payload("100201", 0))

    def test_other_cabinets_unknown_and_malformed_months_are_404(self):
        owner = self.register_confirmed("owner@example.org")
        link_id = self.link(owner)
        other = self.register_confirmed("other@example.org")
        for path in ("accounts/%d/bill/%s" % (link_id, PERIOD),
                     "accounts/%d/bill/%s.pdf" % (link_id, PERIOD)):
            self.assertEqual(other.get(path).status, 404, path)
        self.assertEqual(other.api("GET", "accounts/%d/bill/%s" % (link_id, PERIOD)).status, 404)
        unknown = month_before(TODAY, 30).strftime("%Y-%m")
        for month in (unknown, "2026-13", "2026-1", "26-05", "2026-05x", "0000-01"):
            for suffix in ("", ".pdf"):
                r = owner.get("accounts/%d/bill/%s%s" % (link_id, month, suffix))
                self.assertEqual(r.status, 404, month + suffix)
        self.assertEqual(owner.api("GET", "accounts/%d/bill/%s" % (link_id, unknown)).status, 404)
        # Unlinked: the bill goes with the link.
        page = owner.get("accounts/%d" % link_id)
        r = owner.post("accounts/%d/unlink" % link_id, {"csrf": page.csrf()})
        self.assertEqual(r.status, 303, r.text)
        self.assertEqual(owner.get("accounts/%d/bill/%s" % (link_id, PERIOD)).status, 404)
        # Logged out: the start page, and 401 from the API.
        anonymous = self.portal.browser()
        r = anonymous.get("accounts/%d/bill/%s.pdf" % (link_id, PERIOD))
        self.assertEqual(r.status, 303)
        self.assertEqual(anonymous.api("GET", "accounts/%d/bill/%s" % (link_id, PERIOD)).status,
                         401)

    def test_reimport_changes_nothing_on_the_bill(self):
        b = self.register_confirmed("again@example.org")
        link_id = self.link(b)
        query = ("SELECT billing_account_id, period, opening_balance, accrued, paid, "
                 "closing_balance, consumption, tariff, imported_at FROM statements "
                 "ORDER BY billing_account_id, period")
        rows = self.portal.sql(query)
        before = b.api("GET", "accounts/%d/bill/%s" % (link_id, PERIOD)).json()
        pdf_before = b.get("accounts/%d/bill/%s.pdf" % (link_id, PERIOD))
        self.portal.admin("statements", "import", self.statements)
        self.assertEqual(self.portal.sql(query), rows)
        after = b.api("GET", "accounts/%d/bill/%s" % (link_id, PERIOD)).json()
        self.assertEqual(before, after)
        with tempfile.TemporaryDirectory() as d:
            self.assertEqual(decode_pdf(b.get("accounts/%d/bill/%s.pdf" % (link_id, PERIOD)).raw,
                                        d), decode_pdf(pdf_before.raw, d))

    def test_account_page_links_each_month_to_its_bill(self):
        b = self.register_confirmed("links@example.org")
        link_id = self.link(b)
        page = b.get("accounts/%d" % link_id)
        self.assertEqual(page.status, 200, page.text)
        self.assertIn('<a href="/lkk/accounts/%d/bill/%s" aria-label="Счёт за %s">счёт</a>'
                      % (link_id, PERIOD, MONTH.strftime("%m.%Y")), page.text)


if __name__ == "__main__":
    import unittest
    unittest.main()
