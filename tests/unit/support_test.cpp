// The Support service (support.h) on every storage backend: a fresh SQLite file always, and a
// fresh MariaDB database (created and dropped here) when LKK_TEST_MYSQL_URL is set, so the
// counts of stats are exact even while other tests share the test database.
#include "lkk/support.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "lkk/cabinet.h"
#include "lkk/session_store.h"
#include "lkk/storage.h"
#include "temp_dir.h"
#include "test_servers.h"

namespace lkk {
namespace {

// 2026-06-15 12:00 UTC.
const int64_t kJune2026 = utc_new_year(2026) + (165 * 24 + 12) * 3600;

// MariaDB is always listed: without LKK_TEST_MYSQL_URL its tests show as skipped.
std::vector<std::string> backends() {
    return {"sqlite", "mysql"};
}

// mysql://user:pass@host:port/db, split for the mariadb client.
struct MysqlUrl {
    std::string user, pass, host, port, db;
};

MysqlUrl parse_mysql_url(const std::string& url) {
    MysqlUrl u;
    std::string rest = url.substr(std::string("mysql://").size());
    const auto at = rest.rfind('@');
    const std::string cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    u.user = cred.substr(0, cred.find(':'));
    u.pass = cred.substr(cred.find(':') + 1);
    const auto slash = rest.find('/');
    const std::string hostport = rest.substr(0, slash);
    u.db = rest.substr(slash + 1);
    u.host = hostport.substr(0, hostport.find(':'));
    u.port =
        hostport.find(':') == std::string::npos ? "3306" : hostport.substr(hostport.find(':') + 1);
    return u;
}

int mariadb(const MysqlUrl& u, const std::string& sql) {
    const std::string cmd = "mariadb -h " + u.host + " -P " + u.port + " -u " + u.user + " -p'" +
                            u.pass + "' -e '" + sql + "'";
    return std::system(cmd.c_str());
}

// A database of one test, dropped when the test ends (after the storage closed: declare it
// before the storage).
struct MysqlDatabase {
    MysqlUrl server;
    std::string name;
    ~MysqlDatabase() {
        if (!name.empty()) mariadb(server, "DROP DATABASE IF EXISTS " + name);
    }
};

class SupportTest : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        std::string url;
        if (GetParam() == "sqlite") {
            dir_ = std::make_unique<test::TempDir>("lkk-support");
            url = "sqlite:" + dir_->path() + "/lkk.db";
        } else {
            std::string base;
            LKK_TEST_SERVER_URL(base, "LKK_TEST_MYSQL_URL");
            const MysqlUrl server = parse_mysql_url(base);
            std::random_device rd;
            const std::string name = "lkk_support_" + std::to_string(rd() % 1000000000u);
            ASSERT_EQ(mariadb(server, "CREATE DATABASE " + name +
                                          " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"),
                      0);
            db_.server = server;
            db_.name = name;
            url = "mysql://" + server.user + ":" + server.pass + "@" + server.host + ":" +
                  server.port + "/" + name;
        }
        auto storage = open_storage(url);
        ASSERT_TRUE(storage.ok()) << storage.error().message();
        storage_ = std::move(storage.value());
        ASSERT_TRUE(storage_->migrate().ok());
        auto sessions = open_session_store("storage", *storage_);
        ASSERT_TRUE(sessions.ok());
        sessions_ = std::move(sessions.value());
        auto counters = open_counter_store("storage", *storage_);
        ASSERT_TRUE(counters.ok());
        counters_ = std::move(counters.value());

        settings_.portal.base_url = "https://lkk.example.org";
        settings_.portal.base_path = "/lkk";
        settings_.portal.time_zone = "Europe/Simferopol";
        settings_.passwords.argon2_memory_kib = 1024;
        settings_.passwords.argon2_iterations = 1;
        cabinet_ = std::make_unique<Cabinet>(settings_, *storage_, *sessions_, *counters_, clock_);
        support_ = std::make_unique<Support>(settings_, *storage_, *sessions_, *counters_, clock_,
                                             tool_actor("alice", "support-pc"));
    }

