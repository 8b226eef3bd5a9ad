// The subscriber flow (SPEC 2-4) through the Cabinet API, on a real SQLite file and a clock
// the test moves by hand.
#include "lkk/cabinet.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "lkk/crypto.h"
#include "lkk/session_store.h"
#include "lkk/storage.h"
#include "lkk/support.h"

namespace lkk {
namespace {

namespace fs = std::filesystem;

// 2026-06-15 12:00 UTC.
const int64_t kJune2026 = utc_new_year(2026) + (165 * 24 + 12) * 3600;

class CabinetTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("lkk_cabinet_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        auto storage = open_storage("sqlite:" + (dir_ / "lkk.db").string());
        ASSERT_TRUE(storage.ok()) << storage.error().message();
        storage_ = std::move(storage.value());
        auto sessions = open_session_store("storage", *storage_);
        ASSERT_TRUE(sessions.ok()) << sessions.error().message();
        sessions_ = std::move(sessions.value());
        auto counters = open_counter_store("storage", *storage_);
        ASSERT_TRUE(counters.ok()) << counters.error().message();
        counters_ = std::move(counters.value());

        settings_.portal.base_url = "https://lkk.example.org";
        settings_.portal.base_path = "/lkk";
        settings_.portal.support_email = "help@example.org";
        settings_.portal.time_zone = "Europe/Simferopol";
        settings_.portal.consent_version = "2024-1";
        settings_.passwords.argon2_memory_kib = 1024;
        settings_.passwords.argon2_iterations = 1;
        cabinet_ = std::make_unique<Cabinet>(settings_, *storage_, *sessions_, *counters_, clock_);
        support_ = std::make_unique<Support>(settings_, *storage_, *sessions_, *counters_, clock_,
                                             tool_actor("tester", "testhost"));

        ASSERT_TRUE(storage_
                        ->insert_office({"SIM", "Симферопольское УЭГХ",
                                         "+7 3652 11-11-11, +7 3652 22-22-22", ""})
                        .ok());
        BillingAccount a;
        a.office_code = "SIM";
        a.account_number = "12345";
        a.surname = "Иванов";
        a.surname_key = "иванов";
        a.last_payment = 123450;
        a.last_payment_date = "2026-03-01";
        a.address = "ул. Ленина, 1";
        ASSERT_TRUE(storage_->upsert_billing_account(a).ok());
        BillingAccount b = a;
        b.account_number = "777";
        b.surname = "Петрова-Водкина";
        b.surname_key = "петрова-водкина";
        b.last_payment = 50000;
        b.last_payment_date = "2025-12-20";
        ASSERT_TRUE(storage_->upsert_billing_account(b).ok());
    }

    void TearDown() override {
        support_.reset();
        cabinet_.reset();
        counters_.reset();
        sessions_.reset();
        storage_.reset();
        fs::remove_all(dir_);
    }

    std::vector<OutboxMail> mails_to(const std::string& email) {
        auto all = storage_->list_outbox(1000);
        EXPECT_TRUE(all.ok());
        std::vector<OutboxMail> out;
        for (auto& m : *all) {
            if (m.recipient == email) out.push_back(m);
        }
        std::sort(out.begin(), out.end(),
                  [](const OutboxMail& a, const OutboxMail& b) { return a.id < b.id; });
        return out;
    }

    // The token of the first link in a mail that carries "?token=".
    static std::string token_in(const OutboxMail& mail) {
        const std::string marker = "?token=";
        size_t at = mail.body_text.find(marker);
        if (at == std::string::npos) return {};
        size_t start = at + marker.size(), end = start;
        while (end < mail.body_text.size() &&
               (std::isalnum(static_cast<unsigned char>(mail.body_text[end])) ||
                mail.body_text[end] == '-' || mail.body_text[end] == '_')) {
            ++end;
        }
        return mail.body_text.substr(start, end - start);
    }

    std::vector<std::string> audit_events() {
        auto events = storage_->recent_audit(std::nullopt, 1000);
        EXPECT_TRUE(events.ok());
        std::vector<std::string> names;
        for (const auto& e : *events) names.push_back(e.event);
        return names;
    }

    static bool has(const std::vector<std::string>& v, const std::string& x) {
        return std::find(v.begin(), v.end(), x) != v.end();
    }

    // Registers, confirms and answers the user id; the confirmation mail is left in the outbox.
    int64_t active_user(const std::string& email, const std::string& password = "secret12") {
        EXPECT_TRUE(cabinet_->register_user(email, password, password, true, ctx_).ok());
        auto mails = mails_to(email);
        EXPECT_FALSE(mails.empty());
        if (mails.empty()) return 0;
        EXPECT_TRUE(cabinet_->confirm(token_in(mails.back()), ctx_).ok());
        auto user = storage_->find_user_by_email(email);
        EXPECT_TRUE(user.ok() && user->has_value());
        return user.ok() && user->has_value() ? (*user)->id : 0;
    }

    SessionGrant logged_in(const std::string& email, const std::string& password = "secret12") {
        auto r = cabinet_->login(email, password, ctx_);
        EXPECT_EQ(r.outcome, Outcome::ok) << outcome_code(r.outcome);
        return r.session.value_or(SessionGrant{});
    }

