// The web layer driven through Application::handle with HttpRequest structs, as the nginx
// glue would, against a real SQLite file and file: mail in a temporary directory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "lkk/app.h"
#include "lkk/clock.h"
#include "lkk/http_parse.h"
#include "lkk/metrics.h"
#include "lkk/rules.h"
#include "lkk/storage.h"
#include "temp_dir.h"

namespace lkk {
namespace {

namespace fs = std::filesystem;

using lkk::test::TempDir;

std::string header(const HttpResponse& r, const std::string& name) {
    for (const auto& [n, v] : r.headers) {
        if (n.size() == name.size() &&
            std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) ==
                       std::tolower(static_cast<unsigned char>(b));
            })) {
            return v;
        }
    }
    return {};
}

std::vector<std::string> set_cookies(const HttpResponse& r) {
    std::vector<std::string> out;
    for (const auto& [n, v] : r.headers) {
        if (n == "Set-Cookie") out.push_back(v);
    }
    return out;
}

std::string cookie_named(const HttpResponse& r, const std::string& name) {
    for (const std::string& c : set_cookies(r)) {
        if (c.rfind(name + "=", 0) == 0) return c;
    }
    return {};
}

std::string csrf_of(const HttpResponse& r) {
    std::smatch m;
    static const std::regex re(R"re(name="csrf" value="([^"]+)")re");
    if (!std::regex_search(r.body, m, re)) return {};
    return m[1];
}

std::string form_body(const std::map<std::string, std::string>& fields) {
    std::string body;
    for (const auto& [k, v] : fields) {
        if (!body.empty()) body += '&';
        body += http::url_encode(k) + "=" + http::url_encode(v);
    }
    return body;
}

// A cookie-keeping client that never follows redirects, like the integration harness.
class Browser {
  public:
    explicit Browser(Application& app) : app_(app) {}

    HttpResponse request(HttpRequest req) {
        if (req.host.empty()) req.host = "portal.test";
        if (req.remote_addr.empty()) req.remote_addr = "192.0.2.7";
        if (req.user_agent.empty()) req.user_agent = "Mozilla/5.0 (app_test)";
        std::string cookie;
        for (const auto& [k, v] : jar_) cookie += (cookie.empty() ? "" : "; ") + k + "=" + v;
        if (req.cookie.empty()) req.cookie = cookie;
        HttpResponse r = app_.handle(req);
        for (const std::string& c : set_cookies(r)) {
            const size_t eq = c.find('=');
            const std::string name = c.substr(0, eq);
            const std::string value = c.substr(eq + 1, c.find(';') - eq - 1);
            if (value.empty() || c.find("Max-Age=0") != std::string::npos) {
                jar_.erase(name);
            } else {
                jar_[name] = value;
            }
        }
        return r;
    }
    HttpResponse get(const std::string& target) {
        HttpRequest req;
        req.method = "GET";
        const size_t q = target.find('?');
        req.path = target.substr(0, q);
        if (q != std::string::npos) req.query = target.substr(q + 1);
        return request(req);
    }
    HttpResponse post(const std::string& path, const std::string& body,
                      const std::string& type = "application/x-www-form-urlencoded") {
        HttpRequest req;
        req.method = "POST";
        req.path = path;
        req.content_type = type;
        req.body = body;
        return request(req);
    }
    HttpResponse post(const std::string& path, const std::map<std::string, std::string>& fields) {
        return post(path, form_body(fields));
    }
    // GET the page with the form, then POST the fields with its CSRF token.
    HttpResponse form(const std::string& page, const std::string& action,
                      std::map<std::string, std::string> fields) {
        fields["csrf"] = csrf_of(get(page));
        return post(action, fields);
    }
    HttpResponse api(const std::string& method, const std::string& path,
                     const nlohmann::json& payload = nullptr, const std::string& csrf = {}) {
        HttpRequest req;
        req.method = method;
        req.path = "/lkk/api/v1/" + path;
        req.content_type = "application/json";
        if (!payload.is_null()) req.body = payload.dump();
        req.csrf_token = csrf;
        return request(req);
    }
    std::map<std::string, std::string>& jar() { return jar_; }

  private:
    Application& app_;
    std::map<std::string, std::string> jar_;
};

// A metrics block the process counts into while the test runs, and its request counts.
struct AttachedMetrics {
    AttachedMetrics() {
        EXPECT_TRUE(metrics::init(&block, sizeof block));
        metrics::attach(&block);
    }
    ~AttachedMetrics() { metrics::attach(nullptr); }
    AttachedMetrics(const AttachedMetrics&) = delete;
    AttachedMetrics& operator=(const AttachedMetrics&) = delete;

    uint64_t requests(metrics::Route route, int status) const {
        return block.requests[static_cast<size_t>(route)][metrics::status_slot(status)].load();
    }
    // Every answer of every route.
    uint64_t answered() const {
        uint64_t n = 0;
        for (const auto& route : block.requests) {
            for (const auto& c : route) n += c.load();
        }
        return n;
    }

    metrics::MetricsBlock block;
};

int current_year_utc() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return tm.tm_year + 1900;
}

class AppTest : public ::testing::Test {
  protected:
    void SetUp() override {
        db_url_ = "sqlite:" + dir_.path() + "/lkk.db";
        settings_.storage.url = db_url_;
        settings_.sessions.url = "storage";
        settings_.mail.url = "file:" + dir_.path() + "/mail";
        settings_.portal.base_url = "https://lkk.example.org";
        settings_.portal.support_email = "help@example.org";
        settings_.portal.time_zone = "UTC";
        settings_.passwords.argon2_memory_kib = 1024;
        settings_.passwords.argon2_iterations = 1;
        start();
    }

    void start() {
        app_.reset();
        auto app = create_application(settings_);
        ASSERT_TRUE(app.ok()) << app.error().message();
        app_ = std::move(app.value());
        auto storage = open_storage(db_url_);
        ASSERT_TRUE(storage.ok()) << storage.error().message();
        storage_ = std::move(storage.value());
    }

    // One office and billing accounts to link, inserted the way lkk-admin imports them.
    void add_billing() {
        ASSERT_TRUE(storage_
                        ->insert_office({"SIM", "Симферопольское УЭГХ", "+7 (3652) 11-22-33",
                                         "sim@example.org"})
                        .ok());
        BillingAccount a;
        a.office_code = "SIM";
        a.account_number = "100200";
        a.surname = "Иванов";
        a.surname_key = rules::normalize_surname("Иванов").value();
        a.last_payment = 123450;
        a.last_payment_date = std::to_string(current_year_utc()) + "-01-15";
        a.address = "ул. Ленина, 1";
        a.balance = -5000;
        ASSERT_TRUE(storage_->upsert_billing_account(a).ok());
    }

    // The token of the newest mail to `to` with a link to `route` ("/confirm", ...).
    std::string token_mailed_to(const std::string& to, const std::string& route = "/confirm") {
        auto mails = storage_->list_outbox(1000);
        EXPECT_TRUE(mails.ok());
        std::string token;
        int64_t newest = -1;
        const std::string marker = route + "?token=";
        for (const OutboxMail& m : mails.value()) {
            if (m.recipient != to || m.id < newest) continue;
            size_t at = m.body_text.find(marker);
            if (at == std::string::npos) continue;
            newest = m.id;
            at += marker.size() - 7;
            size_t end = at + 7;
            while (end < m.body_text.size() &&
                   (std::isalnum(static_cast<unsigned char>(m.body_text[end])) ||
                    m.body_text[end] == '-' || m.body_text[end] == '_')) {
                ++end;
            }
            token = m.body_text.substr(at + 7, end - at - 7);
        }
        return token;
    }

    // Registers, confirms and logs in; answers the logged-in browser.
    Browser logged_in(const std::string& email, const std::string& password = "secret12") {
        Browser b(*app_);
        HttpResponse r = b.form("/lkk/register", "/lkk/register",
                                {{"email", email},
                                 {"password", password},
                                 {"password_confirm", password},
                                 {"consent", "1"}});
        EXPECT_EQ(r.status, 200) << r.body;
        EXPECT_EQ(b.get("/lkk/confirm?token=" + token_mailed_to(email)).status, 200);
        r = b.form("/lkk/", "/lkk/login", {{"email", email}, {"password", password}});
        EXPECT_EQ(r.status, 303) << r.body;
        return b;
    }

    TempDir dir_;
    std::string db_url_;
    Settings settings_;
    std::unique_ptr<Application> app_;
    std::unique_ptr<Storage> storage_;
};

TEST_F(AppTest, SubscriberFlowFromRegistrationToLogout) {
    add_billing();
    Browser b(*app_);
    HttpResponse start = b.get("/lkk/");
    ASSERT_EQ(start.status, 200);
    EXPECT_NE(start.body.find("help@example.org"), std::string::npos);
    EXPECT_NE(start.body.find("/lkk/register"), std::string::npos);
    EXPECT_NE(start.body.find("/lkk/help"), std::string::npos);

    HttpResponse page = b.get("/lkk/register");
    EXPECT_NE(page.body.find("Зарегистрироваться"), std::string::npos);
    HttpResponse r = b.post("/lkk/register", {{"email", "Flow.User@Example.ORG"},
                                              {"password", "qwerty12"},
                                              {"password_confirm", "qwerty12"},
                                              {"consent", "1"},
                                              {"csrf", csrf_of(page)}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find("Спам"), std::string::npos);
    EXPECT_NE(r.body.find("/lkk/confirm/resend"), std::string::npos);

    const std::string token = token_mailed_to("flow.user@example.org");
    ASSERT_FALSE(token.empty());
    // A mail scanner follows the link first; the person follows it again: both succeed.
    Browser scanner(*app_);
    for (Browser* who : {&scanner, &b}) {
        HttpResponse confirmed = who->get("/lkk/confirm?token=" + token);
        EXPECT_EQ(confirmed.status, 200) << confirmed.body;
        EXPECT_NE(confirmed.body.find("успешно"), std::string::npos);
        EXPECT_NE(confirmed.body.find("action=\"/lkk/login\""), std::string::npos);
    }

    r = b.form("/lkk/", "/lkk/login",
               {{"email", "flow.user@example.org"}, {"password", "qwerty12"}});
    ASSERT_EQ(r.status, 303) << r.body;
    EXPECT_EQ(header(r, "Location"), "/lkk/accounts");
    const std::string cookie = cookie_named(r, "lkk_session");
    for (const char* flag : {"HttpOnly", "SameSite=Lax", "Path=/lkk", "Secure"}) {
        EXPECT_NE(cookie.find(flag), std::string::npos) << flag << " in " << cookie;
    }
    const std::string first_session = b.jar()["lkk_session"];
    r = b.get("/lkk/");
    EXPECT_EQ(r.status, 303);
    EXPECT_EQ(header(r, "Location"), "/lkk/accounts");

    HttpResponse registry = b.get("/lkk/accounts");
    ASSERT_EQ(registry.status, 200);
    EXPECT_EQ(registry.body.find("100200"), std::string::npos);

    page = b.get("/lkk/accounts/link");
    EXPECT_NE(page.body.find("Симферопольское УЭГХ"), std::string::npos);
    r = b.post("/lkk/accounts/link", {{"office", "SIM"},
                                      {"account", "100 200"},
                                      {"surname", "Иванов Иван Иванович"},
                                      {"amount", "1 234,50"},
                                      {"csrf", csrf_of(page)}});
    ASSERT_EQ(r.status, 303) << r.body;
    registry = b.get(header(r, "Location"));
    ASSERT_EQ(registry.status, 200);
    EXPECT_NE(registry.body.find("100200"), std::string::npos);
    EXPECT_NE(registry.body.find("привязан"), std::string::npos);

    std::smatch m;
    ASSERT_TRUE(std::regex_search(registry.body, m, std::regex("/lkk/accounts/([0-9]+)\"")));
    HttpResponse details = b.get("/lkk/accounts/" + m[1].str());
    EXPECT_EQ(details.status, 200);
    EXPECT_NE(details.body.find("ул. Ленина, 1"), std::string::npos);
    EXPECT_NE(details.body.find("1\u00A0234,50"), std::string::npos);
    EXPECT_NE(details.body.find("-50,00"), std::string::npos);

    // The same account again: the page says it is already there.
    page = b.get("/lkk/accounts/link");
    r = b.post("/lkk/accounts/link", {{"office", "SIM"},
                                      {"account", "100200"},
                                      {"surname", "иванов"},
                                      {"amount", "1234.5"},
                                      {"csrf", csrf_of(page)}});
    EXPECT_EQ(r.status, 409);
    EXPECT_NE(r.body.find("уже"), std::string::npos);

    r = b.post("/lkk/logout", {{"csrf", csrf_of(registry)}});
    EXPECT_EQ(r.status, 303);
    EXPECT_NE(cookie_named(r, "lkk_session").find("Max-Age=0"), std::string::npos);
    r = b.get("/lkk/accounts");
    EXPECT_EQ(r.status, 303);
    EXPECT_EQ(header(r, "Location"), "/lkk/");
    // The old cookie is dead on the server too, not only forgotten by this browser.
    Browser replay(*app_);
    replay.jar()["lkk_session"] = first_session;
    EXPECT_EQ(replay.get("/lkk/accounts").status, 303);
}

TEST_F(AppTest, LinkMismatchShowsPhonesWithoutNamingTheField) {
    add_billing();
    Browser b = logged_in("mismatch@example.org");
    auto attempt = [&](const std::string& surname, const std::string& amount) {
        HttpResponse page = b.get("/lkk/accounts/link");
        return b.post("/lkk/accounts/link", {{"office", "SIM"},
                                             {"account", "100200"},
                                             {"surname", surname},
                                             {"amount", amount},
                                             {"csrf", csrf_of(page)}});
    };
    HttpResponse wrong_surname = attempt("Петров", "1234,50");
    HttpResponse wrong_amount = attempt("Иванов", "1000");
    for (const HttpResponse* r : {&wrong_surname, &wrong_amount}) {
        EXPECT_EQ(r->status, 422);
        EXPECT_NE(r->body.find("+7 (3652) 11-22-33"), std::string::npos);
        EXPECT_NE(r->body.find("бухгалтерию Симферопольское УЭГХ"), std::string::npos);
    }
    auto blank = [](std::string s, const std::vector<std::string>& typed) {
        for (const std::string& t : typed) {
            for (size_t at; (at = s.find("value=\"" + t + "\"")) != std::string::npos;) {
                s.erase(at + 7, t.size());
            }
        }
        return s;
    };
    EXPECT_EQ(blank(wrong_surname.body, {"Петров", "1234,50"}),
              blank(wrong_amount.body, {"Иванов", "1000"}));
    // A malformed amount is a form error next to the field, not a mismatch.
    HttpResponse bad = attempt("Иванов", "12,345");
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.body.find("11-22-33"), std::string::npos);
    EXPECT_NE(bad.body.find("id=\"amount-error\""), std::string::npos);
}

TEST_F(AppTest, RegistrationAndRecoveryAnswersDoNotRevealKnownEmails) {
    logged_in("known@example.org");
    Browser b(*app_);
    auto reg = [&](const std::string& email) {
        return b.form("/lkk/register", "/lkk/register",
                      {{"email", email},
                       {"password", "qwerty12"},
                       {"password_confirm", "qwerty12"},
                       {"consent", "1"}});
    };
    HttpResponse known = reg("known@example.org"), unknown = reg("unknown@example.org");
    EXPECT_EQ(known.status, 200);
    EXPECT_EQ(known.status, unknown.status);
    EXPECT_EQ(known.body, unknown.body);

    auto forgot = [&](const std::string& email) {
        return b.form("/lkk/password/forgot", "/lkk/password/forgot", {{"email", email}});
    };
    known = forgot("known@example.org");
    unknown = forgot("nobody@example.org");
    EXPECT_EQ(known.status, 200);
    EXPECT_EQ(known.body, unknown.body);
}

TEST_F(AppTest, PasswordResetGetDoesNotConsumeTheToken) {
    logged_in("reset@example.org", "oldpass1");
    Browser b(*app_);
    ASSERT_EQ(
        b.form("/lkk/password/forgot", "/lkk/password/forgot", {{"email", "reset@example.org"}})
            .status,
        200);
    const std::string token = token_mailed_to("reset@example.org", "/password/reset");
    ASSERT_FALSE(token.empty());
    EXPECT_EQ(b.get("/lkk/password/reset?token=" + token).status, 200);
    HttpResponse page = b.get("/lkk/password/reset?token=" + token);
    ASSERT_EQ(page.status, 200);
    HttpResponse r = b.post("/lkk/password/reset", {{"token", token},
                                                    {"password", "newpass1"},
                                                    {"password_confirm", "newpass1"},
                                                    {"csrf", csrf_of(page)}});
    EXPECT_EQ(r.status, 303) << r.body;
    EXPECT_EQ(b.get("/lkk/password/reset?token=" + token).status, 400);
    r = b.post("/lkk/password/reset", {{"token", token},
                                       {"password", "other123"},
                                       {"password_confirm", "other123"},
                                       {"csrf", csrf_of(page)}});
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(b.get("/lkk/password/reset?token=garbage").status, 400);
    r = b.form("/lkk/", "/lkk/login", {{"email", "reset@example.org"}, {"password", "newpass1"}});
    EXPECT_EQ(r.status, 303);
}

TEST_F(AppTest, FormPostsWithoutAValidCsrfTokenAre403) {
    Browser b(*app_);
    const std::map<std::string, std::string> fields = {{"email", "nocsrf@example.org"},
                                                       {"password", "qwerty12"},
                                                       {"password_confirm", "qwerty12"},
                                                       {"consent", "1"}};
    // No cookie at all, not even from a form page.
    EXPECT_EQ(Browser(*app_).post("/lkk/register", fields).status, 403);
    HttpResponse page = b.get("/lkk/register");
    EXPECT_FALSE(cookie_named(page, "lkk_csrf").empty());
    EXPECT_NE(cookie_named(page, "lkk_csrf").find("SameSite=Strict"), std::string::npos);
    EXPECT_EQ(b.post("/lkk/register", fields).status, 403);
    auto forged = fields;
    forged["csrf"] = "forged";
    HttpResponse r = b.post("/lkk/register", forged);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(header(r, "Content-Type"), "text/html; charset=utf-8");
    auto user = storage_->find_user_by_email("nocsrf@example.org");
    ASSERT_TRUE(user.ok());
    EXPECT_FALSE(user.value().has_value());

    // A logged-in session's forms need the session's token, not the anonymous one.
    Browser logged = logged_in("csrf2@example.org");
    EXPECT_EQ(logged.post("/lkk/logout", std::map<std::string, std::string>{}).status, 403);
    HttpResponse anon_page = logged.get("/lkk/register");
    EXPECT_EQ(logged.post("/lkk/logout", {{"csrf", logged.jar()["lkk_csrf"]}}).status, 403);
    (void)anon_page;
    EXPECT_EQ(logged.get("/lkk/accounts").status, 200);  // still logged in
}

// The anonymous double-submit cookie is set by the pages whose forms need it, once: a cabinet
// page carries the session's token and sets none (no token made for nothing, one header less
// on every view), and the token a browser sent back is kept.
TEST_F(AppTest, OnlyAnonymousPagesSetTheCsrfCookieAndOnlyWhenNoneWasSent) {
    Browser b(*app_);
    HttpResponse first = b.get("/lkk/");
    const std::string set = cookie_named(first, "lkk_csrf");
    ASSERT_FALSE(set.empty());
    EXPECT_EQ(set.substr(0, 9 + 43), "lkk_csrf=" + csrf_of(first));
    HttpResponse again = b.get("/lkk/register");
    EXPECT_EQ(cookie_named(again, "lkk_csrf"), "");
    EXPECT_EQ(csrf_of(again), csrf_of(first));

    Browser logged = logged_in("onlyanon@example.org");
    HttpRequest view;
    view.method = "GET";
    view.path = "/lkk/accounts";
    view.cookie = "lkk_session=" + logged.jar()["lkk_session"];  // no lkk_csrf sent
    HttpResponse page = logged.request(view);
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(cookie_named(page, "lkk_csrf"), "");
    EXPECT_FALSE(csrf_of(page).empty());  // the session's, for the logout form
    EXPECT_NE(csrf_of(page), csrf_of(first));
}

TEST_F(AppTest, OversizedWrongTypeAndMalformedBodiesAreRefused) {
    Browser b(*app_);
    HttpResponse page = b.get("/lkk/register");
    const std::string csrf = csrf_of(page);

    HttpRequest big;
    big.method = "POST";
    big.path = "/lkk/register";
    big.content_type = "application/x-www-form-urlencoded";
    big.body_too_large = true;
    EXPECT_EQ(b.request(big).status, 413);
    big.body_too_large = false;
    big.body = "email=a&password=" + std::string(17000, 'x') + "&csrf=" + csrf;
    EXPECT_EQ(b.request(big).status, 413);

    HttpResponse r = b.post("/lkk/register", "email=a%40b.org&csrf=" + csrf, "multipart/form-data");
    EXPECT_EQ(r.status, 415);

    for (const char* raw : {"email=%C3%28%40example.org", "email=a%01b%40example.org"}) {
        r = b.post("/lkk/register",
                   std::string(raw) +
                       "&password=qwerty12&password_confirm=qwerty12&consent=1&csrf=" + csrf);
        EXPECT_EQ(r.status, 400) << raw;
        // The form again, with the error next to the e-mail field.
        EXPECT_NE(r.body.find("aria-describedby=\"email-error\""), std::string::npos) << raw;
        EXPECT_NE(r.body.find("name=\"password_confirm\""), std::string::npos);
    }
}

TEST_F(AppTest, TypedMarkupComesBackEscapedAndPasswordsAreNotEchoed) {
    Browser b(*app_);
    HttpResponse r = b.form("/lkk/register", "/lkk/register",
                            {{"email", "<script>alert(1)</script>"},
                             {"password", "pw\"><b>secret"},
                             {"password_confirm", "x"},
                             {"consent", "1"}});
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body.find("<script>alert(1)</script>"), std::string::npos);
    EXPECT_NE(r.body.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
    EXPECT_EQ(r.body.find("secret"), std::string::npos);
    EXPECT_NE(r.body.find("checked"), std::string::npos);  // the consent stays ticked
}

TEST_F(AppTest, EveryHtmlPageCarriesTheSecurityHeaders) {
    Browser b(*app_);
    for (const char* path : {"/lkk/", "/lkk/register", "/lkk/help", "/lkk/consent",
                             "/lkk/password/forgot", "/lkk/nowhere"}) {
        HttpResponse r = b.get(path);
        EXPECT_EQ(header(r, "Content-Type"), "text/html; charset=utf-8") << path;
        EXPECT_EQ(header(r, "Content-Security-Policy"),
                  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                  "frame-ancestors 'none'; base-uri 'none'")
            << path;
        EXPECT_EQ(header(r, "X-Frame-Options"), "DENY") << path;
        EXPECT_EQ(header(r, "Referrer-Policy"), "no-referrer") << path;
        EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff") << path;
        EXPECT_EQ(header(r, "Cache-Control"), "no-store") << path;
        EXPECT_NE(r.body.find("help@example.org"), std::string::npos) << path;
        EXPECT_NE(r.body.find("name=\"viewport\""), std::string::npos) << path;
        EXPECT_EQ(r.body.find("<script"), std::string::npos) << path;
        EXPECT_EQ(r.body.find("style="), std::string::npos) << path;
    }
    HttpResponse css = b.get("/lkk/lkk.css");
    EXPECT_EQ(css.status, 200);
    EXPECT_EQ(header(css, "Content-Type"), "text/css; charset=utf-8");
    EXPECT_NE(header(css, "Cache-Control").find("max-age"), std::string::npos);
    EXPECT_NE(css.body.find("max-width"), std::string::npos);
}

TEST_F(AppTest, RoutingAnswersForUnknownPathsAndMethods) {
    Browser b(*app_);
    HttpResponse r = b.get("/lkk");
    EXPECT_EQ(r.status, 301);
    EXPECT_EQ(header(r, "Location"), "/lkk/");
    EXPECT_EQ(b.get("/lkk/nowhere").status, 404);
    EXPECT_EQ(b.get("/elsewhere").status, 404);
    EXPECT_EQ(b.get("/lkkx/").status, 404);
    EXPECT_EQ(b.get("/lkk/accounts/abc").status, 404);
    r = b.post("/lkk/help", "a=b");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(header(r, "Allow"), "GET, HEAD");
    HttpRequest del;
    del.method = "DELETE";
    del.path = "/lkk/register";
    r = b.request(del);
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(header(r, "Allow"), "GET, HEAD, POST");
    EXPECT_EQ(b.get("/lkk/accounts/link").status, 303);  // not logged in
    EXPECT_EQ(b.get("/lkk/accounts/12").status, 303);

    HttpResponse health = b.get("/lkk/healthz");
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(health.body, "ok\n");

    HttpResponse help = b.get("/lkk/help");
    EXPECT_NE(help.body.find("Зарегистрироваться"), std::string::npos);
    HttpResponse consent = b.get("/lkk/consent");
    EXPECT_EQ(consent.status, 200);
    EXPECT_NE(consent.body.find("персональных данных"), std::string::npos);
    EXPECT_NE(consent.body.find("Редакция 1"), std::string::npos);
}

TEST_F(AppTest, ConfirmationLinkThatIsWrongOffersTheResendForm) {
    Browser b(*app_);
    HttpResponse r = b.get("/lkk/confirm?token=not-a-real-token");
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("недействительна"), std::string::npos);
    EXPECT_NE(r.body.find("action=\"/lkk/confirm/resend\""), std::string::npos);
    // The resend answer does not tell whether the address is known either.
    HttpResponse resend =
        b.post("/lkk/confirm/resend", {{"email", "ghost@example.org"}, {"csrf", csrf_of(r)}});
    EXPECT_EQ(resend.status, 200);
    EXPECT_NE(resend.body.find("Спам"), std::string::npos);
}