    // A cabinet registered through the portal's own flow (pending until confirmed).
    int64_t registered(const std::string& email) {
        EXPECT_TRUE(cabinet_->register_user(email, "secret12", "secret12", true, ctx_).ok());
        auto u = storage_->find_user_by_email(email);
        EXPECT_TRUE(u.ok() && u->has_value());
        return u.ok() && u->has_value() ? (*u)->id : 0;
    }

    void office_with_accounts() {
        ASSERT_TRUE(
            support_->add_office({"SIM", "Симферопольское УЭГХ", "+7 3652 11-11-11", ""}).ok());
        std::istringstream csv(
            "office;account;surname;last_payment;last_payment_date\n"
            "SIM;12345;Иванов;1234,50;2026-03-01\n"
            "SIM;777;Петрова;0;\n");
        auto r = support_->import_billing(csv, {}, "billing.csv");
        ASSERT_TRUE(r.ok()) << r.error().message();
        ASSERT_EQ(r->inserted, 2);
    }

    // Destroyed in reverse order: the services, the stores, then the database itself.
    std::unique_ptr<test::TempDir> dir_;  // SQLite
    MysqlDatabase db_;                    // MariaDB
    ManualClock clock_{kJune2026};
    Settings settings_;
    std::unique_ptr<Storage> storage_;
    std::unique_ptr<SessionStore> sessions_;
    std::unique_ptr<CounterStore> counters_;
    std::unique_ptr<Support> support_;  // acts as alice on support-pc
    std::unique_ptr<Cabinet> cabinet_;  // the subscriber's side
    RequestContext ctx_{"198.51.100.7", "TestBrowser/1.0", Locale::ru};
};

INSTANTIATE_TEST_SUITE_P(Backends, SupportTest, ::testing::ValuesIn(backends()),
                         [](const auto& p) { return p.param; });

TEST_P(SupportTest, UsersShowNamesTheActorOfEveryRow) {
    const int64_t uid = registered("ivanov@example.org");
    ASSERT_TRUE(support_->confirm_user("ivanov@example.org").ok());
    auto blocked = support_->block_user("Ivanov@Example.org");
    ASSERT_TRUE(blocked.ok()) << blocked.error().message();
    EXPECT_EQ(blocked->status, UserStatus::blocked);

    auto report = support_->show_user("ivanov@example.org");
    ASSERT_TRUE(report.ok()) << report.error().message();
    EXPECT_EQ(report->user.id, uid);
    std::vector<std::string> events;
    for (const AuditEvent& e : report->recent) events.push_back(e.event);
    // Newest first; looking at the cabinet is audited too.
    ASSERT_EQ(events, (std::vector<std::string>{"admin_users_show", "admin_block", "admin_confirm",
                                                "register"}));
    for (size_t i = 0; i < 3; ++i) {
        const Actor& a = report->recent[i].actor;
        EXPECT_EQ(a.kind, ActorKind::tool) << events[i];
        EXPECT_EQ(a.os_user, "alice") << events[i];
        EXPECT_EQ(a.host, "support-pc") << events[i];
        EXPECT_EQ(describe_actor(a), "lkk-admin by alice@support-pc");
    }
    const Actor& subscriber = report->recent[3].actor;
    EXPECT_EQ(subscriber.kind, ActorKind::subscriber);
    EXPECT_EQ(subscriber.user_id, uid);
    EXPECT_EQ(subscriber.ip, "198.51.100.7");
    EXPECT_EQ(describe_actor(subscriber),
              "subscriber " + std::to_string(uid) + " from 198.51.100.7");

    // A login that fails for an unknown e-mail names a visitor, not a cabinet.
    (void)cabinet_->login("ghost@example.org", "secret12", ctx_);
    auto all = storage_->recent_audit(std::nullopt, 1);
    ASSERT_TRUE(all.ok() && all->size() == 1u);
    EXPECT_EQ((*all)[0].event, "login_fail");
    EXPECT_EQ(describe_actor((*all)[0].actor), "visitor from 198.51.100.7");
}