    fs::path dir_;
    Settings settings_;
    ManualClock clock_{kJune2026};
    std::unique_ptr<Storage> storage_;
    std::unique_ptr<SessionStore> sessions_;
    std::unique_ptr<CounterStore> counters_;
    std::unique_ptr<Cabinet> cabinet_;
    std::unique_ptr<Support> support_;  // support staff's operations (lkk-admin)
    RequestContext ctx_{"192.0.2.1", "TestBrowser/1.0", Locale::ru};
};

TEST(CalendarYear, UsesThePortalTimeZone) {
    const int64_t new_year_utc = utc_new_year(2026);
    EXPECT_EQ(new_year_utc, 1767225600);
    // 23:30 UTC on 31 December is already 02:30 on 1 January in Simferopol (UTC+3).
    EXPECT_EQ(calendar_year(new_year_utc - 1800, "Europe/Simferopol"), 2026);
    EXPECT_EQ(calendar_year(new_year_utc - 1800, "UTC"), 2025);
    EXPECT_EQ(calendar_year(new_year_utc - 1800, "No/Such_Zone"), 2025);
}

// Each thread keeps the calendar of the zone it was last asked for: a different zone next is
// a different date at once, and threads do not share one.
TEST(CalendarYear, LocalDatesSwitchZonesAndThreadsKeepTheirOwn) {
    const int64_t t = utc_new_year(2026) - 1800;  // 23:30 UTC on 31 December 2025
    const auto check = [t](int rounds) {
        int wrong = 0;
        for (int i = 0; i < rounds; ++i) {
            const CivilDate msk = local_date(t, "Europe/Simferopol");
            const CivilDate utc = local_date(t + i, "UTC");
            const CivilDate vla = local_date(t - 36000, "Asia/Vladivostok");  // 03:30, +10
            if (msk.year != 2026 || msk.month != 1 || msk.day != 1) ++wrong;
            if (utc.year != 2025 || utc.month != 12 || utc.day != 31) ++wrong;
            if (vla.year != 2025 || vla.month != 12 || vla.day != 31) ++wrong;
        }
        return wrong;
    };
    EXPECT_EQ(check(3), 0);
    int other_thread = -1;
    std::thread worker([&] { other_thread = check(200); });
    const int this_thread = check(200);
    worker.join();
    EXPECT_EQ(this_thread, 0);
    EXPECT_EQ(other_thread, 0);
}

TEST_F(CabinetTest, FullFlowFromRegistrationToUnlink) {
    Reply reg =
        cabinet_->register_user("  Ivanov@Example.ORG ", "secret12", "secret12", true, ctx_);
    ASSERT_EQ(reg.outcome, Outcome::ok) << outcome_code(reg.outcome);
    auto user = storage_->find_user_by_email("ivanov@example.org");
    ASSERT_TRUE(user.ok() && user->has_value());
    EXPECT_EQ((*user)->status, UserStatus::pending);
    auto consents = storage_->consents_of((*user)->id);
    ASSERT_TRUE(consents.ok());
    ASSERT_EQ(consents->size(), 1u);
    EXPECT_EQ((*consents)[0].document_version, "2024-1");
    EXPECT_EQ((*consents)[0].ip, "192.0.2.1");
    EXPECT_EQ((*consents)[0].user_agent, "TestBrowser/1.0");
    EXPECT_EQ((*consents)[0].accepted_at, kJune2026);

    auto mails = mails_to("ivanov@example.org");
    ASSERT_EQ(mails.size(), 1u);
    EXPECT_NE(mails[0].subject.find("Подтвердите"), std::string::npos) << mails[0].subject;
    EXPECT_NE(mails[0].body_text.find("https://lkk.example.org/lkk/confirm?token="),
              std::string::npos);
    EXPECT_NE(mails[0].body_text.find("help@example.org"), std::string::npos);
    EXPECT_NE(mails[0].body_text.find("48 часов"), std::string::npos);
    const std::string token = token_in(mails[0]);
    ASSERT_EQ(token.size(), 43u);

    // Login before confirming: the right password gets "confirm first", not a session.
    LoginReply early = cabinet_->login("ivanov@example.org", "secret12", ctx_);
    EXPECT_EQ(early.outcome, Outcome::not_confirmed);
    EXPECT_FALSE(early.session.has_value());

    // A mail scanner follows the link first; the person following it again sees success.
    EXPECT_EQ(cabinet_->confirm(token, ctx_).outcome, Outcome::ok);
    EXPECT_EQ(cabinet_->confirm(token, ctx_).outcome, Outcome::ok);
    user = storage_->find_user_by_email("ivanov@example.org");
    EXPECT_EQ((*user)->status, UserStatus::active);
    auto stored = storage_->find_token(TokenKind::confirm, crypto::sha256_hex(token));
    ASSERT_TRUE(stored.ok() && stored->has_value());
    EXPECT_EQ((*stored)->used_at, std::optional<int64_t>(kJune2026));

    LoginReply login = cabinet_->login("IVANOV@example.org", "secret12", ctx_);
    ASSERT_EQ(login.outcome, Outcome::ok);
    ASSERT_TRUE(login.session.has_value());
    const std::string cookie = login.session->cookie_value;
    EXPECT_EQ(cookie.size(), 43u);
    EXPECT_EQ(login.session->session.id_hash, crypto::sha256_hex(cookie));
    EXPECT_FALSE(login.session->session.csrf.empty());
    auto current = cabinet_->current_session(cookie);
    ASSERT_TRUE(current.ok() && current->has_value());
    EXPECT_EQ((*current)->user.email, "ivanov@example.org");
    const int64_t uid = (*current)->user.id;

    auto offices = cabinet_->offices();
    ASSERT_TRUE(offices.ok());
    ASSERT_EQ(offices->size(), 1u);

    LinkReply link =
        cabinet_->link_account(uid, "SIM", "12-345", "Иванов Иван Иванович", "1 234,50", ctx_);
    ASSERT_EQ(link.outcome, Outcome::ok) << outcome_code(link.outcome);
    ASSERT_TRUE(link.linked.has_value());
    EXPECT_EQ(link.linked->account.account_number, "12345");
    EXPECT_EQ(link.linked->office.code, "SIM");

    auto registry = cabinet_->accounts(uid);
    ASSERT_TRUE(registry.ok());
    ASSERT_EQ(registry->size(), 1u);
    EXPECT_EQ((*registry)[0].account.address, "ул. Ленина, 1");
    auto details = cabinet_->account_details(uid, link.linked->link_id);
    ASSERT_TRUE(details.ok());
    EXPECT_EQ(details->account.last_payment, 123450);

    EXPECT_EQ(cabinet_->link_account(uid, "SIM", "12345", "иванов", "1234.5", ctx_).outcome,
              Outcome::already_linked);

    EXPECT_EQ(cabinet_->unlink(uid, link.linked->link_id, ctx_).outcome, Outcome::ok);
    EXPECT_TRUE(cabinet_->accounts(uid)->empty());
    EXPECT_EQ(cabinet_->unlink(uid, link.linked->link_id, ctx_).outcome, Outcome::not_found);

    EXPECT_EQ(cabinet_->logout((*current)->session, ctx_).outcome, Outcome::ok);
    current = cabinet_->current_session(cookie);
    ASSERT_TRUE(current.ok());
    EXPECT_FALSE(current->has_value());

    auto events = audit_events();
    for (const char* e : {"register", "confirm", "login_ok", "login_fail", "link_ok", "unlink"}) {
        EXPECT_TRUE(has(events, e)) << e;
    }
}

TEST_F(CabinetTest, RegistrationFormErrorsAreAllReportedAndChangeNothing) {
    Reply r = cabinet_->register_user("not-an-email", "пароль123", "x", false, ctx_);
    EXPECT_EQ(r.outcome, Outcome::form_error);
    ASSERT_NE(r.error_of("email"), nullptr);
    ASSERT_NE(r.error_of("password"), nullptr);
    EXPECT_EQ(r.error_of("password")->code, "password_cyrillic");
    ASSERT_NE(r.error_of("consent"), nullptr);

    r = cabinet_->register_user("a@example.org", "secret12", "secret13", true, ctx_);
    ASSERT_NE(r.error_of("password_confirm"), nullptr);
    EXPECT_EQ(r.error_of("password_confirm")->code, "password_mismatch");

    r = cabinet_->register_user("a@example.org", "abc", "abc", true, ctx_);
    ASSERT_NE(r.error_of("password"), nullptr);
    EXPECT_EQ(r.error_of("password")->code, "password_too_short");
    EXPECT_NE(r.error_of("password")->ru.find('6'), std::string::npos)
        << r.error_of("password")->ru;

    auto outbox = storage_->list_outbox(100);
    EXPECT_TRUE(outbox->empty());
    EXPECT_FALSE(storage_->find_user_by_email("a@example.org")->has_value());
}

TEST_F(CabinetTest, ConfirmRefusesUnknownAndExpiredLinks) {
    EXPECT_EQ(cabinet_->confirm("", ctx_).outcome, Outcome::invalid_token);
    EXPECT_EQ(cabinet_->confirm("nonsense", ctx_).outcome, Outcome::invalid_token);
    ASSERT_TRUE(
        cabinet_->register_user("late@example.org", "secret12", "secret12", true, ctx_).ok());
    const std::string token = token_in(mails_to("late@example.org").at(0));
    clock_.advance(48 * 3600);
    EXPECT_EQ(cabinet_->confirm(token, ctx_).outcome, Outcome::invalid_token);
    EXPECT_EQ((*storage_->find_user_by_email("late@example.org"))->status, UserStatus::pending);
}

TEST_F(CabinetTest, RegistrationDoesNotRevealKnownEmails) {
    active_user("known@example.org");
    clock_.advance(3600);

    Reply unknown = cabinet_->register_user("new@example.org", "secret12", "secret12", true, ctx_);
    Reply known = cabinet_->register_user("known@example.org", "other123", "other123", true, ctx_);
    EXPECT_EQ(unknown.outcome, Outcome::ok);
    EXPECT_EQ(known.outcome, unknown.outcome);
    EXPECT_EQ(known.errors.size(), unknown.errors.size());
    EXPECT_EQ(known.retry_after, unknown.retry_after);

    auto to_new = mails_to("new@example.org");
    ASSERT_EQ(to_new.size(), 1u);
    EXPECT_NE(to_new[0].subject.find("Подтвердите"), std::string::npos);
    auto to_known = mails_to("known@example.org");
    ASSERT_EQ(to_known.size(), 2u);  // the original confirmation, then "you already have one"
    EXPECT_NE(to_known[1].subject.find("уже есть"), std::string::npos) << to_known[1].subject;
    EXPECT_NE(to_known[1].body_text.find("https://lkk.example.org/lkk/password/forgot"),
              std::string::npos);
    EXPECT_EQ(to_known[1].body_text.find("?token="), std::string::npos);
    // The owner's password did not change.
    EXPECT_EQ(cabinet_->login("known@example.org", "secret12", ctx_).outcome, Outcome::ok);
}

// SPEC 4: nobody can pre-register someone else's address. An attacker registers the victim's
// e-mail with P1; the victim registers it with P2 moments later.
TEST_F(CabinetTest, RegisteringAPendingEmailAgainTakesItOver) {
    Reply attacker =
        cabinet_->register_user("victim@example.org", "attacker1", "attacker1", true, ctx_);
    clock_.advance(5);
    Reply victim =
        cabinet_->register_user("victim@example.org", "victim22", "victim22", true, ctx_);
    Reply fresh = cabinet_->register_user("fresh@example.org", "victim22", "victim22", true, ctx_);
    // The same answer as for an e-mail nobody registered.
    EXPECT_EQ(victim.outcome, Outcome::ok);
    EXPECT_EQ(victim.outcome, fresh.outcome);
    EXPECT_EQ(victim.errors.size(), fresh.errors.size());
    EXPECT_EQ(victim.retry_after, fresh.retry_after);
    EXPECT_EQ(attacker.outcome, Outcome::ok);

    auto mails = mails_to("victim@example.org");
    ASSERT_EQ(mails.size(), 2u);  // a fresh link for the second registration
    EXPECT_NE(mails[1].subject.find("Подтвердите"), std::string::npos);
    ASSERT_NE(token_in(mails[0]), token_in(mails[1]));
    // The older link no longer confirms, and says it was replaced (not "invalid").
    EXPECT_EQ(cabinet_->confirm(token_in(mails[0]), ctx_).outcome, Outcome::link_replaced);
    EXPECT_EQ(cabinet_->login("victim@example.org", "victim22", ctx_).outcome,
              Outcome::not_confirmed);
    EXPECT_EQ(cabinet_->confirm(token_in(mails[1]), ctx_).outcome, Outcome::ok);
    EXPECT_EQ(cabinet_->confirm(token_in(mails[1]), ctx_).outcome, Outcome::ok);  // scanners
    EXPECT_EQ(cabinet_->confirm(token_in(mails[0]), ctx_).outcome, Outcome::link_replaced);
    EXPECT_EQ(cabinet_->login("victim@example.org", "victim22", ctx_).outcome, Outcome::ok);
    EXPECT_EQ(cabinet_->login("victim@example.org", "attacker1", ctx_).outcome,
              Outcome::wrong_credentials);
    EXPECT_TRUE(has(audit_events(), "register_replaced"));
    auto user = storage_->find_user_by_email("victim@example.org");
    ASSERT_TRUE(user.ok() && user->has_value());
    auto consents = storage_->consents_of((*user)->id);
    ASSERT_TRUE(consents.ok());
    EXPECT_EQ(consents->size(), 2u);  // the victim's own consent is recorded too

    // Once confirmed, a registration no longer touches the password.
    clock_.advance(3600);
    EXPECT_TRUE(
        cabinet_->register_user("victim@example.org", "attacker1", "attacker1", true, ctx_).ok());
    EXPECT_EQ(cabinet_->login("victim@example.org", "victim22", ctx_).outcome, Outcome::ok);
    EXPECT_NE(mails_to("victim@example.org").back().subject.find("уже есть"), std::string::npos);
}

// Over the per-e-mail mail budget the password and the links are still replaced; only the mail
// is left out, and the answer does not change.
TEST_F(CabinetTest, TakeoverOverTheMailBudgetStillReplacesWithoutMail) {
    const int budget = settings_.throttle.resend_per_email;  // 3 an hour
    ASSERT_TRUE(
        cabinet_->register_user("busy@example.org", "first111", "first111", true, ctx_).ok());
    for (int i = 0; i < budget; ++i) {
        ASSERT_TRUE(
            cabinet_->register_user("busy@example.org", "again222", "again222", true, ctx_).ok());
    }
    auto mails = mails_to("busy@example.org");
    ASSERT_EQ(mails.size(), static_cast<size_t>(1 + budget));
    Reply over = cabinet_->register_user("busy@example.org", "last3333", "last3333", true, ctx_);
    EXPECT_EQ(over.outcome, Outcome::ok);
    EXPECT_EQ(over.retry_after, 0);
    EXPECT_EQ(mails_to("busy@example.org").size(), mails.size());  // no mail
    for (const auto& m : mails) {
        EXPECT_EQ(cabinet_->confirm(token_in(m), ctx_).outcome, Outcome::link_replaced);
    }
    // An hour later the resend form mails a link that confirms the newest password.
    clock_.advance(settings_.throttle.resend_window + 1);
    ASSERT_TRUE(cabinet_->resend_confirmation("busy@example.org", ctx_).ok());
    auto after = mails_to("busy@example.org");
    ASSERT_EQ(after.size(), mails.size() + 1);
    EXPECT_EQ(cabinet_->confirm(token_in(after.back()), ctx_).outcome, Outcome::ok);
    EXPECT_EQ(cabinet_->login("busy@example.org", "last3333", ctx_).outcome, Outcome::ok);
    EXPECT_EQ(cabinet_->login("busy@example.org", "again222", ctx_).outcome,
              Outcome::wrong_credentials);
}

TEST_F(CabinetTest, ParallelRegistrationsOfOneEmailMakeOneUser) {
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 20; ++i) {
        threads.emplace_back([&, i] {
            RequestContext ctx{"198.51.100." + std::to_string(i), "UA", Locale::ru};
            if (cabinet_->register_user("race@example.org", "secret12", "secret12", true, ctx)
                    .ok()) {
                ++ok;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 20);
    auto found = storage_->search_users("race@example.org", 10);
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(found->size(), 1u);
    // The creation's mail, then fresh links within the per-e-mail budget.
    const auto mails = mails_to("race@example.org");
    EXPECT_GE(mails.size(), 1u);
    EXPECT_LE(mails.size(), static_cast<size_t>(1 + settings_.throttle.resend_per_email));
    // At most the newest link confirms (a registration over the budget replaced them all).
    int confirmed = 0;
    for (size_t i = mails.size(); i-- > 0;) {
        const Outcome o = cabinet_->confirm(token_in(mails[i]), ctx_).outcome;
        EXPECT_TRUE(o == Outcome::ok || o == Outcome::link_replaced) << outcome_code(o);
        if (o == Outcome::ok) {
            EXPECT_EQ(i, mails.size() - 1);
            ++confirmed;
        }
    }
    EXPECT_LE(confirmed, 1);
}

TEST_F(CabinetTest, RegistrationIsThrottledPerIp) {
    for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(cabinet_
                        ->register_user("u" + std::to_string(i) + "@example.org", "secret12",
                                        "secret12", true, ctx_)
                        .ok());
    }
    Reply r = cabinet_->register_user("u10@example.org", "secret12", "secret12", true, ctx_);
    EXPECT_EQ(r.outcome, Outcome::throttled);
    EXPECT_GT(r.retry_after, 0);
    EXPECT_FALSE(storage_->find_user_by_email("u10@example.org")->has_value());
    clock_.advance(3601);
    EXPECT_TRUE(
        cabinet_->register_user("u10@example.org", "secret12", "secret12", true, ctx_).ok());
}

TEST_F(CabinetTest, ResendAnswersTheSameAndIsThrottled) {
    ASSERT_TRUE(cabinet_->register_user("p@example.org", "secret12", "secret12", true, ctx_).ok());
    active_user("a@example.org");
    for (const char* email : {"p@example.org", "a@example.org", "nobody@example.org"}) {
        for (int i = 0; i < 3; ++i) {
            EXPECT_EQ(cabinet_->resend_confirmation(email, ctx_).outcome, Outcome::ok) << email;
        }
        Reply fourth = cabinet_->resend_confirmation(email, ctx_);
        EXPECT_EQ(fourth.outcome, Outcome::throttled) << email;
        EXPECT_GT(fourth.retry_after, 0);
    }
    EXPECT_EQ(mails_to("p@example.org").size(), 4u);  // registration + 3 resends
    EXPECT_EQ(mails_to("a@example.org").size(), 1u);  // only its original confirmation
    EXPECT_TRUE(mails_to("nobody@example.org").empty());
}

TEST_F(CabinetTest, LoginSaysOnlyWrongEmailOrPassword) {
    active_user("user@example.org");
    EXPECT_EQ(cabinet_->login("user@example.org", "wrong123", ctx_).outcome,
              Outcome::wrong_credentials);
    EXPECT_EQ(cabinet_->login("ghost@example.org", "secret12", ctx_).outcome,
              Outcome::wrong_credentials);
    ASSERT_TRUE(support_->block_user("user@example.org").ok());
    EXPECT_EQ(cabinet_->login("user@example.org", "secret12", ctx_).outcome,
              Outcome::wrong_credentials);
    ASSERT_TRUE(support_->unblock_user("user@example.org").ok());
    EXPECT_EQ(cabinet_->login("user@example.org", "secret12", ctx_).outcome, Outcome::ok);

    LoginReply empty = cabinet_->login("", "", ctx_);
    EXPECT_EQ(empty.outcome, Outcome::form_error);
    EXPECT_NE(empty.error_of("email"), nullptr);
    EXPECT_NE(empty.error_of("password"), nullptr);
}

TEST_F(CabinetTest, LoginLockAfterFiveFailuresGrows) {
    active_user("victim@example.org");
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(cabinet_->login("victim@example.org", "wrong123", ctx_).outcome,
                  Outcome::wrong_credentials)
            << i;
    }
    // The sixth attempt is refused even with the right password.
    LoginReply locked = cabinet_->login("victim@example.org", "secret12", ctx_);
    EXPECT_EQ(locked.outcome, Outcome::throttled);
    EXPECT_EQ(locked.retry_after, 15 * 60);
    auto info = support_->lock_info("victim@example.org");
    ASSERT_TRUE(info.ok());
    EXPECT_TRUE(info->login_locked);

    clock_.advance(15 * 60 + 1);
    EXPECT_EQ(cabinet_->login("victim@example.org", "secret12", ctx_).outcome, Outcome::ok);

    // The second lock within a day lasts twice as long.
    for (int i = 0; i < 5; ++i) (void)cabinet_->login("victim@example.org", "wrong123", ctx_);
    clock_.advance(16 * 60);
    LoginReply second = cabinet_->login("victim@example.org", "secret12", ctx_);
    EXPECT_EQ(second.outcome, Outcome::throttled);
    EXPECT_EQ(second.retry_after, 30 * 60);
    clock_.advance(15 * 60);
    EXPECT_EQ(cabinet_->login("victim@example.org", "secret12", ctx_).outcome, Outcome::ok);

    // An unknown e-mail is locked the same way (no enumeration through the lock either).
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(cabinet_->login("ghost@example.org", "wrong123", ctx_).outcome,
                  Outcome::wrong_credentials);
    }
    EXPECT_EQ(cabinet_->login("ghost@example.org", "wrong123", ctx_).outcome, Outcome::throttled);
}

