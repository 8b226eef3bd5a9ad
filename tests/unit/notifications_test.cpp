// The Notifications service (SPEC 11) on a real SQLite file with a ManualClock: when the
// readings reminder is due (the window's opening on month ends, in a non-UTC zone, across a
// year boundary), once per user and month (also with two "hosts" on one database), its
// RFC 8058 headers, the preferences and the one-click unsubscribe.
#include "lkk/notifications.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lkk/crypto.h"
#include "lkk/mailer.h"
#include "temp_dir.h"

namespace lkk {
namespace {

using notifications::reminder_period;

// Unix seconds of a UTC wall-clock time.
int64_t utc(int y, int m, int d, int hh = 0, int mm = 0) {
    return utc_midnight({y, m, d}) + hh * 3600 + mm * 60;
}

Settings window_settings(int start, int end, const std::string& zone) {
    Settings s;
    s.portal.time_zone = zone;
    s.readings.window_start_day = start;
    s.readings.window_end_day = end;
    return s;
}

TEST(ReminderPeriod, OpensAtLocalMidnightOfTheStartDay) {
    // Simferopol is UTC+3 all year: the 15th begins at 21:00 UTC on the 14th.
    const Settings s = window_settings(15, 25, "Europe/Simferopol");
    EXPECT_EQ(reminder_period(utc(2026, 5, 14, 20, 59), s), std::nullopt);
    EXPECT_EQ(reminder_period(utc(2026, 5, 14, 21, 0), s), "2026-05");
    EXPECT_EQ(reminder_period(utc(2026, 5, 25, 20, 59), s), "2026-05");
    EXPECT_EQ(reminder_period(utc(2026, 5, 25, 21, 0), s), std::nullopt);
}

TEST(ReminderPeriod, AnotherZoneDecidesOtherwiseAtTheSameInstant) {
    // 02:00 UTC on the 15th is still the 14th in New York (UTC-4 in May).
    EXPECT_EQ(reminder_period(utc(2026, 5, 15, 2), window_settings(15, 25, "America/New_York")),
              std::nullopt);
    EXPECT_EQ(reminder_period(utc(2026, 5, 15, 2), window_settings(15, 25, "UTC")), "2026-05");
}

TEST(ReminderPeriod, LastDaysOfAMonthAreClamped) {
    // Days 29..31 are the 28th alone in February 2026, the 29th in February 2028.
    const Settings s = window_settings(29, 31, "UTC");
    EXPECT_EQ(reminder_period(utc(2026, 2, 27, 23), s), std::nullopt);
    EXPECT_EQ(reminder_period(utc(2026, 2, 28, 0), s), "2026-02");
    EXPECT_EQ(reminder_period(utc(2026, 3, 1, 0), s), std::nullopt);
    EXPECT_EQ(reminder_period(utc(2028, 2, 29, 12), s), "2028-02");
    EXPECT_EQ(reminder_period(utc(2026, 4, 30, 23, 59), s), "2026-04");
    EXPECT_EQ(reminder_period(utc(2026, 5, 31, 12), s), "2026-05");
}

TEST(ReminderPeriod, AcrossTheYearBoundary) {
    // New Year's night in Simferopol is 21:00 UTC on 31 December.
    const Settings s = window_settings(1, 5, "Europe/Simferopol");
    EXPECT_EQ(reminder_period(utc(2026, 12, 31, 20, 59), s), std::nullopt);
    EXPECT_EQ(reminder_period(utc(2026, 12, 31, 21, 0), s), "2027-01");
    const Settings late = window_settings(25, 31, "Europe/Simferopol");
    EXPECT_EQ(reminder_period(utc(2026, 12, 31, 20, 59), late), "2026-12");
    EXPECT_EQ(reminder_period(utc(2026, 12, 31, 21, 0), late), std::nullopt);
}

class NotificationsService : public ::testing::Test {
  protected:
    void SetUp() override {
        settings_ = window_settings(15, 25, "Europe/Simferopol");
        settings_.portal.base_url = "https://lk.example.org";
        settings_.portal.base_path = "/lkk";
        settings_.readings.remind_interval = 600;
        st_ = open();
        ASSERT_TRUE(st_->insert_office({"SIM", "Симферопольское УЭГХ", "+7 1", ""}).ok());
        for (const char* number : {"100200", "100201"}) {
            BillingAccount a;
            a.office_code = "SIM";
            a.account_number = number;
            a.surname = "Иванов";
            a.surname_key = "иванов";
            ASSERT_TRUE(st_->upsert_billing_account(a).ok());
        }
        MeterRow row;
        row.office_code = "SIM";
        row.account_number = "100200";
        row.meter.serial = "A-1";
        ASSERT_TRUE(meter_store_of(*st_)->upsert_meters({row}).ok());
        ivan_ = active_user("ivan@example.org", "100200");  // a meter behind the link
        olga_ = active_user("olga@example.org", "100201");  // a link, no meter
        auto templates = TemplateSet::load(Locale::ru, "");
        ASSERT_TRUE(templates.ok());
        templates_ = std::move(templates.value());
        svc_ = std::make_unique<Notifications>(settings_, *st_, clock_, templates_);
    }