// lkk-admin audit: --since counts back from the clock, --user picks one cabinet's rows,
// --action one event; newest first; the reading itself is audited.
TEST_P(SupportTest, ReadAuditFiltersNewestFirstAndIsAudited) {
    const int64_t ivanov = registered("ivanov@example.org");
    clock_.advance(3600);
    const int64_t petrova = registered("petrova@example.org");
    clock_.advance(60);
    ASSERT_TRUE(support_->block_user("ivanov@example.org").ok());
    clock_.advance(60);
    (void)cabinet_->login("petrova@example.org", "wrong-password", ctx_);

    const auto read = [&](const AuditQuery& q) {
        std::vector<std::pair<std::string, std::optional<int64_t>>> rows;
        Status s = support_->read_audit(q, [&](const AuditEvent& e) {
            rows.emplace_back(e.event, e.user_id);
            return Status::Ok();
        });
        EXPECT_TRUE(s.ok()) << s.message();
        return rows;
    };
    using Rows = std::vector<std::pair<std::string, std::optional<int64_t>>>;
    // Everything, newest first; this reading is the newest row.
    EXPECT_EQ(read({}), (Rows{{"admin_audit", std::nullopt},
                              {"login_fail", petrova},
                              {"admin_block", ivanov},
                              {"register", petrova},
                              {"register", ivanov}}));
    // The last 30 minutes: the first registration (an hour ago) is out.
    AuditQuery since;
    since.within = 30 * 60;
    since.event = "register";
    EXPECT_EQ(read(since), (Rows{{"register", petrova}}));
    AuditQuery user;
    user.email = "Ivanov@Example.org";
    EXPECT_EQ(read(user),
              (Rows{{"admin_audit", ivanov}, {"admin_block", ivanov}, {"register", ivanov}}));
    AuditQuery action;
    action.event = "admin_audit";
    auto readings = read(action);
    ASSERT_EQ(readings.size(), 4u);  // the three before and this one
    auto last = storage_->recent_audit(std::nullopt, 1);
    ASSERT_TRUE(last.ok() && last->size() == 1u);
    EXPECT_EQ((*last)[0].detail, "action admin_audit");
    EXPECT_EQ((*last)[0].actor.os_user, "alice");

    AuditQuery unknown;
    unknown.email = "nobody@example.org";
    EXPECT_EQ(support_->read_audit(unknown, [](const AuditEvent&) { return Status::Ok(); }).code(),
              StatusCode::not_found);
    unknown.email = "not an e-mail";
    EXPECT_EQ(support_->read_audit(unknown, [](const AuditEvent&) { return Status::Ok(); }).code(),
              StatusCode::invalid_argument);
}

TEST_P(SupportTest, UserOperationsRefuseTheWrongStateAndUnknownCabinets) {
    registered("p@example.org");
    EXPECT_EQ(support_->unblock_user("p@example.org").error().code(), StatusCode::conflict);
    ASSERT_TRUE(support_->resend_confirmation("p@example.org").ok());
    ASSERT_TRUE(support_->confirm_user("p@example.org").ok());
    EXPECT_EQ(support_->resend_confirmation("p@example.org").error().code(), StatusCode::conflict);
    EXPECT_EQ(support_->block_user("nobody@example.org").error().code(), StatusCode::not_found);
    EXPECT_EQ(support_->block_user("not an e-mail").error().code(), StatusCode::invalid_argument);
    auto deleted = support_->delete_user("p@example.org");
    ASSERT_TRUE(deleted.ok());
    EXPECT_EQ(deleted->email, "p@example.org");
    EXPECT_EQ(support_->show_user("p@example.org").error().code(), StatusCode::not_found);
    auto trail = storage_->recent_audit(deleted->id, 10);
    ASSERT_TRUE(trail.ok());
    ASSERT_FALSE(trail->empty());
    EXPECT_EQ((*trail)[0].event, "admin_delete");
    EXPECT_EQ((*trail)[0].actor.os_user, "alice");
}