TEST_F(CabinetTest, AdminUnlockLiftsTheLoginLock) {
    active_user("victim@example.org");
    for (int i = 0; i < 5; ++i) (void)cabinet_->login("victim@example.org", "wrong123", ctx_);
    ASSERT_EQ(cabinet_->login("victim@example.org", "secret12", ctx_).outcome, Outcome::throttled);
    ASSERT_TRUE(support_->unlock_user("victim@example.org").ok());
    EXPECT_EQ(cabinet_->login("victim@example.org", "secret12", ctx_).outcome, Outcome::ok);
    EXPECT_TRUE(has(audit_events(), "admin_unlock"));
}

TEST_F(CabinetTest, LoginIsThrottledPerIp) {
    for (int i = 0; i < 30; ++i) {
        EXPECT_EQ(
            cabinet_->login("g" + std::to_string(i) + "@example.org", "wrong123", ctx_).outcome,
            Outcome::wrong_credentials);
    }
    EXPECT_EQ(cabinet_->login("other@example.org", "wrong123", ctx_).outcome, Outcome::throttled);
    RequestContext elsewhere{"203.0.113.9", "UA", Locale::ru};
    EXPECT_EQ(cabinet_->login("other@example.org", "wrong123", elsewhere).outcome,
              Outcome::wrong_credentials);
    clock_.advance(61);
    EXPECT_EQ(cabinet_->login("other@example.org", "wrong123", ctx_).outcome,
              Outcome::wrong_credentials);
}