    std::unique_ptr<Storage> open() {
        auto opened = open_storage("sqlite:" + dir_.path() + "/lkk.db");
        EXPECT_TRUE(opened.ok()) << opened.error().message();
        return std::move(opened.value());
    }

    int64_t active_user(const std::string& email, const std::string& account) {
        auto id = st_->insert_user(email, "h", 1);
        EXPECT_TRUE(id.ok());
        EXPECT_TRUE(st_->set_user_status(*id, UserStatus::active).ok());
        auto acc = st_->find_billing_account("SIM", account);
        EXPECT_TRUE(acc.ok() && acc->has_value());
        EXPECT_TRUE(st_->insert_link(*id, (*acc)->id, 1).ok());
        return *id;
    }

    void want_reminders(int64_t user, bool on = true) {
        NotificationPreferences p;
        p.remind_readings = on;
        ASSERT_TRUE(svc_->save_preferences(user, p, RequestContext{"192.0.2.7", "t"}).ok());
    }

    std::vector<OutboxMail> mails_to(const std::string& who) {
        auto all = st_->list_outbox(1000);
        EXPECT_TRUE(all.ok());
        std::vector<OutboxMail> out;
        for (const OutboxMail& m : *all) {
            if (m.recipient == who) out.push_back(m);
        }
        return out;
    }

    static std::string header(const OutboxMail& m, const std::string& name) {
        for (const auto& [n, v] : m.headers) {
            if (n == name) return v;
        }
        return {};
    }

    // The token of the mail's List-Unsubscribe link.
    static std::string token_of(const OutboxMail& m) {
        const std::string h = header(m, "List-Unsubscribe");
        const size_t at = h.find("?t=");
        return at == std::string::npos ? std::string() : h.substr(at + 3, h.size() - at - 4);
    }