TEST_P(SupportTest, StatsCountEveryStateExactly) {
    office_with_accounts();
    ASSERT_TRUE(support_->add_office({"KRC", "Керченское УЭГХ", "+7 36561 5-55-55", ""}).ok());
    const int64_t a = registered("a@example.org");
    registered("b@example.org");  // stays pending
    registered("c@example.org");
    registered("d@example.org");
    ASSERT_TRUE(support_->confirm_user("a@example.org").ok());
    ASSERT_TRUE(support_->block_user("c@example.org").ok());
    ASSERT_TRUE(support_->delete_user("d@example.org").ok());
    auto link = cabinet_->link_account(a, "SIM", "12345", "Иванов", "1234,50", ctx_);
    ASSERT_TRUE(link.ok()) << outcome_code(link.outcome);

    // Four confirmation mails are waiting; one goes out, one fails for good.
    auto mails = support_->outbox(10);
    ASSERT_TRUE(mails.ok());
    ASSERT_EQ(mails->size(), 4u);
    ASSERT_TRUE(storage_->mark_mail_sent((*mails)[0].mail.id, clock_.now()).ok());
    ASSERT_TRUE(storage_->mark_mail_failed((*mails)[1].mail.id, "550", clock_.now(), true).ok());

    auto s = support_->stats();
    ASSERT_TRUE(s.ok()) << s.error().message();
    EXPECT_EQ(s->users.pending, 1);
    EXPECT_EQ(s->users.active, 1);
    EXPECT_EQ(s->users.blocked, 1);
    EXPECT_EQ(s->users.deleted, 1);
    EXPECT_EQ(s->users.total(), 4);
    EXPECT_EQ(s->links, 1);
    EXPECT_EQ(s->billing_accounts, 2);
    EXPECT_EQ(s->offices, 2);
    EXPECT_EQ(s->outbox.pending, 2);
    EXPECT_EQ(s->outbox.sent, 1);
    EXPECT_EQ(s->outbox.failed, 1);
}

TEST_P(SupportTest, OutboxListShowsAgeAndNextAttempt) {
    registered("late@example.org");
    const int64_t queued = clock_.now();
    auto waiting = support_->outbox(10, MailState::pending);
    ASSERT_TRUE(waiting.ok());
    ASSERT_EQ(waiting->size(), 1u);
    EXPECT_EQ((*waiting)[0].age, 0);
    EXPECT_EQ((*waiting)[0].next_attempt_in, 0);  // due now

    // Three hours of failures later, the next attempt is ten minutes away.
    clock_.advance(3 * 3600);
    const int64_t id = (*waiting)[0].mail.id;
    ASSERT_TRUE(
        storage_->mark_mail_failed(id, "connection refused", clock_.now() + 600, false).ok());
    auto later = support_->outbox(10, MailState::pending);
    ASSERT_TRUE(later.ok());
    ASSERT_EQ(later->size(), 1u);
    EXPECT_EQ((*later)[0].age, 3 * 3600);
    EXPECT_EQ((*later)[0].next_attempt_in, 600);
    EXPECT_EQ((*later)[0].mail.created_at, queued);
    EXPECT_EQ((*later)[0].mail.last_error, "connection refused");

    // A retry makes it due now; a sent mail has no next attempt and is not sent twice.
    ASSERT_TRUE(support_->retry_mail(id).ok());
    EXPECT_EQ((*support_->outbox(10))[0].next_attempt_in, 0);
    ASSERT_TRUE(storage_->mark_mail_sent(id, clock_.now()).ok());
    auto sent = support_->outbox(10, MailState::sent);
    ASSERT_TRUE(sent.ok());
    ASSERT_EQ(sent->size(), 1u);
    EXPECT_FALSE((*sent)[0].next_attempt_in.has_value());
    EXPECT_TRUE(support_->outbox(10, MailState::failed)->empty());
    EXPECT_EQ(support_->retry_mail(id).code(), StatusCode::conflict);
    EXPECT_EQ(support_->retry_mail(id + 1000).code(), StatusCode::not_found);
}