TEST_F(CabinetTest, LoginRehashesWhenTheCostChanged) {
    active_user("old@example.org");
    const std::string before = (*storage_->find_user_by_email("old@example.org"))->password_hash;
    settings_.passwords.argon2_memory_kib = 2048;
    ASSERT_EQ(cabinet_->login("old@example.org", "secret12", ctx_).outcome, Outcome::ok);
    const std::string after = (*storage_->find_user_by_email("old@example.org"))->password_hash;
    EXPECT_NE(before, after);
    EXPECT_NE(after.find("m=2048"), std::string::npos) << after;
    EXPECT_EQ(cabinet_->login("old@example.org", "secret12", ctx_).outcome, Outcome::ok);
}

TEST_F(CabinetTest, SessionsExpireWhenIdleAndAfterTwelveHours) {
    active_user("s@example.org");
    SessionGrant g = logged_in("s@example.org");
    clock_.advance(29 * 60);
    EXPECT_TRUE(cabinet_->current_session(g.cookie_value)->has_value());
    clock_.advance(29 * 60);  // 58 minutes after login, 29 after the last request
    EXPECT_TRUE(cabinet_->current_session(g.cookie_value)->has_value());
    clock_.advance(31 * 60);
    EXPECT_FALSE(cabinet_->current_session(g.cookie_value)->has_value());

    SessionGrant busy = logged_in("s@example.org");
    for (int i = 1; i <= 12 * 4 + 1; ++i) {
        clock_.advance(15 * 60);
        if (!cabinet_->current_session(busy.cookie_value)->has_value()) {
            EXPECT_GT(i, 12 * 4) << "ended too early, after " << i * 15 << " minutes";
            return;
        }
    }
    ADD_FAILURE() << "an active session outlived the absolute timeout";
}