TEST_F(AppTest, LoginSaysOnlyWrongEmailOrPassword) {
    logged_in("login@example.org", "rightpw1");
    Browser b(*app_);
    HttpResponse bad_pw =
        b.form("/lkk/", "/lkk/login", {{"email", "login@example.org"}, {"password", "wrongpw1"}});
    HttpResponse no_user =
        b.form("/lkk/", "/lkk/login", {{"email", "ghost@example.org"}, {"password", "wrongpw1"}});
    EXPECT_EQ(bad_pw.status, no_user.status);
    EXPECT_NE(bad_pw.status, 303);
    for (const HttpResponse* r : {&bad_pw, &no_user}) {
        EXPECT_NE(r->body.find("Неверный адрес электронной почты или пароль"), std::string::npos)
            << r->body;
        EXPECT_TRUE(cookie_named(*r, "lkk_session").empty());
    }
}

TEST_F(AppTest, PasswordChangeKeepsThisBrowserAndEndsTheOldSession) {
    Browser b = logged_in("change@example.org", "oldpass1");
    const std::string old_session = b.jar()["lkk_session"];
    HttpResponse page = b.get("/lkk/password/change");
    ASSERT_EQ(page.status, 200);
    HttpResponse r = b.post("/lkk/password/change", {{"old_password", "wrong123"},
                                                     {"password", "newpass1"},
                                                     {"password_confirm", "newpass1"},
                                                     {"csrf", csrf_of(page)}});
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("id=\"old_password-error\""), std::string::npos);
    r = b.post("/lkk/password/change", {{"old_password", "oldpass1"},
                                        {"password", "newpass1"},
                                        {"password_confirm", "newpass1"},
                                        {"csrf", csrf_of(page)}});
    ASSERT_EQ(r.status, 303) << r.body;
    EXPECT_NE(b.jar()["lkk_session"], old_session);
    EXPECT_EQ(b.get("/lkk/accounts").status, 200);
    Browser replay(*app_);
    replay.jar()["lkk_session"] = old_session;
    EXPECT_EQ(replay.get("/lkk/accounts").status, 303);
}