TEST_P(SupportTest, OfficesAreCheckedAndEveryChangeIsAudited) {
    EXPECT_EQ(support_->add_office({"S I M", "x", "y", ""}).code(), StatusCode::invalid_argument);
    EXPECT_EQ(support_->add_office({"SIM", "", "y", ""}).code(), StatusCode::invalid_argument);
    EXPECT_EQ(support_->add_office({"SIM", "x", "y", "not-mail"}).code(),
              StatusCode::invalid_argument);
    EXPECT_TRUE(support_->offices()->empty());

    office_with_accounts();
    EXPECT_EQ(support_->add_office({"SIM", "x", "y", ""}).code(), StatusCode::conflict);
    OfficeChange change;
    change.phones = "+7 3652 99-99-99";
    auto updated = support_->update_office("SIM", change);
    ASSERT_TRUE(updated.ok());
    EXPECT_EQ(updated->name, "Симферопольское УЭГХ");
    EXPECT_EQ(updated->phones, "+7 3652 99-99-99");
    EXPECT_EQ(support_->update_office("NOPE", change).error().code(), StatusCode::not_found);

    auto shown = support_->billing_account("SIM", "123-45");
    ASSERT_TRUE(shown.ok());
    EXPECT_EQ(shown->expected_amount, 123450);  // paid this year
    EXPECT_EQ(shown->office.phones, "+7 3652 99-99-99");
    EXPECT_EQ(support_->billing_account("SIM", "999").error().code(), StatusCode::not_found);

    const int64_t uid = registered("l@example.org");
    ASSERT_TRUE(support_->confirm_user("l@example.org").ok());
    ASSERT_TRUE(cabinet_->link_account(uid, "SIM", "12345", "Иванов", "1234,50", ctx_).ok());
    EXPECT_EQ(support_->remove_office("SIM", false).code(), StatusCode::conflict);
    EXPECT_EQ(support_->unlink_account("l@example.org", "SIM", "777").code(),
              StatusCode::not_found);
    ASSERT_TRUE(support_->unlink_account("l@example.org", "SIM", "123-45").ok());
    ASSERT_TRUE(support_->unlock_account("SIM", "12345").ok());
    ASSERT_TRUE(support_->remove_office("SIM", false).ok());
    EXPECT_EQ(support_->remove_office("SIM", false).code(), StatusCode::not_found);

    auto trail = storage_->recent_audit(std::nullopt, 100);
    ASSERT_TRUE(trail.ok());
    std::vector<std::string> admin;
    for (auto it = trail->rbegin(); it != trail->rend(); ++it) {
        if (it->event.rfind("admin_", 0) != 0) continue;
        admin.push_back(it->event);
        EXPECT_EQ(it->actor.kind, ActorKind::tool) << it->event;
        EXPECT_EQ(it->actor.os_user, "alice") << it->event;
    }
    EXPECT_EQ(admin,
              (std::vector<std::string>{"admin_offices_add", "admin_billing_import",
                                        "admin_offices_update", "admin_confirm", "admin_unlink",
                                        "admin_unlock_account", "admin_offices_remove"}));
}

TEST_P(SupportTest, MigrateIsIdempotent) {
    auto r = support_->migrate();
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->before, r->after);
    EXPECT_EQ(r->after, r->expected);
    EXPECT_GE(r->expected, 2);  // 002 adds the actor to the audit log
}

TEST(ToolActor, NamesSudosCallerOrTheUserAndTheHost) {
    char host[HOST_NAME_MAX + 1] = {};
    ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
    const passwd* pw = getpwuid(geteuid());
    ASSERT_NE(pw, nullptr);
    const char* saved = std::getenv("SUDO_USER");
    const std::string saved_value = saved ? saved : "";
    unsetenv("SUDO_USER");
    Actor me = this_process_tool_actor();
    EXPECT_EQ(me.kind, ActorKind::tool);
    EXPECT_EQ(me.os_user, pw->pw_name);
    EXPECT_EQ(me.host, host);
    setenv("SUDO_USER", "boris", 1);
    EXPECT_EQ(this_process_tool_actor().os_user, "boris");
    if (saved) {
        setenv("SUDO_USER", saved_value.c_str(), 1);
    } else {
        unsetenv("SUDO_USER");
    }
}

}  // namespace
}  // namespace lkk