TEST_F(CabinetTest, GarbageCookieIsNoSession) {
    auto s = cabinet_->current_session("");
    ASSERT_TRUE(s.ok());
    EXPECT_FALSE(s->has_value());
    s = cabinet_->current_session(std::string(5000, 'x'));
    ASSERT_TRUE(s.ok());
    EXPECT_FALSE(s->has_value());
}

TEST_F(CabinetTest, LinkMismatchShowsPhonesAndTheSixthFailureIsThrottled) {
    const int64_t uid = active_user("l@example.org");
    for (int i = 0; i < 5; ++i) {
        LinkReply r = cabinet_->link_account(uid, "SIM", "12345", "Петров", "1234,50", ctx_);
        ASSERT_EQ(r.outcome, Outcome::mismatch) << i;
        ASSERT_TRUE(r.office.has_value());
        EXPECT_EQ(r.office->phones, "+7 3652 11-11-11, +7 3652 22-22-22");
        EXPECT_TRUE(r.errors.empty()) << "must not say which field was wrong";
    }
    // Even the right data are refused now; the office's phones come with the refusal.
    LinkReply sixth = cabinet_->link_account(uid, "SIM", "12345", "Иванов", "1234,50", ctx_);
    EXPECT_EQ(sixth.outcome, Outcome::throttled);
    ASSERT_TRUE(sixth.office.has_value());
    EXPECT_EQ(sixth.office->code, "SIM");
    EXPECT_GT(sixth.retry_after, 0);
    EXPECT_TRUE(has(audit_events(), "link_fail"));

    ASSERT_TRUE(support_->unlock_user("l@example.org").ok());
    // The billing account still has 5 failures for today.
    EXPECT_EQ(cabinet_->link_account(uid, "SIM", "12345", "Иванов", "1234,50", ctx_).outcome,
              Outcome::throttled);
    ASSERT_TRUE(support_->unlock_account("SIM", "123-45").ok());
    EXPECT_EQ(cabinet_->link_account(uid, "SIM", "12345", "Иванов", "1234,50", ctx_).outcome,
              Outcome::ok);
}