    test::TempDir dir_;
    Settings settings_;
    ManualClock clock_{utc(2026, 5, 10, 9)};  // before the window
    std::unique_ptr<Storage> st_;
    TemplateSet templates_;
    std::unique_ptr<Notifications> svc_;
    int64_t ivan_ = 0;
    int64_t olga_ = 0;
};

TEST_F(NotificationsService, PreferencesAreOffByDefaultAndSavedWithAnAuditRow) {
    auto p = svc_->preferences(ivan_);
    ASSERT_TRUE(p.ok());
    EXPECT_FALSE(p->remind_readings);
    EXPECT_FALSE(p->bill_by_email);
    NotificationPreferences both{true, true};
    ASSERT_TRUE(svc_->save_preferences(ivan_, both, RequestContext{"192.0.2.7", "t"}).ok());
    EXPECT_EQ(*svc_->preferences(ivan_), both);
    EXPECT_EQ(*svc_->preferences(olga_), NotificationPreferences{});
    NotificationPreferences bill_only{false, true};
    ASSERT_TRUE(svc_->save_preferences(ivan_, bill_only, RequestContext{"192.0.2.7", "t"}).ok());
    EXPECT_EQ(*svc_->preferences(ivan_), bill_only);
    auto audit = st_->recent_audit(ivan_, 1);
    ASSERT_TRUE(audit.ok() && !audit->empty());
    EXPECT_EQ(audit->front().event, "notifications");
    EXPECT_EQ(audit->front().detail, "remind_readings=off bill_by_email=on");
    EXPECT_EQ(audit->front().actor.ip, "192.0.2.7");
}

TEST_F(NotificationsService, ReminderOncePerMonthWhenTheWindowOpens) {
    want_reminders(ivan_);
    want_reminders(olga_);                  // no meter: no reminder
    EXPECT_EQ(svc_->remind_readings(), 0);  // the window is closed
    clock_.set(utc(2026, 5, 14, 21, 0));    // 15 May, 00:00 in Simferopol
    EXPECT_EQ(svc_->remind_readings(), 1);
    clock_.advance(settings_.readings.remind_interval);
    EXPECT_EQ(svc_->remind_readings(), 0);  // already sent this month
    clock_.set(utc(2026, 5, 24, 12));
    EXPECT_EQ(svc_->remind_readings(), 0);
    auto mails = mails_to("ivan@example.org");
    ASSERT_EQ(mails.size(), 1u);
    EXPECT_TRUE(mails_to("olga@example.org").empty());
    const OutboxMail& m = mails[0];
    EXPECT_EQ(m.subject, "Пора передать показания счётчика");
    EXPECT_NE(m.body_text.find("с 15.05.2026 по 25.05.2026"), std::string::npos) << m.body_text;
    EXPECT_NE(m.body_text.find("https://lk.example.org/lkk/accounts"), std::string::npos);
    // Expires when the window closes: a late reminder only confuses.
    EXPECT_EQ(m.expires_at, utc(2026, 5, 26));

    // RFC 8058: the link in the header is the link in the text, and one click needs no login.
    const std::string token = token_of(m);
    ASSERT_TRUE(crypto::looks_like_token(token)) << header(m, "List-Unsubscribe");
    EXPECT_EQ(header(m, "List-Unsubscribe"),
              "<https://lk.example.org/lkk/unsubscribe?t=" + token + ">");
    EXPECT_EQ(header(m, "List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
    EXPECT_NE(m.body_text.find("https://lk.example.org/lkk/unsubscribe?t=" + token),
              std::string::npos);
    auto built = build_message(m, "Кабинет <noreply@example.org>", clock_.now(), "");
    ASSERT_TRUE(built.ok()) << built.error().message();
    EXPECT_NE(built->find("\r\nList-Unsubscribe: <https://lk.example.org/lkk/unsubscribe?t=" +
                          token + ">\r\n"),
              std::string::npos);
    EXPECT_NE(built->find("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"),
              std::string::npos);

    // Next month: once again.
    clock_.set(utc(2026, 6, 15, 9));
    EXPECT_EQ(svc_->remind_readings(), 1);
    EXPECT_EQ(mails_to("ivan@example.org").size(), 2u);
}

TEST_F(NotificationsService, DatabaseAskedOncePerIntervalSoALaterChoiceWaitsForIt) {
    clock_.set(utc(2026, 5, 16, 9));
    EXPECT_EQ(svc_->remind_readings(), 0);  // nobody wants it yet
    want_reminders(ivan_);
    clock_.advance(settings_.readings.remind_interval - 1);
    EXPECT_EQ(svc_->remind_readings(), 0);  // not asked again before the interval
    clock_.advance(1);
    EXPECT_EQ(svc_->remind_readings(), 1);
}

TEST_F(NotificationsService, TwoHostsOnOneDatabaseSendOneReminder) {
    want_reminders(ivan_);
    auto other_storage = open();  // another host: its own connections, same database
    Notifications other(settings_, *other_storage, clock_, templates_);
    clock_.set(utc(2026, 5, 20, 9));
    std::atomic<int> enqueued{0};
    std::vector<std::thread> hosts;
    for (Notifications* n : {svc_.get(), &other}) {
        hosts.emplace_back([n, &enqueued] { enqueued += n->remind_readings(); });
    }
    for (auto& t : hosts) t.join();
    EXPECT_EQ(enqueued.load(), 1);
    EXPECT_EQ(mails_to("ivan@example.org").size(), 1u);
    // The contract's key for another kind: one per item and month (a bill per account).
    NotificationPreferences bill{false, true};
    ASSERT_TRUE(svc_->save_preferences(ivan_, bill, RequestContext{}).ok());
    auto compose = [](const std::string& link) -> Result<OutboxMail> {
        OutboxMail m;
        m.subject = "Квитанция";
        m.body_text = "Отписаться: " + link;
        return m;
    };
    NotificationKey key{ivan_, NotificationKind::bill, "SIM/100200", "2026-05"};
    EXPECT_EQ(*svc_->enqueue_once(key, compose), NotifyOutcome::enqueued);
    EXPECT_EQ(*other.enqueue_once(key, compose), NotifyOutcome::already_sent);
    key.item = "SIM/100201";
    EXPECT_EQ(*other.enqueue_once(key, compose), NotifyOutcome::enqueued);
    key.user_id = olga_;  // bill_by_email is off for her
    EXPECT_EQ(*other.enqueue_once(key, compose), NotifyOutcome::not_wanted);
    EXPECT_EQ(mails_to("ivan@example.org").size(), 3u);
}

TEST_F(NotificationsService, OneClickUnsubscribeTurnsTheKindOffAndNoMoreMailFollows) {
    want_reminders(ivan_);
    clock_.set(utc(2026, 5, 20, 9));
    ASSERT_EQ(svc_->remind_readings(), 1);
    const std::string token = token_of(mails_to("ivan@example.org").at(0));

    UnsubscribeReply looked = svc_->check_unsubscribe(token);
    ASSERT_EQ(looked.outcome, UnsubscribeOutcome::ok);
    EXPECT_EQ(looked.kind, NotificationKind::readings);
    EXPECT_TRUE(svc_->preferences(ivan_)->remind_readings);  // looking changes nothing

    UnsubscribeReply done = svc_->unsubscribe(token, RequestContext{"198.51.100.1", "mail"});
    ASSERT_EQ(done.outcome, UnsubscribeOutcome::ok);
    EXPECT_FALSE(svc_->preferences(ivan_)->remind_readings);
    auto audit = st_->recent_audit(ivan_, 1);
    ASSERT_TRUE(audit.ok() && !audit->empty());
    EXPECT_EQ(audit->front().event, "unsubscribe");
    EXPECT_EQ(audit->front().detail, "remind_readings");
    EXPECT_EQ(svc_->unsubscribe(token, RequestContext{}).outcome, UnsubscribeOutcome::ok);

    clock_.set(utc(2026, 6, 20, 9));
    EXPECT_EQ(svc_->remind_readings(), 0);
    EXPECT_EQ(mails_to("ivan@example.org").size(), 1u);

    // Nothing but a token we issued does anything.
    EXPECT_EQ(svc_->unsubscribe("", RequestContext{}).outcome, UnsubscribeOutcome::malformed);
    EXPECT_EQ(svc_->unsubscribe("short", RequestContext{}).outcome, UnsubscribeOutcome::malformed);
    EXPECT_EQ(svc_->unsubscribe(crypto::random_token(), RequestContext{}).outcome,
              UnsubscribeOutcome::unknown);
    EXPECT_EQ(svc_->check_unsubscribe(crypto::sha256_hex(token)).outcome,
              UnsubscribeOutcome::malformed);  // the stored hash is not a token
}

TEST_F(NotificationsService, BlockedCabinetsGetNoReminder) {
    want_reminders(ivan_);
    ASSERT_TRUE(st_->set_user_status(ivan_, UserStatus::blocked).ok());
    clock_.set(utc(2026, 5, 20, 9));
    EXPECT_EQ(svc_->remind_readings(), 0);
    EXPECT_TRUE(mails_to("ivan@example.org").empty());
}

}  // namespace
}  // namespace lkk
