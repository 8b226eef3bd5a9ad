"""The subscriber flow of SPEC sections 2-5 through the real nginx, module, database and SMTP."""

import re
import threading
import time
import unittest
import urllib.parse

from harness import Portal, PortalTestCase, mail_link, mail_text, post_all_at_once


def secrets_like(i):
    """A cookie value of about 110 characters, as analytics scripts write them."""
    return ("%04d" % i) * 27


def path_of(url):
    u = urllib.parse.urlparse(url)
    return u.path + ("?" + u.query if u.query else "")


class SubscriberFlow(PortalTestCase):

    def test_register_confirm_login_link_registry_logout(self):
        b = self.portal.browser()
        start = b.get("/lkk/")
        self.assertEqual(start.status, 200)
        self.assertIn("help-lkk@example.org", start.text)  # the support e-mail on every page
        for h, v in (("x-frame-options", "DENY"), ("referrer-policy", "no-referrer")):
            self.assertEqual(start.header(h), v)
        self.assertIn("default-src", start.header("content-security-policy"))
        self.assertIn("no-store", start.header("cache-control"))

        page = b.get("register")
        self.assertIn("Зарегистрироваться", page.text)
        r = b.post("register", {"email": "Flow.User@Example.ORG", "password": "qwerty12",
                                "password_confirm": "qwerty12", "consent": "1",
                                "csrf": page.csrf()})
        self.assertEqual(r.status, 200, r.text)
        self.assertIn("спам", r.text.lower())  # "check the inbox and the spam folder"
        self.assertIn("confirm/resend", r.text)  # offers to send the link again

        msg = self.portal.sink.wait_for(1, to="flow.user@example.org")[0]
        link = mail_link(msg, "/confirm?token=")
        self.assertTrue(link.startswith("http://127.0.0.1:%d/lkk/confirm?token=" % self.portal.port))
        # consent stored with version, time, IP and user agent
        rows = self.portal.sql("SELECT c.document_version, c.ip, c.user_agent FROM consents c "
                               "JOIN users u ON u.id = c.user_id WHERE u.email = ?",
                               ("flow.user@example.org",))
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0][1], "127.0.0.1")
        self.assertIn("lkk tests", rows[0][2])

        # A mail scanner opens the link first; the person opens it again: both succeed.
        scanner = self.portal.browser()
        first = scanner.get(path_of(link))
        second = b.get(path_of(link))
        for r in (first, second):
            self.assertEqual(r.status, 200, r.text)
            self.assertIn("успешно", r.text)
            self.assertNotIn("недействительн", r.text)

        r = b.form("", "login", {"email": "flow.user@example.org", "password": "qwerty12"})
        self.assertEqual(r.status, 303, r.text)
        self.assertTrue(r.header("location").endswith("/lkk/accounts"))
        cookie = [c for c in r.all("set-cookie") if c.startswith("lkk_session=")][0]
        for flag in ("HttpOnly", "SameSite=Lax", "Path=/lkk"):
            self.assertIn(flag.lower(), cookie.lower())
        self.assertEqual(b.get("/lkk/").status, 303)  # logged in -> the registry

        registry = b.get("accounts")
        self.assertEqual(registry.status, 200)
        self.assertNotIn("100200", registry.text)

        page = b.get("accounts/link")
        self.assertIn("Симферопольское УЭГХ", page.text)
        r = b.post("accounts/link", {"office": "SIM", "account": "100 200",
                                     "surname": "Иванов Иван Иванович", "amount": "1 234,50",
                                     "csrf": page.csrf()})
        self.assertIn(r.status, (200, 303), r.text)
        registry = b.get("accounts")
        self.assertIn("100200", registry.text)
        self.assertIn("Симферопольское УЭГХ", registry.text)
        self.assertEqual(len(self.portal.sql(
            "SELECT l.id FROM links l JOIN users u ON u.id = l.user_id WHERE u.email = ?",
            ("flow.user@example.org",))), 1)

        # Linking the same account again says so.
        page = b.get("accounts/link")
        r = b.post("accounts/link", {"office": "SIM", "account": "100200", "surname": "иванов",
                                     "amount": "1234.5", "csrf": page.csrf()})
        self.assertIn("уже", r.text)

        r = b.post("logout", {"csrf": registry.csrf()})
        self.assertEqual(r.status, 303)
        after = b.get("accounts")
        self.assertEqual(after.status, 303)
        self.assertTrue(after.header("location").endswith("/lkk/"))

        events = {row[0] for row in self.portal.sql("SELECT event FROM audit_log")}
        for e in ("register", "confirm", "login_ok", "link_ok"):
            self.assertIn(e, events)

    def test_mismatch_shows_office_phones_and_throttles(self):
        b = self.register_confirmed("mismatch@example.org")

        def attempt(surname, amount):
            page = b.get("accounts/link")
            return b.post("accounts/link", {"office": "SIM", "account": "100299",
                                            "surname": surname, "amount": amount,
                                            "csrf": page.csrf()})

        wrong_surname = attempt("Петров", "10,00")
        wrong_amount = attempt("Кузнецов", "1000")
        for r in (wrong_surname, wrong_amount):
            self.assertNotEqual(r.status, 500)
            self.assertIn("+7 (3652) 11-22-33", r.text)
            self.assertIn("бухгалтер", r.text)
        # The answer never tells which field was wrong: with the typed values blanked out,
        # the two pages are the same.
        blank = lambda r, vals: re.sub("|".join(map(re.escape, vals)), "", r.text)
        self.assertEqual(blank(wrong_surname, ["Петров", "10,00"]),
                         blank(wrong_amount, ["Кузнецов", "1000"]))
        for i in range(3):
            self.assertNotEqual(attempt("Никто", "1").status, 429)
        throttled = attempt("Никто", "1")  # the sixth failure within the hour
        self.assertEqual(throttled.status, 429, throttled.text)
        self.assertIn("+7 (3652) 11-22-33", throttled.text)
        self.assertEqual(self.portal.sql(
            "SELECT count(*) FROM links l JOIN users u ON u.id = l.user_id WHERE u.email = ?",
            ("mismatch@example.org",))[0][0], "0")

    def test_zero_amount_only_when_nothing_paid_this_year(self):
        b = self.register_confirmed("zero@example.org")

        def link(account, amount, surname):
            page = b.get("accounts/link")
            return b.post("accounts/link", {"office": "SIM", "account": account,
                                            "surname": surname, "amount": amount,
                                            "csrf": page.csrf()})

        self.assertIn("+7 (3652) 11-22-33", link("100200", "0", "Иванов").text)  # paid this year
        link("100201", "0", "елкина")  # never paid
        link("100202", "0,00", "Петрова—Водкина")  # paid last year; em dash typed
        registry = b.get("accounts").text
        self.assertIn("100201", registry)
        self.assertIn("100202", registry)
        self.assertNotIn("100200", registry)

    def test_amount_form_errors_are_not_mismatches(self):
        b = self.register_confirmed("formerr@example.org")
        for bad in ("-5", "12,345", "1.2.3", "", "abc"):
            page = b.get("accounts/link")
            r = b.post("accounts/link", {"office": "SIM", "account": "100200",
                                         "surname": "Иванов", "amount": bad,
                                         "csrf": page.csrf()})
            self.assertEqual(r.status, 400, bad)
            self.assertNotIn("11-22-33", r.text, bad)
        self.assertEqual(self.portal.sql(
            "SELECT count(*) FROM audit_log WHERE event = 'link_fail'")[0][0], "0")

    def test_post_without_csrf_is_403_and_changes_nothing(self):
        b = self.portal.browser()
        b.get("register")
        r = b.post("register", {"email": "nocsrf@example.org", "password": "qwerty12",
                                "password_confirm": "qwerty12", "consent": "1"})
        self.assertEqual(r.status, 403)
        r = b.post("register", {"email": "nocsrf@example.org", "password": "qwerty12",
                                "password_confirm": "qwerty12", "consent": "1",
                                "csrf": "forged"})
        self.assertEqual(r.status, 403)
        self.assertEqual(self.portal.sql("SELECT count(*) FROM users WHERE email = ?",
                                         ("nocsrf@example.org",))[0][0], "0")
        logged = self.register_confirmed("csrf2@example.org")
        self.assertEqual(logged.post("logout", {}).status, 403)
        self.assertEqual(logged.get("accounts").status, 200)  # still logged in

    def test_no_enumeration_on_register_and_forgot(self):
        self.register_confirmed("known@example.org")
        b = self.portal.browser()
        b.get("register")

        def reg(addr):
            page = b.get("register")
            return b.post("register", {"email": addr, "password": "qwerty12",
                                       "password_confirm": "qwerty12", "consent": "1",
                                       "csrf": page.csrf()})

        known, unknown = reg("known@example.org"), reg("unknown-reg@example.org")
        self.assertEqual(known.status, unknown.status)
        self.assertEqual(known.raw, unknown.raw)

        def forgot(addr):
            page = b.get("password/forgot")
            return b.post("password/forgot", {"email": addr, "csrf": page.csrf()})

        known, unknown = forgot("known@example.org"), forgot("nobody@example.org")
        self.assertEqual(known.status, 200)
        self.assertEqual(known.raw, unknown.raw)
        # The owner got a "you already have a cabinet" mail and a reset mail, nothing else.
        mails = self.portal.sink.wait_for(3, to="known@example.org")
        self.assertEqual(len(mails), 3)
        self.assertIn("/password/reset?token=", mail_text(mails[-1]))

    def test_portal_cookies_are_found_among_60_host_site_cookies(self):
        """A 7 KB Cookie header of 60 cookies (a host site's analytics): the form POST still
        passes its CSRF check and the logged-in page still knows the subscriber."""
        def analytics(first, last):
            return {"_ga_%04d" % i: "GS1.1." + secrets_like(i) for i in range(first, last)}

        self.register_confirmed("cookies@example.org", "cookie123")
        b = self.portal.browser()
        b.cookies.update(analytics(0, 30))
        page = b.get("")  # sets the portal's CSRF cookie: it lands among the others
        b.cookies.update(analytics(30, 60))
        header = "; ".join("%s=%s" % kv for kv in b.cookies.items())
        self.assertGreater(len(header), 7000)
        self.assertLess(len(header), 8000)  # fits nginx's default 8k header buffers
        self.assertEqual(len(b.cookies), 61)
        r = b.post("login", {"email": "cookies@example.org", "password": "cookie123",
                             "csrf": page.csrf()})
        self.assertEqual(r.status, 303, r.text[:500])  # not 403 "Форма устарела"
        self.assertEqual(r.header("location"), "/lkk/accounts")
        # The session cookie now comes after 60 others.
        self.assertEqual(list(b.cookies)[-1], "lkk_session")
        r = b.get("accounts")
        self.assertEqual(r.status, 200)
        self.assertIn('action="/lkk/logout"', r.text)  # logged in, not sent to the start
        page = b.get("accounts/link")
        r = b.post("accounts/link", {"office": "SIM", "account": "100200", "surname": "Иванов",
                                     "amount": "1234,50", "csrf": page.csrf()})
        self.assertIn(r.status, (200, 303), r.text[:500])
        self.assertIn("100200", b.get("accounts").text)

    def test_login_says_only_wrong_email_or_password(self):
        self.register_confirmed("login@example.org", "rightpw1")
        b = self.portal.browser()
        bad_pw = b.form("", "login", {"email": "login@example.org", "password": "wrongpw1"})
        no_user = b.form("", "login", {"email": "ghost@example.org", "password": "wrongpw1"})
        self.assertEqual(bad_pw.status, no_user.status)
        self.assertNotEqual(bad_pw.status, 303)
        for r in (bad_pw, no_user):
            self.assertIn("Неверный адрес электронной почты или пароль", r.text)

    def test_password_reset_link_single_use_and_get_does_not_consume(self):
        self.register_confirmed("reset@example.org", "oldpass1")
        b = self.portal.browser()
        b.form("password/forgot", "password/forgot", {"email": "reset@example.org"})
        msg = self.portal.sink.wait_for(2, to="reset@example.org")[-1]
        link = path_of(mail_link(msg, "/password/reset?token="))
        token = urllib.parse.parse_qs(urllib.parse.urlparse(link).query)["token"][0]
        self.assertEqual(b.get(link).status, 200)  # a scanner's GET
        page = b.get(link)
        self.assertEqual(page.status, 200)
        r = b.post("password/reset?token=" + token,
                   {"token": token, "password": "newpass1", "password_confirm": "newpass1",
                    "csrf": page.csrf()})
        self.assertIn(r.status, (200, 303), r.text)
        again = b.get(link)
        self.assertEqual(again.status, 400)
        r = b.post("password/reset?token=" + token,
                   {"token": token, "password": "other123", "password_confirm": "other123",
                    "csrf": page.csrf()})
        self.assertEqual(r.status, 400)
        self.assertEqual(b.form("", "login", {"email": "reset@example.org",
                                              "password": "newpass1"}).status, 303)

    def test_body_over_16k_is_413(self):
        b = self.portal.browser()
        page = b.get("register")
        r = b.post("register", {"email": "big@example.org", "password": "x" * 17000,
                                "password_confirm": "x", "consent": "1", "csrf": page.csrf()})
        self.assertEqual(r.status, 413)
        self.assertEqual(self.portal.sql("SELECT count(*) FROM users WHERE email = ?",
                                         ("big@example.org",))[0][0], "0")

    def test_invalid_utf8_and_control_characters_are_form_errors(self):
        b = self.portal.browser()
        for raw in (b"email=%C3%28%40example.org", b"email=a%01b%40example.org"):
            page = b.get("register")
            body = raw + b"&password=qwerty12&password_confirm=qwerty12&consent=1&csrf=" + \
                page.csrf().encode()
            r = b.post("register", body)
            self.assertEqual(r.status, 400, raw)
        self.assertEqual(self.portal.sql("SELECT count(*) FROM users WHERE email LIKE '%b@%'"),
                         [("0",)])

    def test_script_typed_into_fields_comes_back_escaped(self):
        b = self.portal.browser()
        page = b.get("register")
        r = b.post("register", {"email": "<script>alert(1)</script>", "password": "qwerty12",
                                "password_confirm": "qwerty12", "consent": "1",
                                "csrf": page.csrf()})
        self.assertEqual(r.status, 400)
        self.assertNotIn("<script>alert(1)</script>", r.text)
        self.assertIn("&lt;script&gt;", r.text)
        logged = self.register_confirmed("xss@example.org")
        page = logged.get("accounts/link")
        r = logged.post("accounts/link", {"office": "SIM", "account": "100200",
                                          "surname": "<script>x</script>", "amount": "1",
                                          "csrf": page.csrf()})
        self.assertNotIn("<script>x</script>", r.text)

    def test_help_consent_healthz_and_cyrillic_password_hint(self):
        b = self.portal.browser()
        self.assertIn("help-lkk@example.org", b.get("help").text)
        consent = b.get("consent")
        self.assertEqual(consent.status, 200)
        self.assertIn("персональных данных", consent.text)
        self.assertEqual(b.get("healthz").status, 200)
        page = b.get("register")
        r = b.post("register", {"email": "cyr@example.org", "password": "пароль12",
                                "password_confirm": "пароль12", "consent": "1",
                                "csrf": page.csrf()})
        self.assertEqual(r.status, 400)
        self.assertIn("английск", r.text)

    def test_json_api_login_me_accounts(self):
        self.register_confirmed("api@example.org", "apipass1")
        b = self.portal.browser()
        r = b.api("POST", "login", {"email": "api@example.org", "password": "apipass1"})
        self.assertEqual(r.status, 200, r.text)
        csrf = r.json()["csrf"]
        me = b.api("GET", "me")
        self.assertEqual(me.json()["email"], "api@example.org")
        r = b.api("POST", "accounts", {"office": "KRC", "account": "300-400",
                                       "surname": "СИДОРОВ", "amount": "99,99"},
                  headers={"X-CSRF-Token": csrf})
        self.assertIn(r.status, (200, 201), r.text)
        accounts = b.api("GET", "accounts").json()
        self.assertIn("300400", str(accounts))
        bad = b.api("POST", "accounts", {"office": "KRC", "account": "300400",
                                         "surname": "x", "amount": "-1"},
                    headers={"X-CSRF-Token": csrf})
        self.assertEqual(bad.status, 400)
        self.assertEqual(bad.header("content-type").split(";")[0], "application/problem+json")
        self.assertEqual(b.request("POST", "/lkk/api/v1/login", body=b"email=a",
                                   headers={"Content-Type": "application/x-www-form-urlencoded"}
                                   ).status, 415)