TEST_F(CabinetTest, LinkFailuresAreCountedPerBillingAccountAcrossCabinets) {
    const int64_t a = active_user("a@example.org");
    const int64_t b = active_user("b@example.org");
    for (int i = 0; i < 3; ++i) (void)cabinet_->link_account(a, "SIM", "12345", "X", "1", ctx_);
    for (int i = 0; i < 2; ++i) (void)cabinet_->link_account(b, "SIM", "12345", "X", "1", ctx_);
    // Another account of the same office is still open to cabinet b.
    EXPECT_EQ(cabinet_->link_account(b, "SIM", "777", "Петрова–Водкина", "0", ctx_).outcome,
              Outcome::ok);
    EXPECT_EQ(cabinet_->link_account(b, "SIM", "12345", "Иванов", "1234,50", ctx_).outcome,
              Outcome::throttled);
    clock_.advance(24 * 3600);
    EXPECT_EQ(cabinet_->link_account(b, "SIM", "12345", "Иванов", "1234,50", ctx_).outcome,
              Outcome::ok);
}

TEST_F(CabinetTest, UnknownAccountIsAMismatchNotAnError) {
    const int64_t uid = active_user("l@example.org");
    LinkReply r = cabinet_->link_account(uid, "SIM", "99999", "Иванов", "1234,50", ctx_);
    EXPECT_EQ(r.outcome, Outcome::mismatch);
    EXPECT_TRUE(r.office.has_value());
}

TEST_F(CabinetTest, BadLinkInputIsAFormErrorAndNotCounted) {
    const int64_t uid = active_user("l@example.org");
    for (int i = 0; i < 10; ++i) {
        LinkReply r = cabinet_->link_account(uid, "SIM", "12345", "Иванов", "12,345", ctx_);
        ASSERT_EQ(r.outcome, Outcome::form_error);
        ASSERT_NE(r.error_of("amount"), nullptr);
        EXPECT_EQ(r.error_of("amount")->code, "amount_too_many_decimals");
    }
    LinkReply r = cabinet_->link_account(uid, "NOPE", "", "", "-5", ctx_);
    EXPECT_EQ(r.outcome, Outcome::form_error);
    EXPECT_EQ(r.error_of("office")->code, "office_unknown");
    EXPECT_NE(r.error_of("account"), nullptr);
    EXPECT_NE(r.error_of("surname"), nullptr);
    EXPECT_EQ(r.error_of("amount")->code, "amount_sign");
    r = cabinet_->link_account(uid, "", "12345", "Иванов", "1234,50", ctx_);
    EXPECT_EQ(r.error_of("office")->code, "required");
    // Not one of those was counted as a guess.
    EXPECT_EQ(cabinet_->link_account(uid, "SIM", "12345", "ИВАНОВ", "1234.50", ctx_).outcome,
              Outcome::ok);
}

TEST_F(CabinetTest, ZeroAmountOnlyWhenNothingWasPaidThisYear) {
    const int64_t uid = active_user("z@example.org");
    // Account 777 last paid 500,00 on 2025-12-20; the clock says June 2026.
    EXPECT_EQ(cabinet_->link_account(uid, "SIM", "777", "Петрова-Водкина", "500", ctx_).outcome,
              Outcome::mismatch);
    EXPECT_EQ(cabinet_->link_account(uid, "SIM", "777", "Петрова—Водкина", "0", ctx_).outcome,
              Outcome::ok);

    // Back in 2025 the payment counts and 0 does not.
    clock_.set(utc_new_year(2025) + 200 * 86400);
    const int64_t uid2 = active_user("z2@example.org");
    EXPECT_EQ(cabinet_->link_account(uid2, "SIM", "777", "петрова-водкина", "0", ctx_).outcome,
              Outcome::mismatch);
    EXPECT_EQ(cabinet_->link_account(uid2, "SIM", "777", "петрова-водкина", "500,00", ctx_).outcome,
              Outcome::ok);

    // Account 12345 paid in 2026: on 31 Dec 2025 at 23:30 UTC it is already 2026 in
    // Simferopol, so the 2026 payment is expected.
    auto acct = storage_->find_billing_account("SIM", "12345");
    ASSERT_TRUE(acct.ok() && acct->has_value());
    clock_.set(utc_new_year(2026) - 1800);
    EXPECT_EQ(cabinet_->expected_amount(**acct), 123450);
    settings_.portal.time_zone = "UTC";
    EXPECT_EQ(cabinet_->expected_amount(**acct), 0);
}