TEST_F(AppTest, JsonApiLoginMeAccounts) {
    add_billing();
    logged_in("api@example.org", "apipass1");
    Browser b(*app_);
    HttpResponse r =
        b.api("POST", "login", {{"email", "api@example.org"}, {"password", "apipass1"}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(header(r, "Content-Type"), "application/json; charset=utf-8");
    EXPECT_NE(cookie_named(r, "lkk_session").find("HttpOnly"), std::string::npos);
    const std::string csrf = nlohmann::json::parse(r.body)["csrf"];
    ASSERT_FALSE(csrf.empty());

    r = b.api("GET", "me");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(nlohmann::json::parse(r.body)["email"], "api@example.org");
    EXPECT_EQ(nlohmann::json::parse(r.body)["csrf"], csrf);

    r = b.api("GET", "offices");
    EXPECT_EQ(nlohmann::json::parse(r.body)["offices"][0]["code"], "SIM");

    const nlohmann::json link = {
        {"office", "SIM"}, {"account", "100-200"}, {"surname", "ИВАНОВ"}, {"amount", "1234,50"}};
    r = b.api("POST", "accounts", link);  // no X-CSRF-Token
    EXPECT_EQ(r.status, 403);
    r = b.api("POST", "accounts", link, csrf);
    ASSERT_EQ(r.status, 201) << r.body;
    r = b.api("GET", "accounts");
    auto accounts = nlohmann::json::parse(r.body)["accounts"];
    ASSERT_EQ(accounts.size(), 1u);
    EXPECT_EQ(accounts[0]["account"], "100200");
    EXPECT_EQ(accounts[0]["last_payment_kopecks"], 123450);

    r = b.api("POST", "accounts",
              {{"office", "SIM"}, {"account", "100200"}, {"surname", "x"}, {"amount", "-1"}}, csrf);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(header(r, "Content-Type"), "application/problem+json; charset=utf-8");
    auto problem = nlohmann::json::parse(r.body);
    EXPECT_EQ(problem["status"], 400);
    EXPECT_TRUE(problem["errors"].contains("amount")) << r.body;
    EXPECT_TRUE(problem.contains("type"));
    EXPECT_TRUE(problem.contains("title"));

    r = b.api("DELETE", "accounts/" + std::to_string(accounts[0]["id"].get<int64_t>()), nullptr,
              csrf);
    EXPECT_EQ(r.status, 204);
    EXPECT_EQ(nlohmann::json::parse(b.api("GET", "accounts").body)["accounts"].size(), 0u);

    HttpResponse wrong =
        b.post("/lkk/api/v1/login", "email=a", "application/x-www-form-urlencoded");
    EXPECT_EQ(wrong.status, 415);
    wrong = b.post("/lkk/api/v1/login", "{\"email\": ", "application/json");
    EXPECT_EQ(wrong.status, 400);
    EXPECT_EQ(nlohmann::json::parse(wrong.body)["status"], 400);
    EXPECT_EQ(b.api("GET", "nothing").status, 404);
    EXPECT_EQ(b.api("GET", "login").status, 405);

    HttpRequest cross;
    cross.method = "GET";
    cross.path = "/lkk/api/v1/me";
    cross.origin = "https://evil.example.com";
    EXPECT_EQ(b.request(cross).status, 403);
    cross.origin = "https://lkk.example.org";
    EXPECT_EQ(b.request(cross).status, 200);
    cross.origin = "http://portal.test";  // the Host header's own origin
    EXPECT_EQ(b.request(cross).status, 200);

    r = b.api("POST", "logout", nlohmann::json::object(), csrf);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(b.api("GET", "me").status, 401);

    r = b.api("POST", "login", {{"email", "api@example.org"}, {"password", "nope1234"}});
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(nlohmann::json::parse(r.body)["code"], "wrong_credentials");
}

TEST_F(AppTest, TemplatesAndConsentCanBeOverriddenByTheAdmin) {
    fs::create_directories(dir_.path() + "/tpl/ru");
    std::ofstream(dir_.path() + "/tpl/ru/help.html")
        << "<h1>Своя справка</h1><p>{{support_email}}</p>";
    std::ofstream(dir_.path() + "/consent.txt") << "# Наше согласие\n\nТекст <b>согласия</b>.\n";
    settings_.portal.templates_dir = dir_.path() + "/tpl";
    settings_.portal.consent_file = dir_.path() + "/consent.txt";
    settings_.portal.consent_version = "2025-03";
    start();
    Browser b(*app_);
    HttpResponse help = b.get("/lkk/help");
    EXPECT_NE(help.body.find("<h1>Своя справка</h1>"), std::string::npos);
    EXPECT_NE(help.body.find("<title>Своя справка"), std::string::npos);
    HttpResponse consent = b.get("/lkk/consent");
    EXPECT_NE(consent.body.find("<h2>Наше согласие</h2>"), std::string::npos);
    EXPECT_NE(consent.body.find("Текст &lt;b&gt;согласия&lt;/b&gt;."), std::string::npos);
    EXPECT_NE(consent.body.find("2025-03"), std::string::npos);

    // A template that does not parse stops the start with the file named.
    std::ofstream(dir_.path() + "/tpl/ru/login.html") << "{{#open}} never closed";
    auto broken = create_application(settings_);
    ASSERT_FALSE(broken.ok());
    EXPECT_NE(broken.error().message().find("login.html"), std::string::npos);
}

TEST_F(AppTest, EnglishLocalePicksTheEnglishTemplates) {
    settings_.portal.locale = "en";
    start();
    Browser b(*app_);
    HttpResponse r = b.get("/lkk/");
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("lang=\"en\""), std::string::npos);
    EXPECT_NE(r.body.find("Log in"), std::string::npos);
}

TEST_F(AppTest, ThrottledAnswersAre429WithRetryAfterAndAHumanMessage) {
    add_billing();
    Browser b = logged_in("throttle@example.org");
    HttpResponse r;
    for (int i = 0; i < 6; ++i) {
        HttpResponse page = b.get("/lkk/accounts/link");
        r = b.post("/lkk/accounts/link", {{"office", "SIM"},
                                          {"account", "100200"},
                                          {"surname", "Никто"},
                                          {"amount", "1"},
                                          {"csrf", csrf_of(page)}});
        if (i < 5) {
            EXPECT_EQ(r.status, 422) << i;
        }
    }
    EXPECT_EQ(r.status, 429);
    EXPECT_FALSE(header(r, "Retry-After").empty());
    EXPECT_NE(r.body.find("+7 (3652) 11-22-33"), std::string::npos);
    EXPECT_NE(r.body.find("Слишком много"), std::string::npos);

    Browser anon(*app_);
    for (int i = 0; i < 7; ++i) {
        r = anon.form("/lkk/", "/lkk/login",
                      {{"email", "throttle@example.org"}, {"password", "wrong-pw"}});
    }
    EXPECT_EQ(r.status, 429);
    EXPECT_FALSE(header(r, "Retry-After").empty());
    EXPECT_NE(r.body.find("Попробуйте снова через"), std::string::npos);
    EXPECT_NE(r.body.find("name=\"password\""), std::string::npos);  // the form is still there
}

TEST_F(AppTest, BackendDownIs503WithTheSupportAddress) {
    settings_.sessions.url = "redis://127.0.0.1:1/0";  // nothing listens there
    auto app = create_application(settings_);
    if (!app.ok()) GTEST_SKIP() << "the Redis backend connects eagerly: " << app.error().message();
    app_ = std::move(app.value());
    Browser b(*app_);
    HttpResponse health = b.get("/lkk/healthz");
    EXPECT_EQ(health.status, 503);
    b.jar()["lkk_session"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    HttpResponse r = b.get("/lkk/accounts");
    EXPECT_EQ(r.status, 503);
    EXPECT_NE(r.body.find("Сервис временно недоступен, попробуйте через несколько минут"),
              std::string::npos);
    EXPECT_NE(r.body.find("help@example.org"), std::string::npos);
    EXPECT_EQ(header(r, "Cache-Control"), "no-store");
    r = b.api("GET", "me");
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(header(r, "Content-Type"), "application/problem+json; charset=utf-8");
}

TEST_F(AppTest, UnlinkRemovesTheRowAndOthersLinksAreNotFound) {
    add_billing();
    Browser owner = logged_in("owner@example.org");
    HttpResponse page = owner.get("/lkk/accounts/link");
    HttpResponse r = owner.post("/lkk/accounts/link", {{"office", "SIM"},
                                                       {"account", "100200"},
                                                       {"surname", "Иванов"},
                                                       {"amount", "1234,50"},
                                                       {"csrf", csrf_of(page)}});
    ASSERT_EQ(r.status, 303) << r.body;
    const std::string location = header(r, "Location");
    const std::string id = location.substr(location.find("linked=") + 7);

    Browser other = logged_in("other@example.org");
    EXPECT_EQ(other.get("/lkk/accounts/" + id).status, 404);
    HttpResponse others = other.get("/lkk/accounts");
    EXPECT_EQ(other.post("/lkk/accounts/" + id + "/unlink", {{"csrf", csrf_of(others)}}).status,
              404);

    HttpResponse details = owner.get("/lkk/accounts/" + id);
    ASSERT_EQ(details.status, 200);
    EXPECT_NE(details.body.find("action=\"/lkk/accounts/" + id + "/unlink\""), std::string::npos);
    EXPECT_EQ(owner.post("/lkk/accounts/" + id + "/unlink", {{"csrf", "wrong"}}).status, 403);
    r = owner.post("/lkk/accounts/" + id + "/unlink", {{"csrf", csrf_of(details)}});
    EXPECT_EQ(r.status, 303);
    HttpResponse registry = owner.get(header(r, "Location"));
    EXPECT_EQ(registry.body.find("100200"), std::string::npos);
    EXPECT_NE(registry.body.find("отвязан"), std::string::npos);
}

TEST_F(AppTest, ThePortalCanLiveAtAnyBasePath) {
    settings_.portal.base_path = "/";
    settings_.sessions.cookie_secure = false;
    start();
    Browser root(*app_);
    HttpResponse r = root.get("/");
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("action=\"/login\""), std::string::npos);
    EXPECT_NE(r.body.find("href=\"/lkk.css\""), std::string::npos);
    const std::string cookie = cookie_named(r, "lkk_csrf");
    EXPECT_NE(cookie.find("Path=/;"), std::string::npos) << cookie;
    EXPECT_EQ(cookie.find("Secure"), std::string::npos) << cookie;
    EXPECT_EQ(root.get("/lkk.css").status, 200);

    settings_.portal.base_path = "/cabinet/";
    start();
    Browser sub(*app_);
    EXPECT_EQ(header(sub.get("/cabinet"), "Location"), "/cabinet/");
    EXPECT_EQ(sub.get("/cabinet/register").status, 200);
    EXPECT_EQ(sub.get("/lkk/register").status, 404);
}

// The web layer counts what it answered: each request under its route's label and status
// (HTML and API alike), the login and link results, and the gauges the timer refreshes.
TEST_F(AppTest, MetricsCountRoutesStatusesAndOutcomes) {
    add_billing();
    const AttachedMetrics counted;
    const metrics::MetricsBlock& block = counted.block;
    auto requests = [&](metrics::Route route, int status) {
        return counted.requests(route, status);
    };
    auto logins = [&](metrics::LoginResult r) {
        return block.logins[static_cast<size_t>(r)].load();
    };

    Browser b = logged_in("metrics@example.org");
    EXPECT_EQ(block.registrations.load(), 1u);
    EXPECT_EQ(logins(metrics::LoginResult::success), 1u);
    EXPECT_EQ(requests(metrics::Route::register_, 200), 2u);  // the form, then the POST
    EXPECT_EQ(requests(metrics::Route::confirm, 200), 1u);
    EXPECT_EQ(requests(metrics::Route::start, 200), 1u);
    EXPECT_EQ(requests(metrics::Route::login, 303), 1u);

    Browser stranger(*app_);
    EXPECT_EQ(stranger
                  .form("/lkk/", "/lkk/login",
                        {{"email", "metrics@example.org"}, {"password", "wrong-one"}})
                  .status,
              400);
    EXPECT_EQ(
        stranger.api("POST", "login", {{"email", "nobody@example.org"}, {"password", "x1"}}).status,
        401);
    EXPECT_EQ(logins(metrics::LoginResult::failure), 2u);
    EXPECT_EQ(requests(metrics::Route::login, 400), 1u);
    EXPECT_EQ(requests(metrics::Route::login, 401), 1u);

    EXPECT_EQ(b.get("/lkk/accounts").status, 200);
    EXPECT_EQ(requests(metrics::Route::accounts, 200), 1u);
    HttpResponse linked = b.form(
        "/lkk/accounts/link", "/lkk/accounts/link",
        {{"office", "SIM"}, {"account", "100200"}, {"surname", "Иванов"}, {"amount", "1234,50"}});
    EXPECT_EQ(linked.status, 303) << linked.body;
    EXPECT_EQ(block.links[static_cast<size_t>(metrics::LinkResult::success)].load(), 1u);
    EXPECT_EQ(requests(metrics::Route::link, 303), 1u);

    EXPECT_EQ(b.get("/lkk/no-such-page").status, 404);
    EXPECT_EQ(requests(metrics::Route::other, 404), 1u);
    EXPECT_EQ(b.get("/lkk/healthz").status, 200);
    EXPECT_EQ(requests(metrics::Route::health, 200), 1u);

    // Every answer went into exactly one histogram bucket of its route.
    uint64_t answered = 0, observed = 0;
    for (size_t r = 0; r < metrics::kSlots<metrics::Route>; ++r) {
        for (auto& c : block.requests[r]) answered += c.load();
        for (auto& c : block.duration_buckets[r]) observed += c.load();
    }
    EXPECT_EQ(answered, observed);
    EXPECT_GE(answered, 12u);

    // The timer's refresh: the confirmation mail still waits (file: transport, nobody sent it).
    app_->refresh_metrics();
    EXPECT_EQ(block.outbox_pending.load(), 1);
    EXPECT_GT(block.outbox_oldest_created_at.load(), 0);
    EXPECT_EQ(block.backend_up[static_cast<size_t>(metrics::Backend::storage)].load(), 1);
    EXPECT_EQ(block.backend_up[static_cast<size_t>(metrics::Backend::sessions)].load(), 1);
    EXPECT_EQ(app_->deliver_mail(), 1);
    EXPECT_EQ(block.mail_sent[static_cast<size_t>(metrics::MailResult::sent)].load(), 1u);
    app_->refresh_metrics();
    EXPECT_EQ(block.outbox_pending.load(), 0);
}

// ---- Answers without the thread-pool hop (handle_inline, issue 11) ----

HttpRequest request_to(const std::string& method, const std::string& target,
                       const std::string& cookie = {}) {
    HttpRequest r;
    r.method = method;
    const size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    r.cookie = cookie;
    r.host = "portal.test";
    r.remote_addr = "192.0.2.7";
    r.user_agent = "Mozilla/5.0 (app_test)";
    return r;
}

void expect_same(const HttpResponse& a, const HttpResponse& b, const std::string& what) {
    EXPECT_EQ(a.status, b.status) << what;
    EXPECT_EQ(a.headers, b.headers) << what;
    EXPECT_EQ(a.body, b.body) << what;
}

// What needs no backend is answered by handle_inline() (which the nginx glue calls on its event
// loop) with exactly the pool's answer, counted the same; everything else is left to the pool.
TEST_F(AppTest, InlineAnswersAreThePoolsAnswersAndCountedTheSame) {
    const AttachedMetrics counted;

    // A browser that already has its CSRF cookie gets no new token: both answers are the same
    // bytes. An empty session cookie is no session, as in the pool.
    const std::string csrf = "lkk_csrf=" + std::string(43, 'A');
    for (const char* target : {"/lkk/", "/lkk/?reset=done", "/lkk/login", "/lkk/register",
                               "/lkk/confirm/resend", "/lkk/password/forgot", "/lkk/help",
                               "/lkk/consent", "/lkk/lkk.css", "/lkk", "/elsewhere"}) {
        for (const char* method : {"GET", "HEAD"}) {
            for (const std::string& cookie : {csrf, csrf + "; lkk_session="}) {
                const HttpRequest r = request_to(method, target, cookie);
                const std::string what = std::string(method) + " " + target + " " + cookie;
                auto inline_answer = app_->handle_inline(r);
                ASSERT_TRUE(inline_answer) << what;
                expect_same(*inline_answer, app_->handle(r), what);
            }
        }
    }
    // Each target 2 methods x 2 cookies x (inline + pool) = 8 times.
    EXPECT_EQ(counted.requests(metrics::Route::start, 200), 16u);
    EXPECT_EQ(counted.requests(metrics::Route::static_, 200), 24u);  // help, consent, stylesheet
    EXPECT_EQ(counted.requests(metrics::Route::other, 301), 8u);
    EXPECT_EQ(counted.requests(metrics::Route::other, 404), 8u);
    EXPECT_EQ(counted.answered(), 11u * 2 * 2 * 2);

    // A first visit: the inline start page sets the CSRF cookie its form carries.
    auto first = app_->handle_inline(request_to("GET", "/lkk/"));
    ASSERT_TRUE(first);
    EXPECT_EQ(first->status, 200);
    const std::string set = cookie_named(*first, "lkk_csrf");
    EXPECT_EQ(set.substr(0, 9 + 43), "lkk_csrf=" + csrf_of(*first)) << set;

    // The pool's: a session to look up, pages that read the database, forms posted, the API,
    // /healthz before any check, and anything else.
    const uint64_t before = counted.answered();
    const std::string session = "lkk_session=" + std::string(43, 'B');
    for (const HttpRequest& r :
         {request_to("GET", "/lkk/", session),
          request_to("GET", "/lkk/help", csrf + "; " + session),
          request_to("HEAD", "/lkk/consent", session), request_to("GET", "/lkk/accounts"),
          request_to("GET", "/lkk/confirm?token=abc"),
          request_to("GET", "/lkk/password/reset?token=abc"),
          request_to("GET", "/lkk/api/v1/offices"), request_to("POST", "/lkk/login", csrf),
          request_to("POST", "/lkk/lkk.css"), request_to("GET", "/lkk/healthz"),
          request_to("GET", "/lkk/help/"), request_to("GET", "/lkk/%68elp"),
          request_to("GET", "/lkk/unsubscribe?t=abc")}) {
        EXPECT_FALSE(app_->handle_inline(r)) << r.method << " " << r.path << " " << r.cookie;
    }
    EXPECT_EQ(counted.answered(), before);  // nothing answered, nothing counted
}

// /healthz is answered inline from the last real check (made in the pool) while it is younger
// than a second; then the pool checks again.
TEST_F(AppTest, HealthzAnswersInlineFromACheckLessThanASecondOld) {
    ManualClock clock(1'700'000'000);
    auto app = create_application(settings_, clock);
    ASSERT_TRUE(app.ok()) << app.error().message();
    const HttpRequest health = request_to("GET", "/lkk/healthz");
    EXPECT_FALSE(app.value()->handle_inline(health));
    const HttpResponse checked = app.value()->handle(health);
    EXPECT_EQ(checked.status, 200);
    EXPECT_EQ(checked.body, "ok\n");
    auto memo = app.value()->handle_inline(health);
    ASSERT_TRUE(memo);
    expect_same(*memo, checked, "healthz");
    clock.advance(1);
    EXPECT_FALSE(app.value()->handle_inline(health));
    EXPECT_EQ(app.value()->handle(health).status, 200);
    EXPECT_TRUE(app.value()->handle_inline(health));
}

// Proof that the inline answers touch no backend: the database file is replaced by a directory,
// so a thread that opens its connection now fails (connections are per thread). On fresh
// threads the pool's answers say so; the inline ones do not notice, and /healthz's memo keeps
// the failure as it keeps a success.
TEST_F(AppTest, InlineAnswersNeedNoBackend) {
    ManualClock clock(1'700'000'000);
    auto created = create_application(settings_, clock);
    ASSERT_TRUE(created.ok()) << created.error().message();
    Application& app = *created.value();
    const std::string db = dir_.path() + "/lkk.db";
    for (const char* suffix : {"", "-wal", "-shm"}) {
        if (fs::exists(db + suffix)) fs::rename(db + suffix, db + suffix + ".away");
    }
    fs::create_directory(db);
    auto on_a_new_thread = [](const auto& call) {
        std::thread t(call);
        t.join();
    };

    HttpResponse checked, session_page;
    on_a_new_thread([&] { checked = app.handle(request_to("GET", "/lkk/healthz")); });
    EXPECT_EQ(checked.status, 503);
    EXPECT_EQ(checked.body, "storage unavailable\n");
    const std::string session = "lkk_session=" + std::string(43, 'B');
    on_a_new_thread([&] { session_page = app.handle(request_to("GET", "/lkk/", session)); });
    EXPECT_EQ(session_page.status, 503);

    for (const char* target : {"/lkk/", "/lkk/register", "/lkk/help", "/lkk/lkk.css"}) {
        std::optional<HttpResponse> page;
        on_a_new_thread([&] { page = app.handle_inline(request_to("GET", target)); });
        ASSERT_TRUE(page) << target;
        EXPECT_EQ(page->status, 200) << target;
    }
    std::optional<HttpResponse> memo;
    on_a_new_thread([&] { memo = app.handle_inline(request_to("GET", "/lkk/healthz")); });
    ASSERT_TRUE(memo);
    expect_same(*memo, checked, "the failed check");
    clock.advance(1);
    EXPECT_FALSE(app.handle_inline(request_to("GET", "/lkk/healthz")));
}

}  // namespace
}  // namespace lkk