class MailOutage(PortalTestCase):
    """The SMTP server is down during a registration, comes back, and the mail arrives once."""

    def test_mail_survives_smtp_outage(self):
        sink = self.portal.sink
        sink.stop()
        b = self.portal.browser()
        r = b.form("register", "register", {"email": "outage@example.org",
                                            "password": "qwerty12", "password_confirm": "qwerty12",
                                            "consent": "1"})
        self.assertEqual(r.status, 200)
        time.sleep(3)  # several delivery rounds fail while the server is down
        rows = self.portal.sql("SELECT attempts, state FROM outbox WHERE recipient = ?",
                               ("outage@example.org",))
        self.assertEqual(len(rows), 1)
        self.assertGreaterEqual(int(rows[0][0]), 1)
        sink.start()  # same port
        self.portal.sql("UPDATE outbox SET next_attempt_at = 0 WHERE recipient = ?",
                        ("outage@example.org",))  # skip the back-off wait
        mails = sink.wait_for(1, to="outage@example.org", timeout=30)
        time.sleep(2)
        self.assertEqual(len([m for m in sink.messages() if "outage@" in str(m["To"])]), 1)
        self.assertEqual(self.portal.sql("SELECT state FROM outbox WHERE recipient = ?",
                                         ("outage@example.org",)), [("sent",)])
        self.assertIn("/confirm?token=", mail_text(mails[0]))