TEST_F(CabinetTest, PasswordRecoveryIsTheSameForKnownAndUnknownEmails) {
    active_user("known@example.org");
    Reply known = cabinet_->forgot_password("known@example.org", ctx_);
    Reply unknown = cabinet_->forgot_password("unknown@example.org", ctx_);
    EXPECT_EQ(known.outcome, Outcome::ok);
    EXPECT_EQ(unknown.outcome, Outcome::ok);
    EXPECT_TRUE(mails_to("unknown@example.org").empty());
    auto mails = mails_to("known@example.org");
    ASSERT_EQ(mails.size(), 2u);
    EXPECT_NE(mails[1].body_text.find("https://lkk.example.org/lkk/password/reset?token="),
              std::string::npos);
    EXPECT_NE(mails[1].body_text.find("1 час"), std::string::npos);
}

TEST_F(CabinetTest, ResetTokenIsSingleUseAndExpires) {
    active_user("r@example.org");
    SessionGrant before = logged_in("r@example.org");
    ASSERT_TRUE(cabinet_->forgot_password("r@example.org", ctx_).ok());
    const std::string token = token_in(mails_to("r@example.org").back());
    ASSERT_FALSE(token.empty());

    // Showing the form twice does not consume the link.
    EXPECT_TRUE(cabinet_->check_reset_token(token).ok());
    EXPECT_TRUE(cabinet_->check_reset_token(token).ok());
    EXPECT_EQ(cabinet_->check_reset_token("bogus").outcome, Outcome::invalid_token);

    Reply weak = cabinet_->reset_password(token, "r@example.org", "r@example.org", ctx_);
    EXPECT_EQ(weak.outcome, Outcome::form_error);
    EXPECT_EQ(weak.error_of("password")->code, "password_like_email");
    EXPECT_TRUE(cabinet_->check_reset_token(token).ok()) << "a form error must not use it up";

    EXPECT_EQ(cabinet_->reset_password(token, "newpass99", "newpass99", ctx_).outcome, Outcome::ok);
    EXPECT_EQ(cabinet_->reset_password(token, "another99", "another99", ctx_).outcome,
              Outcome::invalid_token);
    EXPECT_EQ(cabinet_->check_reset_token(token).outcome, Outcome::invalid_token);
    EXPECT_FALSE(cabinet_->current_session(before.cookie_value)->has_value());
    EXPECT_EQ(cabinet_->login("r@example.org", "secret12", ctx_).outcome,
              Outcome::wrong_credentials);
    EXPECT_EQ(cabinet_->login("r@example.org", "newpass99", ctx_).outcome, Outcome::ok);
    EXPECT_TRUE(has(audit_events(), "password_reset"));

    // Expiry: an hour later a fresh link no longer works.
    clock_.advance(3600);  // also leaves the forgot throttle window
    ASSERT_TRUE(cabinet_->forgot_password("r@example.org", ctx_).ok());
    const std::string late = token_in(mails_to("r@example.org").back());
    ASSERT_NE(late, token);
    clock_.advance(3600);
    EXPECT_EQ(cabinet_->check_reset_token(late).outcome, Outcome::invalid_token);
    EXPECT_EQ(cabinet_->reset_password(late, "newpass77", "newpass77", ctx_).outcome,
              Outcome::invalid_token);
}

TEST_F(CabinetTest, OfRacingResetPostsOnlyOneWins) {
    active_user("race@example.org");
    ASSERT_TRUE(cabinet_->forgot_password("race@example.org", ctx_).ok());
    const std::string token = token_in(mails_to("race@example.org").back());
    std::atomic<int> won{0}, refused{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&, i] {
            const std::string pw = "newpass" + std::to_string(10 + i);
            Outcome o = cabinet_->reset_password(token, pw, pw, ctx_).outcome;
            if (o == Outcome::ok) ++won;
            if (o == Outcome::invalid_token) ++refused;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(won.load(), 1);
    EXPECT_EQ(refused.load(), 7);
}

TEST_F(CabinetTest, ResettingInvalidatesTheOtherResetLinks) {
    active_user("r@example.org");
    ASSERT_TRUE(cabinet_->forgot_password("r@example.org", ctx_).ok());
    ASSERT_TRUE(cabinet_->forgot_password("r@example.org", ctx_).ok());
    auto mails = mails_to("r@example.org");
    ASSERT_EQ(mails.size(), 3u);
    const std::string first = token_in(mails[1]), second = token_in(mails[2]);
    EXPECT_TRUE(cabinet_->reset_password(second, "newpass99", "newpass99", ctx_).ok());
    EXPECT_EQ(cabinet_->reset_password(first, "newpass88", "newpass88", ctx_).outcome,
              Outcome::invalid_token);
}

TEST_F(CabinetTest, ChangePasswordEndsEverySessionButGivesANewOne) {
    active_user("c@example.org");
    SessionGrant here = logged_in("c@example.org");
    SessionGrant elsewhere = logged_in("c@example.org");

    ChangePasswordReply wrong =
        cabinet_->change_password(here.session, "nope1234", "newpass99", "newpass99", ctx_);
    EXPECT_EQ(wrong.outcome, Outcome::form_error);
    ASSERT_NE(wrong.error_of("old_password"), nullptr);
    EXPECT_EQ(wrong.error_of("old_password")->code, "old_password_wrong");

    ChangePasswordReply r =
        cabinet_->change_password(here.session, "secret12", "newpass99", "newpass99", ctx_);
    ASSERT_EQ(r.outcome, Outcome::ok);
    ASSERT_TRUE(r.session.has_value());
    EXPECT_FALSE(cabinet_->current_session(here.cookie_value)->has_value());
    EXPECT_FALSE(cabinet_->current_session(elsewhere.cookie_value)->has_value());
    EXPECT_TRUE(cabinet_->current_session(r.session->cookie_value)->has_value());
    EXPECT_EQ(cabinet_->login("c@example.org", "newpass99", ctx_).outcome, Outcome::ok);
    EXPECT_TRUE(has(audit_events(), "password_change"));
}

TEST_F(CabinetTest, AdminOperations) {
    // Resend and confirm act on a pending cabinet only.
    ASSERT_TRUE(cabinet_->register_user("p@example.org", "secret12", "secret12", true, ctx_).ok());
    ASSERT_TRUE(support_->resend_confirmation("p@example.org").ok());
    EXPECT_EQ(mails_to("p@example.org").size(), 2u);
    ASSERT_TRUE(support_->confirm_user("p@example.org").ok());
    EXPECT_EQ(support_->confirm_user("p@example.org").error().code(), StatusCode::conflict);
    EXPECT_EQ(support_->resend_confirmation("nobody@example.org").error().code(),
              StatusCode::not_found);

    // A printed reset link works once and no mail goes out.
    auto link = support_->reset_password("p@example.org", false);
    ASSERT_TRUE(link.ok());
    EXPECT_EQ(link->rfind("https://lkk.example.org/lkk/password/reset?token=", 0), 0u);
    EXPECT_EQ(mails_to("p@example.org").size(), 2u);
    const std::string token = link->substr(link->find('=') + 1);
    EXPECT_TRUE(cabinet_->reset_password(token, "viaadmin1", "viaadmin1", ctx_).ok());
    EXPECT_EQ(cabinet_->reset_password(token, "viaadmin2", "viaadmin2", ctx_).outcome,
              Outcome::invalid_token);
    ASSERT_TRUE(support_->reset_password("p@example.org", true).ok());
    EXPECT_EQ(mails_to("p@example.org").size(), 3u);

    // Logout ends every session; block also does and stops login.
    SessionGrant s = logged_in("p@example.org", "viaadmin1");
    ASSERT_TRUE(support_->logout_user("p@example.org").ok());
    EXPECT_FALSE(cabinet_->current_session(s.cookie_value)->has_value());
    s = logged_in("p@example.org", "viaadmin1");
    ASSERT_TRUE(support_->block_user("p@example.org").ok());
    EXPECT_FALSE(cabinet_->current_session(s.cookie_value)->has_value());
    EXPECT_EQ(cabinet_->login("p@example.org", "viaadmin1", ctx_).outcome,
              Outcome::wrong_credentials);
    ASSERT_TRUE(support_->unblock_user("p@example.org").ok());
    s = logged_in("p@example.org", "viaadmin1");

    // Unlink by office and number.
    const int64_t uid = s.session.user_id;
    ASSERT_TRUE(cabinet_->link_account(uid, "SIM", "12345", "Иванов", "1234,50", ctx_).ok());
    EXPECT_EQ(support_->unlink_account("p@example.org", "SIM", "777").code(),
              StatusCode::not_found);
    ASSERT_TRUE(support_->unlink_account("p@example.org", "SIM", "12-345").ok());
    EXPECT_TRUE(cabinet_->accounts(uid)->empty());

    // Delete erases the person but keeps an anonymised trail.
    ASSERT_TRUE(support_->delete_user("p@example.org").ok());
    EXPECT_FALSE(cabinet_->current_session(s.cookie_value)->has_value());
    EXPECT_EQ(cabinet_->login("p@example.org", "viaadmin1", ctx_).outcome,
              Outcome::wrong_credentials);
    EXPECT_EQ(support_->delete_user("p@example.org").error().code(), StatusCode::not_found);
    auto trail = storage_->recent_audit(uid, 100);
    ASSERT_TRUE(trail.ok());
    EXPECT_FALSE(trail->empty());
    for (const auto& e : *trail) {
        EXPECT_EQ(e.detail.find("p@example.org"), std::string::npos) << e.event;
    }
    auto events = audit_events();
    for (const char* e : {"admin_resend", "admin_confirm", "admin_reset_password", "admin_logout",
                          "admin_block", "admin_unblock", "admin_unlink", "admin_delete"}) {
        EXPECT_TRUE(has(events, e)) << e;
    }
    // Support's rows name the tool's actor; the subscriber's own rows name the subscriber.
    for (const auto& e : *trail) {
        if (e.event.rfind("admin_", 0) == 0) {
            EXPECT_EQ(e.actor.kind, ActorKind::tool) << e.event;
            EXPECT_EQ(e.actor.os_user, "tester") << e.event;
            EXPECT_EQ(e.actor.host, "testhost") << e.event;
            EXPECT_EQ(e.actor.ip, "") << e.event;
        } else {
            EXPECT_EQ(e.actor.kind, ActorKind::subscriber) << e.event;
            EXPECT_EQ(e.actor.user_id, uid) << e.event;
            EXPECT_EQ(e.actor.ip, "192.0.2.1") << e.event;
        }
    }
    // The e-mail is free again for a new registration.
    EXPECT_TRUE(cabinet_->register_user("p@example.org", "secret12", "secret12", true, ctx_).ok());
    EXPECT_TRUE(storage_->find_user_by_email("p@example.org")->has_value());
}

TEST_F(CabinetTest, MailTextsCanBeOverriddenFromTheTemplatesDirectory) {
    fs::create_directories(dir_ / "tpl" / "ru");
    {
        std::ofstream f(dir_ / "tpl" / "ru" / "mail_confirm.txt");
        f << "Subject: Своя тема\n\nСсылка: {{{link}}} ({{valid_for}}), {{support_email}}\n";
    }
    settings_.portal.templates_dir = (dir_ / "tpl").string();
    Cabinet cabinet(settings_, *storage_, *sessions_, *counters_, clock_);
    ASSERT_TRUE(cabinet.register_user("o@example.org", "secret12", "secret12", true, ctx_).ok());
    auto mails = mails_to("o@example.org");
    ASSERT_EQ(mails.size(), 1u);
    EXPECT_EQ(mails[0].subject, "Своя тема");
    EXPECT_EQ(mails[0].body_text.rfind("Ссылка: https://lkk.example.org/lkk/confirm?token=", 0), 0u)
        << mails[0].body_text;
    EXPECT_NE(mails[0].body_text.find("(48 часов), help@example.org"), std::string::npos);
}

TEST_F(CabinetTest, EnglishMails) {
    RequestContext en{"192.0.2.7", "UA", Locale::en};
    ASSERT_TRUE(cabinet_->register_user("en@example.org", "secret12", "secret12", true, en).ok());
    auto mails = mails_to("en@example.org");
    ASSERT_EQ(mails.size(), 1u);
    EXPECT_NE(mails[0].subject.find("confirm"), std::string::npos) << mails[0].subject;
    EXPECT_NE(mails[0].body_text.find("48 hours"), std::string::npos);
}

}  // namespace
}  // namespace lkk