class BusyPool(PortalTestCase):
    """Slow requests occupy the thread pool; the event loop still serves static files."""

    portal_kwargs = {"threads": 2, "settings": {"passwords": {"argon2_memory_kib": 65536,
                                                              "argon2_iterations": 3}}}

    def test_static_file_served_while_pool_busy(self):
        results, static = [], []

        def slow_logins():
            b = self.portal.browser()
            for _ in range(4):
                r = b.form("", "login", {"email": "busy@example.org", "password": "x" * 20})
                results.append(r.status)

        threads = [threading.Thread(target=slow_logins) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        while any(t.is_alive() for t in threads):
            r = self.portal.browser().get("/static.txt")
            static.append((r.status, r.text))
            time.sleep(0.05)
        for t in threads:
            t.join()
        self.assertTrue(static, "the logins finished before any static request was made")
        self.assertTrue(all(s == (200, "static ok\n") for s in static), static[:3])
        self.assertEqual(len(results), 16)
        self.assertTrue(all(s in (200, 400, 401, 429) for s in results), results)



class PreRegistration(PortalTestCase):
    """SPEC 4: nobody can pre-register someone else's address (issue 8, part 1)."""

    def register(self, browser, addr, password):
        page = browser.get("register")
        return browser.post("register", {"email": addr, "password": password,
                                         "password_confirm": password, "consent": "1",
                                         "csrf": page.csrf()})

    def test_the_newest_registration_of_a_pending_email_wins(self):
        addr = "victim@example.org"
        attacker, victim = self.portal.browser(), self.portal.browser()
        self.assertEqual(self.register(attacker, addr, "attacker1").status, 200)
        self.portal.sink.wait_for(1, to=addr)
        taken = self.register(victim, addr, "victim222")
        fresh = self.register(victim, "nobody-yet@example.org", "victim222")
        self.assertEqual(taken.status, 200)
        self.assertEqual(taken.raw, fresh.raw)  # byte for byte the answer to a new e-mail
        mails = self.portal.sink.wait_for(2, to=addr)
        self.assertEqual(len(mails), 2)
        old_link = path_of(mail_link(mails[0], "/confirm?token="))
        new_link = path_of(mail_link(mails[1], "/confirm?token="))
        self.assertNotEqual(old_link, new_link)

        # The attacker's link: not a confirmation, and a page that says why and offers a resend.
        r = attacker.get(old_link)
        self.assertEqual(r.status, 410, r.text)
        self.assertIn("Эта ссылка заменена новой", r.text)
        self.assertIn('action="/lkk/confirm/resend"', r.text)
        self.assertEqual(self.portal.sql("SELECT status FROM users WHERE email = ?", (addr,)),
                         [("pending",)])

        r = victim.get(new_link)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(self.portal.sql("SELECT status FROM users WHERE email = ?", (addr,)),
                         [("active",)])
        fresh_browser = self.portal.browser()
        self.assertEqual(fresh_browser.form("", "login", {"email": addr,
                                                          "password": "attacker1"}).status, 400)
        self.assertEqual(fresh_browser.form("", "login", {"email": addr,
                                                          "password": "victim222"}).status, 303)
        self.assertEqual(attacker.get(old_link).status, 410)  # and it stays replaced

    def test_over_the_mail_budget_links_are_still_replaced(self):
        addr = "budget@example.org"
        b = self.portal.browser()
        for i in range(4):  # the creation, then resend_per_email = 3 fresh links
            self.assertEqual(self.register(b, addr, "first%03d" % i).status, 200)
        mails = self.portal.sink.wait_for(4, to=addr)
        over = self.register(b, addr, "newest99")
        self.assertEqual(over.status, 200)
        self.assertEqual(over.raw, self.register(b, "budget-new@example.org", "newest99").raw)
        time.sleep(2.5)  # two delivery rounds: nothing more goes out
        self.assertEqual(len([m for m in self.portal.sink.messages() if addr in str(m["To"])]),
                         4)
        for m in mails:
            self.assertEqual(b.get(path_of(mail_link(m, "/confirm?token="))).status, 410)
        # The newest password is the cabinet's (not confirmed yet); the one before is wrong.
        login = self.portal.browser()
        self.assertEqual(login.form("", "login", {"email": addr, "password": "newest99"}).status,
                         403)
        self.assertEqual(login.form("", "login", {"email": addr, "password": "first003"}).status,
                         400)

    def test_50_parallel_registrations_of_one_email_make_one_user_and_no_5xx(self):
        addr = "parallel@example.org"
        forms = []
        for _ in range(50):
            b = self.portal.browser()
            forms.append((b, b.get("register").csrf()))
        results = post_all_at_once(forms, "register", {
            "email": addr, "password": "same1234", "password_confirm": "same1234", "consent": "1"})
        self.assertEqual([s for s, _ in results], [200] * len(forms),
                         [t[:300] for s, t in results if s != 200][:3])
        self.assertEqual(self.portal.sql("SELECT count(*) FROM users WHERE email = ?", (addr,)),
                         [("1",)])
        queued = int(self.portal.sql("SELECT count(*) FROM outbox WHERE recipient = ?",
                                     (addr,))[0][0])
        self.assertTrue(1 <= queued <= 4, queued)  # the creation + resend_per_email


class CabinetUpkeep(PortalTestCase):
    """Account details, unlink, password change, and a reset link that has expired."""

    portal_kwargs = {"settings": {"tokens": {"reset_ttl": "2s"}}}

    def test_details_unlink_and_password_change(self):
        b = self.register_confirmed("upkeep@example.org", "firstpw1")
        page = b.get("accounts/link")
        b.post("accounts/link", {"office": "SIM", "account": "100201", "surname": "ЕЛКИНА",
                                 "amount": "0", "csrf": page.csrf()})
        registry = b.get("accounts")
        link_id = re.search(r'href="/lkk/accounts/(\d+)"', registry.text).group(1)
        details = b.get("accounts/" + link_id)
        self.assertEqual(details.status, 200)
        self.assertIn("ул. Гоголя", details.text)  # the address billing provided
        self.assertIn("no-store", details.header("cache-control"))
        other = self.register_confirmed("other@example.org")
        self.assertEqual(other.get("accounts/" + link_id).status, 404)  # not theirs
        r = b.post("accounts/%s/unlink" % link_id, {"csrf": details.csrf()})
        self.assertIn(r.status, (200, 303), r.text)
        self.assertNotIn("100201", b.get("accounts").text)
        self.assertIn("unlink", {row[0] for row in self.portal.sql(
            "SELECT event FROM audit_log WHERE event = 'unlink'")})

        second = self.portal.browser()  # another device, logged in before the change
        self.assertEqual(second.form("", "login", {"email": "upkeep@example.org",
                                                   "password": "firstpw1"}).status, 303)
        page = b.get("password/change")
        r = b.post("password/change", {"old_password": "wrongpw1", "password": "secondpw2",
                                        "password_confirm": "secondpw2", "csrf": page.csrf()})
        self.assertEqual(r.status, 400)
        page = b.get("password/change")
        r = b.post("password/change", {"old_password": "firstpw1", "password": "secondpw2",
                                        "password_confirm": "secondpw2", "csrf": page.csrf()})
        self.assertIn(r.status, (200, 303), r.text)
        self.assertEqual(second.get("accounts").status, 303)  # the other session ended
        fresh = self.portal.browser()
        self.assertNotEqual(fresh.form("", "login", {"email": "upkeep@example.org",
                                                     "password": "firstpw1"}).status, 303)
        self.assertEqual(fresh.form("", "login", {"email": "upkeep@example.org",
                                                  "password": "secondpw2"}).status, 303)

    def test_unknown_account_id_is_404_with_no_error_line(self):
        b = self.register_confirmed("nolog@example.org")
        before = len(self.portal.error_log())
        self.assertEqual(b.get("accounts/987654").status, 404)
        written = self.portal.error_log()[before:]
        self.assertEqual([l for l in written.splitlines()
                          if re.search(r"\[(\w+:)?(error|crit|alert|emerg)\]", l)], [], written)
        # the core's line went through the server's logger, with its time and level
        self.assertRegex(written, self.portal.log_line_start("info") +
                         r"lkk: GET /lkk/accounts/987654: ")

    def test_expired_reset_link_is_refused(self):
        self.register_confirmed("expired@example.org", "oldpass1")
        b = self.portal.browser()
        b.form("password/forgot", "password/forgot", {"email": "expired@example.org"})
        msg = self.portal.sink.wait_for(2, to="expired@example.org")[-1]
        link = path_of(mail_link(msg, "/password/reset?token="))
        time.sleep(3)  # reset_ttl is 2 s here
        self.assertEqual(b.get(link).status, 400)
        self.assertEqual(b.form("", "login", {"email": "expired@example.org",
                                              "password": "oldpass1"}).status, 303)


if __name__ == "__main__":
    unittest.main()
