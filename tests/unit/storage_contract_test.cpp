// The Storage contract, run against every backend: a fresh SQLite file always, and MySQL /
// MariaDB when LKK_TEST_MYSQL_URL names a test database. Tests make their own unique e-mails
// and codes and compare counts as differences, so they also pass on a shared database that
// earlier runs left rows in.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "lkk/audit.h"
#include "lkk/meter_store.h"
#include "lkk/money_store.h"
#include "lkk/notification_store.h"
#include "lkk/session_store.h"
#include "lkk/storage.h"
#include "temp_dir.h"
#include "test_servers.h"

namespace lkk {
namespace {

std::string random_tag() {
    std::random_device rd;
    std::uniform_int_distribution<uint32_t> d;
    char buf[20];
    std::snprintf(buf, sizeof buf, "%08x%08x", d(rd), d(rd));
    return buf;
}

// A temporary directory removed with everything in it when the test ends.
using lkk::test::TempDir;

// MariaDB is always listed: without LKK_TEST_MYSQL_URL its tests show as skipped. So is the
// Galera cluster of scripts/services.sh ha (LKK_TEST_GALERA_URL, three hosts in one URL).
std::vector<std::string> backends() {
    return {"sqlite", "mysql", "galera"};
}

// The server URL of a MySQL-family backend, or "" after GTEST_SKIP/FAIL.
std::string mysql_family_url(const std::string& backend) {
    std::string url;
    [&] {
        if (backend == "galera") {
            LKK_TEST_HA_URL(url, "LKK_TEST_GALERA_URL");
        } else {
            LKK_TEST_SERVER_URL(url, "LKK_TEST_MYSQL_URL");
        }
    }();
    return url;
}

class StorageContract : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        std::string url;
        if (GetParam() == "sqlite") {
            dir_ = std::make_unique<TempDir>();
            url = "sqlite:" + dir_->path() + "/lkk.db";
        } else {
            url = mysql_family_url(GetParam());
            if (url.empty()) return;
        }
        auto opened = open_storage(url);
        ASSERT_TRUE(opened.ok()) << opened.error().message();
        st_ = std::move(opened.value());
        url_ = url;
        Status migrated = st_->migrate();
        ASSERT_TRUE(migrated.ok()) << migrated.message();
        tag_ = random_tag();
    }
    void TearDown() override {
        st_.reset();
        dir_.reset();
    }

    std::string email(const std::string& who) const { return who + "." + tag_ + "@example.org"; }
    std::string code(const std::string& name) const { return name + "-" + tag_; }

    int64_t new_user(const std::string& who) {
        auto id = st_->insert_user(email(who), "$argon2id$hash", 1000);
        EXPECT_TRUE(id.ok()) << id.error().message();
        return id.ok() ? *id : 0;
    }

    void new_office(const std::string& c) {
        ASSERT_TRUE(
            st_->insert_office({c, "Office " + c, "+7 3652 00-00-00", "o@example.org"}).ok());
    }

    int64_t new_account(const std::string& office, const std::string& number) {
        BillingAccount a;
        a.office_code = office;
        a.account_number = number;
        a.surname = "Иванов";
        a.surname_key = "иванов";
        a.last_payment = 123450;
        a.last_payment_date = "2026-03-01";
        a.address = "ул. Ленина, 1";
        EXPECT_TRUE(st_->upsert_billing_account(a).ok());
        auto found = st_->find_billing_account(office, number);
        EXPECT_TRUE(found.ok() && found->has_value());
        return found.ok() && found->has_value() ? (*found)->id : 0;
    }

    // A token valid from 1 to 99 (the contract tests' own clock).
    Status add_token(int64_t user, TokenKind kind, const std::string& hash) {
        Token t;
        t.kind = kind;
        t.hash = hash;
        t.user_id = user;
        t.created_at = 1;
        t.expires_at = 99;
        return st_->insert_token(t);
    }

    OutboxMail mail(const std::string& to, int64_t due) const {
        OutboxMail m;
        m.recipient = to;
        m.subject = "Подтверждение";
        m.body_text = "text";
        m.body_html = "<p>html</p>";
        m.created_at = due;
        m.next_attempt_at = due;
        return m;
    }

    // Mails of this test among those claimed. On a shared database other runs may have left
    // due mails, so claim until nothing is due (the leases keep each mail to one round).
    std::vector<OutboxMail> claim_mine(int64_t now, int64_t lease) {
        std::vector<OutboxMail> mine;
        for (int round = 0; round < 1000; ++round) {
            auto claimed = st_->claim_due_mails(now, 500, lease);
            EXPECT_TRUE(claimed.ok()) << claimed.error().message();
            if (!claimed.ok() || claimed->empty()) break;
            for (auto& m : *claimed) {
                if (m.recipient.find(tag_) != std::string::npos) mine.push_back(m);
            }
        }
        return mine;
    }

    std::unique_ptr<TempDir> dir_;
    std::unique_ptr<Storage> st_;
    std::string url_;
    std::string tag_;
};

TEST_P(StorageContract, SchemaIsCurrentAndMigrateIsIdempotent) {
    EXPECT_GE(st_->expected_schema_version(), 1);
    auto v = st_->schema_version();
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, st_->expected_schema_version());
    EXPECT_TRUE(st_->migrate().ok());
    EXPECT_EQ(*st_->schema_version(), st_->expected_schema_version());
    EXPECT_TRUE(st_->ping().ok());
}

TEST_P(StorageContract, UsersAreUniqueByEmail) {
    auto id = st_->insert_user(email("ivan"), "h1", 1000);
    ASSERT_TRUE(id.ok());
    auto again = st_->insert_user(email("ivan"), "h2", 1001);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code(), StatusCode::conflict);

    auto by_email = st_->find_user_by_email(email("ivan"));
    ASSERT_TRUE(by_email.ok());
    ASSERT_TRUE(by_email->has_value());
    const User& u = **by_email;
    EXPECT_EQ(u.id, *id);
    EXPECT_EQ(u.email, email("ivan"));
    EXPECT_EQ(u.password_hash, "h1");
    EXPECT_EQ(u.status, UserStatus::pending);
    EXPECT_EQ(u.created_at, 1000);
    EXPECT_FALSE(u.confirmed_at.has_value());

    auto by_id = st_->find_user(*id);
    ASSERT_TRUE(by_id.ok() && by_id->has_value());
    EXPECT_EQ((*by_id)->email, email("ivan"));

    auto missing = st_->find_user_by_email(email("nobody"));
    ASSERT_TRUE(missing.ok());
    EXPECT_FALSE(missing->has_value());
    auto missing_id = st_->find_user(*id + 100000);
    ASSERT_TRUE(missing_id.ok());
    EXPECT_FALSE(missing_id->has_value());
}

TEST_P(StorageContract, UserStateChanges) {
    const int64_t id = new_user("petr");
    ASSERT_TRUE(st_->set_user_confirmed(id, 2000).ok());
    auto u = st_->find_user(id);
    ASSERT_TRUE(u.ok() && u->has_value());
    EXPECT_EQ((*u)->status, UserStatus::active);
    EXPECT_EQ((*u)->confirmed_at, 2000);

    ASSERT_TRUE(st_->set_user_status(id, UserStatus::blocked).ok());
    // Confirming again (an old link clicked later) must not lift a block.
    ASSERT_TRUE(st_->set_user_confirmed(id, 3000).ok());
    u = st_->find_user(id);
    EXPECT_EQ((*u)->status, UserStatus::blocked);
    EXPECT_EQ((*u)->confirmed_at, 2000);

    ASSERT_TRUE(st_->set_password_hash(id, "new-hash").ok());
    u = st_->find_user(id);
    EXPECT_EQ((*u)->password_hash, "new-hash");

    const int64_t missing = id + 100000;
    EXPECT_EQ(st_->set_user_confirmed(missing, 1).code(), StatusCode::not_found);
    EXPECT_EQ(st_->set_user_status(missing, UserStatus::active).code(), StatusCode::not_found);
    EXPECT_EQ(st_->set_password_hash(missing, "x").code(), StatusCode::not_found);
    EXPECT_EQ(st_->erase_user(missing).code(), StatusCode::not_found);
}

TEST_P(StorageContract, SearchUsersTreatsWildcardsLiterally) {
    new_user("a_b");
    new_user("axb");
    new_user("c%d");
    auto r = st_->search_users("a_b." + tag_, 10);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].email, email("a_b"));

    r = st_->search_users("%d." + tag_, 10);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].email, email("c%d"));

    r = st_->search_users(tag_, 10);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->size(), 3u);
    r = st_->search_users(tag_, 2);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->size(), 2u);
    r = st_->search_users("no-such-" + tag_, 10);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->empty());
}

TEST_P(StorageContract, ConsentsAreKept) {
    const int64_t id = new_user("olga");
    ASSERT_TRUE(st_->insert_consent({id, "2026-01", 1500, "203.0.113.5", "Firefox"}).ok());
    ASSERT_TRUE(st_->insert_consent({id, "2026-02", 1600, "203.0.113.6", "Chromium"}).ok());
    auto list = st_->consents_of(id);
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].document_version, "2026-01");
    EXPECT_EQ((*list)[0].accepted_at, 1500);
    EXPECT_EQ((*list)[0].ip, "203.0.113.5");
    EXPECT_EQ((*list)[1].user_agent, "Chromium");
}

TEST_P(StorageContract, TokensAreSingleUse) {
    const int64_t id = new_user("anna");
    Token t;
    t.kind = TokenKind::confirm;
    t.hash = "confirm-" + tag_;
    t.user_id = id;
    t.created_at = 100;
    t.expires_at = 200;
    ASSERT_TRUE(st_->insert_token(t).ok());
    t.kind = TokenKind::reset;
    EXPECT_EQ(st_->insert_token(t).code(), StatusCode::conflict) << "hash is unique";

    auto wrong_kind = st_->find_token(TokenKind::reset, "confirm-" + tag_);
    ASSERT_TRUE(wrong_kind.ok());
    EXPECT_FALSE(wrong_kind->has_value());

    auto found = st_->find_token(TokenKind::confirm, "confirm-" + tag_);
    ASSERT_TRUE(found.ok() && found->has_value());
    const Token tok = **found;
    EXPECT_EQ(tok.user_id, id);
    EXPECT_EQ(tok.expires_at, 200);
    EXPECT_FALSE(tok.used_at.has_value());

    ASSERT_TRUE(st_->mark_token_used(tok.id, 150).ok());
    EXPECT_EQ(st_->mark_token_used(tok.id, 151).code(), StatusCode::conflict);
    EXPECT_EQ(st_->mark_token_used(tok.id + 100000, 151).code(), StatusCode::not_found);
    found = st_->find_token(TokenKind::confirm, "confirm-" + tag_);
    EXPECT_EQ((*found)->used_at, 150);
}

TEST_P(StorageContract, InvalidateTokensTouchesOnlyThatKindOfThatUser) {
    const int64_t a = new_user("a");
    const int64_t b = new_user("b");
    auto add = [&](int64_t user, TokenKind kind, const std::string& h) {
        ASSERT_TRUE(add_token(user, kind, h + tag_).ok());
    };
    add(a, TokenKind::reset, "r1");
    add(a, TokenKind::reset, "r2");
    add(a, TokenKind::confirm, "c1");
    add(b, TokenKind::reset, "r3");
    ASSERT_TRUE(st_->invalidate_tokens(a, TokenKind::reset, 50).ok());
    EXPECT_EQ((*st_->find_token(TokenKind::reset, "r1" + tag_))->used_at, 50);
    EXPECT_EQ((*st_->find_token(TokenKind::reset, "r2" + tag_))->used_at, 50);
    EXPECT_FALSE((*st_->find_token(TokenKind::confirm, "c1" + tag_))->used_at.has_value());
    EXPECT_FALSE((*st_->find_token(TokenKind::reset, "r3" + tag_))->used_at.has_value());
}

TEST_P(StorageContract, ReplacedTokensAndThePendingPassword) {
    const int64_t a = new_user("pend");
    const int64_t b = new_user("other");
    auto add = [&](int64_t user, TokenKind kind, const std::string& h) {
        ASSERT_TRUE(add_token(user, kind, h + tag_).ok());
    };
    add(a, TokenKind::confirm, "p1");
    add(a, TokenKind::confirm, "p2");
    add(a, TokenKind::reset, "pr");
    add(b, TokenKind::confirm, "o1");
    ASSERT_TRUE(st_->replace_tokens(a, TokenKind::confirm, 40).ok());
    EXPECT_EQ((*st_->find_token(TokenKind::confirm, "p1" + tag_))->replaced_at, 40);
    EXPECT_EQ((*st_->find_token(TokenKind::confirm, "p2" + tag_))->replaced_at, 40);
    EXPECT_FALSE((*st_->find_token(TokenKind::reset, "pr" + tag_))->replaced_at.has_value());
    EXPECT_FALSE((*st_->find_token(TokenKind::confirm, "o1" + tag_))->replaced_at.has_value());
    add(a, TokenKind::confirm, "p3");  // the newest link is not touched by the earlier replace
    EXPECT_FALSE((*st_->find_token(TokenKind::confirm, "p3" + tag_))->replaced_at.has_value());

    auto set = st_->set_pending_password_hash(a, "hash-two");
    ASSERT_TRUE(set.ok());
    EXPECT_TRUE(*set);
    EXPECT_EQ((*st_->find_user(a))->password_hash, "hash-two");
    ASSERT_TRUE(st_->set_user_confirmed(a, 50).ok());
    set = st_->set_pending_password_hash(a, "hash-three");
    ASSERT_TRUE(set.ok());
    EXPECT_FALSE(*set) << "an active cabinet's password is never replaced this way";
    EXPECT_EQ((*st_->find_user(a))->password_hash, "hash-two");
}

TEST_P(StorageContract, Offices) {
    const std::string c = code("SIM");
    new_office(c);
    EXPECT_EQ(st_->insert_office({c, "Other", "", ""}).code(), StatusCode::conflict);
    auto found = st_->find_office(c);
    ASSERT_TRUE(found.ok() && found->has_value());
    EXPECT_EQ((*found)->name, "Office " + c);
    EXPECT_EQ((*found)->phones, "+7 3652 00-00-00");

    ASSERT_TRUE(st_->update_office({c, "Симферополь", "+7 3652 11-11-11", "s@example.org"}).ok());
    found = st_->find_office(c);
    EXPECT_EQ((*found)->name, "Симферополь");
    EXPECT_EQ((*found)->email, "s@example.org");
    EXPECT_EQ(st_->update_office({code("NONE"), "x", "", ""}).code(), StatusCode::not_found);

    auto list = st_->list_offices();
    ASSERT_TRUE(list.ok());
    EXPECT_TRUE(
        std::any_of(list->begin(), list->end(), [&](const Office& o) { return o.code == c; }));

    auto missing = st_->find_office(code("NONE"));
    ASSERT_TRUE(missing.ok());
    EXPECT_FALSE(missing->has_value());
    EXPECT_EQ(st_->remove_office(code("NONE"), false).code(), StatusCode::not_found);
}

TEST_P(StorageContract, BillingAccountsUpsertKeepsTheRow) {
    const std::string c = code("KER");
    new_office(c);
    const int64_t before = *st_->count_billing_accounts();
    const int64_t id = new_account(c, "0012345");
    EXPECT_EQ(*st_->count_billing_accounts(), before + 1);

    BillingAccount a;
    a.office_code = c;
    a.account_number = "0012345";
    a.surname = "Ёлкина";
    a.surname_key = "елкина";
    a.last_payment = 99;
    a.last_payment_date = "";
    a.address = "";
    a.balance = -5000;
    ASSERT_TRUE(st_->upsert_billing_account(a).ok());
    EXPECT_EQ(*st_->count_billing_accounts(), before + 1);
    auto found = st_->find_billing_account(c, "0012345");
    ASSERT_TRUE(found.ok() && found->has_value());
    const BillingAccount& got = **found;
    EXPECT_EQ(got.id, id);
    EXPECT_EQ(got.surname, "Ёлкина");
    EXPECT_EQ(got.surname_key, "елкина");
    EXPECT_EQ(got.last_payment, 99);
    EXPECT_EQ(got.last_payment_date, "");
    EXPECT_EQ(got.balance, -5000);

    auto missing = st_->find_billing_account(c, "999");
    ASSERT_TRUE(missing.ok());
    EXPECT_FALSE(missing->has_value());

    a.office_code = code("NOOFFICE");
    EXPECT_FALSE(st_->upsert_billing_account(a).ok()) << "an account needs its office";
}

TEST_P(StorageContract, LinksAreOncePerCabinetAndPrivate) {
    const std::string c = code("FEO");
    new_office(c);
    const int64_t acc = new_account(c, "777");
    const int64_t owner = new_user("owner");
    const int64_t spouse = new_user("spouse");
    const int64_t links_before = *st_->count_links();

    auto link = st_->insert_link(owner, acc, 5000);
    ASSERT_TRUE(link.ok()) << link.error().message();
    auto twice = st_->insert_link(owner, acc, 5001);
    ASSERT_FALSE(twice.ok());
    EXPECT_EQ(twice.error().code(), StatusCode::conflict);
    auto household = st_->insert_link(spouse, acc, 5002);
    ASSERT_TRUE(household.ok()) << "one account may be linked to several cabinets";
    EXPECT_EQ(*st_->count_links(), links_before + 2);

    auto list = st_->list_links(owner);
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->size(), 1u);
    const LinkedAccount& la = (*list)[0];
    EXPECT_EQ(la.link_id, *link);
    EXPECT_EQ(la.linked_at, 5000);
    EXPECT_EQ(la.account.id, acc);
    EXPECT_EQ(la.account.account_number, "777");
    EXPECT_EQ(la.account.surname, "Иванов");
    EXPECT_EQ(la.account.last_payment, 123450);
    EXPECT_EQ(la.account.last_payment_date, "2026-03-01");
    EXPECT_EQ(la.account.address, "ул. Ленина, 1");
    EXPECT_FALSE(la.account.balance.has_value());
    EXPECT_EQ(la.office.code, c);
    EXPECT_EQ(la.office.phones, "+7 3652 00-00-00");

    EXPECT_EQ(st_->delete_link(spouse, *link).code(), StatusCode::not_found)
        << "someone else's link";
    EXPECT_EQ(st_->list_links(owner)->size(), 1u);
    EXPECT_TRUE(st_->delete_link(owner, *link).ok());
    EXPECT_EQ(st_->delete_link(owner, *link).code(), StatusCode::not_found);
    EXPECT_TRUE(st_->list_links(owner)->empty());
    EXPECT_EQ(st_->list_links(spouse)->size(), 1u);
}

TEST_P(StorageContract, RemoveOfficeRefusesWhileLinkedUnlessForced) {
    const std::string c = code("YAL");
    new_office(c);
    const int64_t acc = new_account(c, "1");
    new_account(c, "2");
    const int64_t user = new_user("yalta");
    ASSERT_TRUE(st_->insert_link(user, acc, 1).ok());
    const int64_t accounts_before = *st_->count_billing_accounts();

    EXPECT_EQ(st_->remove_office(c, false).code(), StatusCode::conflict);
    EXPECT_TRUE(st_->find_office(c)->has_value());
    EXPECT_EQ(st_->list_links(user)->size(), 1u);
    EXPECT_EQ(*st_->count_billing_accounts(), accounts_before);

    ASSERT_TRUE(st_->remove_office(c, true).ok());
    EXPECT_FALSE(st_->find_office(c)->has_value());
    EXPECT_TRUE(st_->list_links(user)->empty());
    EXPECT_FALSE(st_->find_billing_account(c, "1")->has_value());
    EXPECT_EQ(*st_->count_billing_accounts(), accounts_before - 2);

    // Without links no force is needed.
    const std::string d = code("ALU");
    new_office(d);
    new_account(d, "5");
    EXPECT_TRUE(st_->remove_office(d, false).ok());
}

TEST_P(StorageContract, ClaimedMailsAreLeased) {
    const int64_t now = 1'000'000;
    auto due = st_->enqueue_mail(mail("due." + tag_ + "@example.org", now - 10));
    auto later = st_->enqueue_mail(mail("later." + tag_ + "@example.org", now + 100));
    ASSERT_TRUE(due.ok() && later.ok());

    auto first = claim_mine(now, 60);
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0].id, *due);
    EXPECT_EQ(first[0].subject, "Подтверждение");
    EXPECT_EQ(first[0].body_html, "<p>html</p>");
    EXPECT_EQ(first[0].state, MailState::pending);

    EXPECT_TRUE(claim_mine(now + 1, 60).empty()) << "leased to the first claimer";
    EXPECT_TRUE(claim_mine(now + 59, 60).empty());
    auto after_lease = claim_mine(now + 60, 60);
    ASSERT_EQ(after_lease.size(), 1u) << "a claimer that died gives the mail back";
    EXPECT_EQ(after_lease[0].id, *due);

    auto both = claim_mine(now + 200, 60);
    EXPECT_EQ(both.size(), 2u);
}

TEST_P(StorageContract, ClaimRespectsLimit) {
    const int64_t now = 2'000'000;
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(
            st_->enqueue_mail(mail("n" + std::to_string(i) + "." + tag_ + "@x.org", now)).ok());
    }
    // Only this test's mails are due this early on a fresh database; on a shared one other
    // mails may be due too, so count ours across successive claims.
    size_t total = 0;
    for (int round = 0; round < 100000; ++round) {
        auto claimed = st_->claim_due_mails(now, 1, 600);
        ASSERT_TRUE(claimed.ok());
        ASSERT_LE(claimed->size(), 1u);
        if (claimed->empty()) break;
        if ((*claimed)[0].recipient.find(tag_) != std::string::npos) ++total;
    }
    EXPECT_EQ(total, 3u);
}

TEST_P(StorageContract, MailExpiryAndExpeditingWaitingMails) {
    const int64_t now = 4'000'000;
    OutboxMail with_link = mail("link." + tag_ + "@example.org", now);
    with_link.expires_at = now + 3600;
    auto linked = st_->enqueue_mail(with_link);
    auto plain = st_->enqueue_mail(mail("plain." + tag_ + "@example.org", now));
    auto fresh = st_->enqueue_mail(mail("fresh." + tag_ + "@example.org", now + 7200));
    ASSERT_TRUE(linked.ok() && plain.ok() && fresh.ok());
    auto claimed = claim_mine(now, 60);
    ASSERT_EQ(claimed.size(), 2u);
    EXPECT_EQ(claimed[0].expires_at, now + 3600);
    EXPECT_FALSE(claimed[1].expires_at.has_value());
    // Both failed and wait for their back-off; the never-tried mail is not due yet either.
    ASSERT_TRUE(st_->mark_mail_failed(*linked, "down", now + 1800, false).ok());
    ASSERT_TRUE(st_->mark_mail_failed(*plain, "down", now + 3000, false).ok());
    EXPECT_TRUE(claim_mine(now + 10, 60).empty());

    ASSERT_TRUE(st_->expedite_waiting_mails(now + 10).ok());
    auto again = claim_mine(now + 10, 60);
    ASSERT_EQ(again.size(), 2u) << "the waiting mails are due at once";
    EXPECT_EQ(again[0].id, *linked);
    EXPECT_EQ(again[1].id, *plain);
    // A claimed (leased) mail and one never tried are left alone.
    ASSERT_TRUE(st_->expedite_waiting_mails(now + 20).ok());
    EXPECT_TRUE(claim_mine(now + 20, 60).empty());
}

TEST_P(StorageContract, FailedMailsRetryThenGiveUp) {
    const int64_t now = 3'000'000;
    auto id = st_->enqueue_mail(mail("f." + tag_ + "@example.org", now));
    ASSERT_TRUE(id.ok());
    ASSERT_EQ(claim_mine(now, 60).size(), 1u);

    ASSERT_TRUE(st_->mark_mail_failed(*id, "421 try later", now + 300, false).ok());
    EXPECT_TRUE(claim_mine(now + 100, 60).empty()) << "not due before next_attempt_at";
    auto again = claim_mine(now + 300, 60);
    ASSERT_EQ(again.size(), 1u) << "the failure cleared the lease";
    EXPECT_EQ(again[0].attempts, 1);
    EXPECT_EQ(again[0].last_error, "421 try later");
    EXPECT_EQ(again[0].next_attempt_at, now + 300);

    ASSERT_TRUE(st_->mark_mail_failed(*id, "550 no such user", now + 900, true).ok());
    EXPECT_TRUE(claim_mine(now + 10'000, 60).empty()) << "given up";
    auto list = st_->list_outbox(1000);
    ASSERT_TRUE(list.ok());
    auto it =
        std::find_if(list->begin(), list->end(), [&](const OutboxMail& m) { return m.id == *id; });
    ASSERT_NE(it, list->end());
    EXPECT_EQ(it->state, MailState::failed);
    EXPECT_EQ(it->attempts, 2);
    EXPECT_EQ(it->last_error, "550 no such user");

    ASSERT_TRUE(st_->retry_mail(*id, now + 20'000).ok());
    auto retried = claim_mine(now + 20'000, 60);
    ASSERT_EQ(retried.size(), 1u);
    EXPECT_EQ(retried[0].expires_at, now + 20'000 + 7 * 24 * 3600) << "kept a week from the retry";
    ASSERT_TRUE(st_->mark_mail_sent(*id, now + 20'001).ok());
    EXPECT_TRUE(claim_mine(now + 99'999, 60).empty()) << "sent once";
    EXPECT_EQ(st_->retry_mail(*id, now).code(), StatusCode::conflict) << "never resend a sent mail";

    list = st_->list_outbox(1000);
    it = std::find_if(list->begin(), list->end(), [&](const OutboxMail& m) { return m.id == *id; });
    ASSERT_NE(it, list->end());
    EXPECT_EQ(it->state, MailState::sent);
    EXPECT_EQ(it->sent_at, now + 20'001);

    EXPECT_EQ(st_->mark_mail_sent(*id + 100000, now).code(), StatusCode::not_found);
    EXPECT_EQ(st_->mark_mail_failed(*id + 100000, "x", now, false).code(), StatusCode::not_found);
    EXPECT_EQ(st_->retry_mail(*id + 100000, now).code(), StatusCode::not_found);
}

TEST_P(StorageContract, AuditLogNewestFirst) {
    const int64_t id = new_user("audited");
    ASSERT_TRUE(
        st_->audit({0, 10, id, "register", "ok", subscriber_actor(id, "198.51.100.1")}).ok());
    ASSERT_TRUE(st_->audit({0, 11, std::nullopt, "login_fail", "unknown " + tag_,
                            subscriber_actor(std::nullopt, "198.51.100.2")})
                    .ok());
    ASSERT_TRUE(st_->audit({0, 12, id, "login_ok", "", subscriber_actor(id, "198.51.100.1")}).ok());

    auto mine = st_->recent_audit(id, 10);
    ASSERT_TRUE(mine.ok());
    ASSERT_EQ(mine->size(), 2u);
    EXPECT_EQ((*mine)[0].event, "login_ok");
    EXPECT_EQ((*mine)[1].event, "register");
    EXPECT_EQ((*mine)[1].actor.ip, "198.51.100.1");
    EXPECT_EQ((*mine)[1].detail, "ok");
    EXPECT_EQ((*mine)[1].user_id, id);

    auto all = st_->recent_audit(std::nullopt, 2);
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ((*all)[0].event, "login_ok");
    EXPECT_EQ((*all)[1].event, "login_fail");
    EXPECT_FALSE((*all)[1].user_id.has_value());
}

// lkk-admin audit reads the log in keyset pages of 500: every matching row comes once,
// newest first, across page boundaries, with the filters applied in every page.
TEST_P(StorageContract, EachAuditPagesThroughEveryRowNewestFirst) {
    const int64_t id = new_user("paged");
    const int64_t other = new_user("paged-other");
    constexpr int kRows = 1203;  // three pages and a bit
    ASSERT_TRUE(st_->in_transaction([&]() -> Status {
                       for (int i = 0; i < kRows; ++i) {
                           const std::string event = i % 3 == 0 ? "login_fail" : "login_ok";
                           Status s = st_->audit({0, 1000 + i, id, event, std::to_string(i),
                                                  subscriber_actor(id, "192.0.2.1")});
                           if (!s.ok()) return s;
                           if (i % 100 == 0) {
                               s = st_->audit({0, 1000 + i, other, event, "other",
                                               subscriber_actor(other, "192.0.2.2")});
                               if (!s.ok()) return s;
                           }
                       }
                       return Status::Ok();
                   })
                    .ok());

    const auto read = [&](const AuditFilter& f) {
        std::vector<AuditEvent> rows;
        Status s = st_->each_audit(f, [&](const AuditEvent& e) {
            rows.push_back(e);
            return Status::Ok();
        });
        EXPECT_TRUE(s.ok()) << s.message();
        return rows;
    };
    AuditFilter mine;
    mine.user_id = id;
    auto all = read(mine);
    ASSERT_EQ(all.size(), static_cast<size_t>(kRows));
    for (size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(all[i].detail, std::to_string(kRows - 1 - static_cast<int>(i)));
        EXPECT_EQ(all[i].user_id, id);
        if (i > 0) {
            EXPECT_LT(all[i].id, all[i - 1].id);
        }
    }

    mine.event = "login_fail";
    auto failures = read(mine);
    ASSERT_EQ(failures.size(), static_cast<size_t>((kRows + 2) / 3));
    EXPECT_EQ(failures.front().detail, "1200");
    for (const AuditEvent& e : failures) EXPECT_EQ(e.event, "login_fail");

    mine.since = 1000 + 1100;  // rows at 2100 and later
    auto recent = read(mine);
    ASSERT_EQ(recent.size(), 34u);  // 1101, 1104, ... 1200 (i % 3 == 0 among 1100..1202)
    EXPECT_EQ(recent.back().detail, "1101");

    // Without a user the filters still hold (other tests' rows may be there too).
    AuditFilter everyone;
    everyone.since = 1000 + 1100;
    everyone.event = "login_ok";
    size_t others = 0;
    for (const AuditEvent& e : read(everyone)) {
        EXPECT_EQ(e.event, "login_ok");
        EXPECT_GE(e.at, 2100);
        if (e.user_id == other) ++others;
    }
    EXPECT_EQ(others, 1u);  // i = 1100 (1200 is a login_fail)

    // The reader stops the reading by answering an error.
    int seen = 0;
    Status stopped = st_->each_audit({}, [&](const AuditEvent&) {
        return ++seen == 3 ? Status::Unavailable("enough") : Status::Ok();
    });
    EXPECT_EQ(stopped.code(), StatusCode::unavailable);
    EXPECT_EQ(seen, 3);
}

// Schema 002: every row names its actor, the subscriber (user id, IP) or the tool (OS user,
// host); a row written without one reads back as unknown.
TEST_P(StorageContract, AuditRowsKeepTheirActor) {
    const int64_t id = new_user("actor");
    ASSERT_TRUE(st_->audit({0, 20, id, "login_ok", "", subscriber_actor(id, "2001:db8::7")}).ok());
    ASSERT_TRUE(st_->audit({0, 21, id, "admin_block", "", tool_actor("alice", "support-pc")}).ok());
    ASSERT_TRUE(st_->audit({0, 22, id, "login_fail", "", subscriber_actor(std::nullopt, "")}).ok());
    ASSERT_TRUE(st_->audit({0, 23, id, "legacy", "", Actor{}}).ok());

    auto rows = st_->recent_audit(id, 10);
    ASSERT_TRUE(rows.ok()) << rows.error().message();
    ASSERT_EQ(rows->size(), 4u);
    const Actor& legacy = (*rows)[0].actor;
    EXPECT_EQ(legacy.kind, ActorKind::unknown);
    const Actor& visitor = (*rows)[1].actor;
    EXPECT_EQ(visitor.kind, ActorKind::subscriber);
    EXPECT_FALSE(visitor.user_id.has_value());
    const Actor& tool = (*rows)[2].actor;
    EXPECT_EQ(tool.kind, ActorKind::tool);
    EXPECT_EQ(tool.os_user, "alice");
    EXPECT_EQ(tool.host, "support-pc");
    EXPECT_EQ(tool.ip, "");
    EXPECT_FALSE(tool.user_id.has_value());
    const Actor& subscriber = (*rows)[3].actor;
    EXPECT_EQ(subscriber.kind, ActorKind::subscriber);
    EXPECT_EQ(subscriber.user_id, id);
    EXPECT_EQ(subscriber.ip, "2001:db8::7");
    EXPECT_EQ(subscriber.os_user, "");
    EXPECT_EQ((*rows)[3].at, 20);
}

// Counted by COUNT queries. Inside one transaction (rolled back at the end) the counts see
// this test's rows and, on MySQL, a snapshot that other tests' rows do not enter.
TEST_P(StorageContract, CountsByStatusAndState) {
    Status s = st_->in_transaction([&]() -> Status {
        auto users0 = st_->count_users();
        auto mails0 = st_->count_outbox();
        auto offices0 = st_->count_offices();
        EXPECT_TRUE(users0.ok() && mails0.ok() && offices0.ok());
        if (!users0.ok() || !mails0.ok() || !offices0.ok()) return Status::Internal("count");

        const int64_t a = new_user("count-a");
        const int64_t b = new_user("count-b");
        new_user("count-c");  // pending
        EXPECT_TRUE(st_->set_user_confirmed(a, 5).ok());
        EXPECT_TRUE(st_->set_user_status(b, UserStatus::blocked).ok());
        new_office(code("CNT"));
        auto sent = st_->enqueue_mail(mail(email("count-a"), 1));
        auto failed = st_->enqueue_mail(mail(email("count-b"), 1));
        auto pending = st_->enqueue_mail(mail(email("count-c"), 1));
        EXPECT_TRUE(sent.ok() && failed.ok() && pending.ok());
        EXPECT_TRUE(st_->mark_mail_sent(*sent, 2).ok());
        EXPECT_TRUE(st_->mark_mail_failed(*failed, "550", 2, true).ok());

        auto users = st_->count_users();
        auto mails = st_->count_outbox();
        auto offices = st_->count_offices();
        EXPECT_TRUE(users.ok() && mails.ok() && offices.ok());
        if (!users.ok() || !mails.ok() || !offices.ok()) return Status::Internal("count");
        EXPECT_EQ(users->active - users0->active, 1);
        EXPECT_EQ(users->blocked - users0->blocked, 1);
        EXPECT_EQ(users->pending - users0->pending, 1);
        EXPECT_EQ(users->deleted - users0->deleted, 0);
        EXPECT_EQ(users->total() - users0->total(), 3);
        EXPECT_EQ(mails->sent - mails0->sent, 1);
        EXPECT_EQ(mails->failed - mails0->failed, 1);
        EXPECT_EQ(mails->pending - mails0->pending, 1);
        EXPECT_EQ(*offices - *offices0, 1);

        // The newest mails of one state only.
        auto only_failed = st_->list_outbox_in_state(MailState::failed, 1);
        EXPECT_TRUE(only_failed.ok() && only_failed->size() == 1u);
        if (only_failed.ok() && !only_failed->empty()) {
            EXPECT_EQ((*only_failed)[0].id, *failed);
            EXPECT_EQ((*only_failed)[0].state, MailState::failed);
        }
        auto only_pending = st_->list_outbox_in_state(MailState::pending, 1);
        EXPECT_TRUE(only_pending.ok() && only_pending->size() == 1u);
        if (only_pending.ok() && !only_pending->empty()) {
            EXPECT_EQ((*only_pending)[0].id, *pending);
        }
        return Status::Conflict("roll back");
    });
    EXPECT_EQ(s.code(), StatusCode::conflict) << s.message();
}

TEST_P(StorageContract, EraseUserKeepsAnAnonymousAuditTrail) {
    const int64_t id = new_user("erased");
    const int64_t other = new_user("kept");
    ASSERT_TRUE(st_->insert_consent({id, "2026-01", 1, "203.0.113.9", "Firefox"}).ok());
    Token t;
    t.hash = "erase-" + tag_;
    t.user_id = id;
    t.expires_at = 99;
    ASSERT_TRUE(st_->insert_token(t).ok());
    const std::string c = code("DZH");
    new_office(c);
    const int64_t acc = new_account(c, "42");
    ASSERT_TRUE(st_->insert_link(id, acc, 1).ok());
    ASSERT_TRUE(st_->insert_link(other, acc, 1).ok());
    ASSERT_TRUE(st_->audit({0, 1, id, "register", "", subscriber_actor(id, "203.0.113.9")}).ok());

    auto sessions = open_session_store("storage", *st_);
    ASSERT_TRUE(sessions.ok()) << sessions.error().message();
    ASSERT_TRUE((*sessions)->create({"s-" + tag_, id, "csrf", 1, 1, ""}, 1800, 43200).ok());

    ASSERT_TRUE(st_->erase_user(id).ok());

    auto u = st_->find_user(id);
    ASSERT_TRUE(u.ok() && u->has_value());
    EXPECT_EQ((*u)->email, "deleted-" + std::to_string(id));
    EXPECT_EQ((*u)->email.find('@'), std::string::npos) << "never a deliverable address";
    EXPECT_EQ((*u)->password_hash, "");
    EXPECT_EQ((*u)->status, UserStatus::deleted);
    EXPECT_FALSE(st_->find_user_by_email(email("erased"))->has_value());

    auto consents = st_->consents_of(id);
    ASSERT_EQ(consents->size(), 1u);
    EXPECT_EQ((*consents)[0].ip, "");
    EXPECT_EQ((*consents)[0].user_agent, "");
    EXPECT_EQ((*consents)[0].document_version, "2026-01");
    EXPECT_TRUE(st_->list_links(id)->empty());
    EXPECT_EQ(st_->list_links(other)->size(), 1u);
    EXPECT_FALSE(st_->find_token(TokenKind::confirm, "erase-" + tag_)->has_value());
    EXPECT_FALSE((*sessions)->find("s-" + tag_, 2, 1800, 43200)->has_value());
    auto trail = st_->recent_audit(id, 10);
    ASSERT_EQ(trail->size(), 1u);
    EXPECT_EQ((*trail)[0].event, "register");

    // The address is free again, and a second erase is harmless.
    EXPECT_TRUE(st_->insert_user(email("erased"), "h", 2).ok());
    EXPECT_TRUE(st_->erase_user(id).ok());
}

TEST_P(StorageContract, TransactionCommits) {
    int64_t id = 0;
    Status s = st_->in_transaction([&]() -> Status {
        auto r = st_->insert_user(email("tx"), "h", 1);
        if (!r) return r.error();
        id = *r;
        auto m = st_->enqueue_mail(mail(email("tx"), 1));
        return m ? Status::Ok() : m.error();
    });
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_TRUE(st_->find_user(id)->has_value());
}

TEST_P(StorageContract, TransactionFailingHalfWayLeavesNothing) {
    Status s = st_->in_transaction([&]() -> Status {
        auto r = st_->insert_user(email("half"), "h", 1);
        if (!r) return r.error();
        auto m = st_->enqueue_mail(mail(email("half"), 1));
        if (!m) return m.error();
        return Status::Unavailable("SMTP check failed half-way");
    });
    EXPECT_EQ(s.code(), StatusCode::unavailable);
    EXPECT_FALSE(st_->find_user_by_email(email("half"))->has_value());
    EXPECT_TRUE(claim_mine(1'000'000'000, 60).empty());

    // A failing statement inside (the e-mail is taken) rolls back the earlier insert too.
    new_user("taken");
    s = st_->in_transaction([&]() -> Status {
        auto r = st_->insert_user(email("first"), "h", 1);
        if (!r) return r.error();
        auto dup = st_->insert_user(email("taken"), "h", 1);
        return dup ? Status::Ok() : dup.error();
    });
    EXPECT_EQ(s.code(), StatusCode::conflict);
    EXPECT_FALSE(st_->find_user_by_email(email("first"))->has_value());

    // The storage is usable afterwards (no transaction left open).
    EXPECT_TRUE(st_->insert_user(email("after"), "h", 1).ok());
}

TEST_P(StorageContract, TransactionRollsBackOnException) {
    EXPECT_THROW(st_->in_transaction([&]() -> Status {
        EXPECT_TRUE(st_->insert_user(email("thrown"), "h", 1).ok());
        throw std::runtime_error("bug");
    }),
                 std::runtime_error);
    EXPECT_FALSE(st_->find_user_by_email(email("thrown"))->has_value());
    EXPECT_TRUE(st_->insert_user(email("thrown"), "h", 1).ok());
}

TEST_P(StorageContract, NestedTransactionJoinsTheOuterOne) {
    Status s = st_->in_transaction([&]() -> Status {
        EXPECT_TRUE(st_->insert_user(email("outer"), "h", 1).ok());
        Status inner = st_->in_transaction([&]() -> Status {
            EXPECT_TRUE(st_->insert_user(email("inner"), "h", 1).ok());
            return Status::Conflict("inner refused");
        });
        EXPECT_EQ(inner.code(), StatusCode::conflict);
        return Status::Ok();  // the outer carries on without the inner's work
    });
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_TRUE(st_->find_user_by_email(email("outer"))->has_value());
    EXPECT_FALSE(st_->find_user_by_email(email("inner"))->has_value());

    s = st_->in_transaction([&]() -> Status {
        EXPECT_TRUE(st_->in_transaction([&] {
                           return st_->insert_user(email("deep"), "h", 1).ok()
                                      ? Status::Ok()
                                      : Status::Internal("insert");
                       })
                        .ok());
        return Status::Internal("outer fails");
    });
    EXPECT_FALSE(s.ok());
    EXPECT_FALSE(st_->find_user_by_email(email("deep"))->has_value())
        << "the outer rollback undoes the committed inner part";
}

TEST_P(StorageContract, SeveralThreadsAtOnce) {
    constexpr int kThreads = 4;
    constexpr int kUsers = 50;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kUsers; ++i) {
                const std::string who = "t" + std::to_string(t) + "-" + std::to_string(i);
                Status s = st_->in_transaction([&]() -> Status {
                    auto seen = st_->find_user_by_email(email(who));  // read, then write
                    if (!seen) return seen.error();
                    auto r = st_->insert_user(email(who), "h", i);
                    if (!r) return r.error();
                    return st_->audit(
                        {0, i, *r, "register", tag_, subscriber_actor(*r, "127.0.0.1")});
                });
                if (!s.ok()) {
                    ++failures;
                    ADD_FAILURE() << s.message();
                }
                if (!st_->find_user_by_email(email(who)).ok()) ++failures;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    auto all = st_->search_users(tag_, 1000);
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all->size(), static_cast<size_t>(kThreads * kUsers));
}

// ---- meters and readings (SPEC 9) ----

TEST_P(StorageContract, MetersUpsertByAccountAndSerialKeepingTheRow) {
    MeterStore* ms = meter_store_of(*st_);
    ASSERT_NE(ms, nullptr);
    const std::string c = code("MTR");
    new_office(c);
    const int64_t account = new_account(c, "555");
    const int64_t before = *ms->count_meters();
    MeterRow row;
    row.office_code = c;
    row.account_number = "555";
    row.meter = {0, 0, "SN-1", "Кухня", "СГМН-1", 5, "2027-01-31"};
    Reading last;
    last.period = "2026-04";
    last.value = 1234500;
    last.source = ReadingSource::utility;
    last.submitted_at = 1000;
    row.last = last;
    ASSERT_TRUE(ms->upsert_meters({row}).ok());
    EXPECT_EQ(*ms->count_meters(), before + 1);
    auto meters = ms->meters_of_account(account);
    ASSERT_TRUE(meters.ok());
    ASSERT_EQ(meters->size(), 1u);
    const int64_t id = (*meters)[0].id;
    EXPECT_EQ((*meters)[0].name, "Кухня");
    EXPECT_EQ((*meters)[0].verification_due, "2027-01-31");

    row.meter.name = "Котёл";
    row.meter.digits = 6;
    row.last->value = 1300000;  // the same month again: replaced, not added
    ASSERT_TRUE(ms->upsert_meters({row}).ok());
    EXPECT_EQ(*ms->count_meters(), before + 1);
    meters = ms->meters_of_account(account);
    ASSERT_EQ(meters->size(), 1u);
    EXPECT_EQ((*meters)[0].id, id);
    EXPECT_EQ((*meters)[0].name, "Котёл");
    EXPECT_EQ((*meters)[0].digits, 6);
    auto all = ms->readings_of(id, "");
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(all->size(), 1u);
    EXPECT_EQ((*all)[0].value, 1300000);
    EXPECT_EQ((*all)[0].source, ReadingSource::utility);

    MeterRow stranger = row;
    stranger.account_number = "no-such";
    EXPECT_EQ(ms->upsert_meters({stranger}).code(), StatusCode::not_found);
}

TEST_P(StorageContract, ReadingsOnePerMonthNewestBeforeAPeriodAndExport) {
    MeterStore* ms = meter_store_of(*st_);
    ASSERT_NE(ms, nullptr);
    const std::string c = code("RDG");
    new_office(c);
    const int64_t account = new_account(c, "777");
    MeterRow row;
    row.office_code = c;
    row.account_number = "777";
    row.meter.serial = "X";
    ASSERT_TRUE(ms->upsert_meters({row}).ok());
    int64_t meter = (*ms->meters_of_account(account))[0].id;
    const int64_t user = new_user("reader");
    auto put = [&](const std::string& period, int64_t value) {
        Reading r;
        r.meter_id = meter;
        r.period = period;
        r.value = value;
        r.submitted_at = 5000 + value;
        r.user_id = user;
        return ms->put_reading(r);
    };
    ASSERT_TRUE(put("2025-12", 100).ok());
    ASSERT_TRUE(put("2026-01", 200).ok());
    ASSERT_TRUE(put("2026-01", 250).ok());  // replaces
    ASSERT_TRUE(put("2026-02", 300).ok());
    auto list = ms->readings_of(meter, "2026-01");
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].value, 250);
    EXPECT_EQ((*list)[0].user_id, user);
    EXPECT_EQ((*list)[0].source, ReadingSource::subscriber);
    auto before_feb = ms->last_reading(meter, "2026-02");
    ASSERT_TRUE(before_feb.ok() && before_feb->has_value());
    EXPECT_EQ((*before_feb)->period, "2026-01");
    auto newest = ms->last_reading(meter, "");
    ASSERT_TRUE(newest.ok() && newest->has_value());
    EXPECT_EQ((*newest)->value, 300);
    auto none = ms->last_reading(meter, "2025-12");
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());

    std::vector<ReadingExportRow> rows;
    ASSERT_TRUE(ms->export_readings({"2026-01", c}, [&](const ReadingExportRow& r) {
                      rows.push_back(r);
                  }).ok());
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].office_code, c);
    EXPECT_EQ(rows[0].account_number, "777");
    EXPECT_EQ(rows[0].serial, "X");
    EXPECT_EQ(rows[0].reading.value, 250);
    rows.clear();
    ASSERT_TRUE(
        ms->export_readings({"", c}, [&](const ReadingExportRow& r) { rows.push_back(r); }).ok());
    EXPECT_EQ(rows.size(), 3u);

    // Removing the office takes its meters and readings along.
    ASSERT_TRUE(ms->remove_meter(account, "X").ok());
    EXPECT_EQ(ms->remove_meter(account, "X").code(), StatusCode::not_found);
    ASSERT_TRUE(ms->upsert_meters({row}).ok());
    meter = (*ms->meters_of_account(account))[0].id;
    ASSERT_TRUE(put("2026-03", 1).ok());
    EXPECT_TRUE(st_->remove_office(c, false).ok());
}

// ---- notifications (SPEC 11) ----

TEST_P(StorageContract, OutboxKeepsAMailsOwnHeaders) {
    const int64_t now = 4'000'000;
    OutboxMail m = mail("headers." + tag_ + "@example.org", now);
    m.headers = {{"List-Unsubscribe", "<https://lk.example.org/lkk/unsubscribe?t=abc>"},
                 {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}};
    ASSERT_TRUE(st_->enqueue_mail(m).ok());
    ASSERT_TRUE(st_->enqueue_mail(mail("plain." + tag_ + "@example.org", now)).ok());
    auto mine = claim_mine(now, 60);
    ASSERT_EQ(mine.size(), 2u);
    for (const OutboxMail& got : mine) {
        if (got.recipient.rfind("headers.", 0) == 0) {
            EXPECT_EQ(got.headers, m.headers);
        } else {
            EXPECT_TRUE(got.headers.empty());
        }
    }
}

TEST_P(StorageContract, NotificationPreferencesAreOffUntilChosen) {
    NotificationStore* ns = notification_store_of(*st_);
    ASSERT_NE(ns, nullptr);
    const int64_t u = new_user("prefs");
    EXPECT_EQ(*ns->preferences(u), NotificationPreferences{});
    ASSERT_TRUE(ns->set_preference(u, NotificationKind::readings, true, 10).ok());
    EXPECT_EQ(*ns->preferences(u), (NotificationPreferences{true, false}));
    ASSERT_TRUE(ns->set_preference(u, NotificationKind::bill, true, 11).ok());
    ASSERT_TRUE(ns->set_preference(u, NotificationKind::readings, false, 12).ok());
    EXPECT_EQ(*ns->preferences(u), (NotificationPreferences{false, true}));
    EXPECT_EQ(*ns->preferences(new_user("other-prefs")), NotificationPreferences{});
}

TEST_P(StorageContract, ANotificationIsRecordedOncePerUserKindItemAndPeriod) {
    NotificationStore* ns = notification_store_of(*st_);
    ASSERT_NE(ns, nullptr);
    const int64_t u = new_user("sent");
    NotificationKey key{u, NotificationKind::readings, "", "2026-05"};
    EXPECT_FALSE(*ns->notification_recorded(key));
    EXPECT_TRUE(*ns->record_notification(key, 10));
    EXPECT_FALSE(*ns->record_notification(key, 11));
    EXPECT_TRUE(*ns->notification_recorded(key));
    for (NotificationKey other :
         {NotificationKey{u, NotificationKind::readings, "", "2026-06"},
          NotificationKey{u, NotificationKind::bill, "", "2026-05"},
          NotificationKey{u, NotificationKind::bill, "SIM/1", "2026-05"},
          NotificationKey{new_user("sent2"), NotificationKind::readings, "", "2026-05"}}) {
        EXPECT_TRUE(*ns->record_notification(other, 12));
    }
    // A refused record inside a transaction leaves the transaction usable.
    Status s = st_->in_transaction([&]() -> Status {
        auto again = ns->record_notification(key, 13);
        if (!again) return again.error();
        EXPECT_FALSE(*again);
        auto id = st_->enqueue_mail(mail("after-refusal." + tag_ + "@example.org", 13));
        return id ? Status::Ok() : id.error();
    });
    EXPECT_TRUE(s.ok()) << s.message();
}

// Several hosts race for the same notification: each in its own transaction on its own
// connection; the UNIQUE key lets exactly one through.
TEST_P(StorageContract, RacingTransactionsRecordANotificationOnce) {
    NotificationStore* ns = notification_store_of(*st_);
    ASSERT_NE(ns, nullptr);
    const int64_t u = new_user("race");
    constexpr int kThreads = 4;
    std::atomic<int> won{0}, failed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            Status s = st_->in_transaction([&]() -> Status {
                auto r = ns->record_notification({u, NotificationKind::readings, "", "2026-07"}, 1);
                if (!r) return r.error();
                if (*r) ++won;
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                return Status::Ok();
            });
            if (!s.ok()) {
                ++failed;
                ADD_FAILURE() << s.message();
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(won.load(), 1);
    EXPECT_EQ(failed.load(), 0);
}

TEST_P(StorageContract, UnsubscribeTokensAreFoundByTheirHash) {
    NotificationStore* ns = notification_store_of(*st_);
    ASSERT_NE(ns, nullptr);
    const int64_t u = new_user("unsub");
    const std::string hash = std::string(64 - tag_.size(), 'a') + tag_;
    ASSERT_TRUE(ns->insert_unsubscribe_token({0, hash, u, NotificationKind::bill, 5, {}}).ok());
    auto t = ns->find_unsubscribe_token(hash);
    ASSERT_TRUE(t.ok() && t->has_value());
    EXPECT_EQ((*t)->user_id, u);
    EXPECT_EQ((*t)->kind, NotificationKind::bill);
    EXPECT_FALSE((*t)->used_at.has_value());
    ASSERT_TRUE(ns->mark_unsubscribe_token_used((*t)->id, 7).ok());
    EXPECT_EQ((*ns->find_unsubscribe_token(hash))->used_at, 7);
    EXPECT_FALSE(
        ns->find_unsubscribe_token(std::string(64 - tag_.size(), 'b') + tag_)->has_value());
    EXPECT_EQ(ns->insert_unsubscribe_token({0, hash, u, NotificationKind::readings, 6, {}}).code(),
              StatusCode::conflict);
    // users delete takes the cabinet's choices and tokens with it.
    ASSERT_TRUE(ns->set_preference(u, NotificationKind::bill, true, 8).ok());
    ASSERT_TRUE(st_->erase_user(u).ok());
    EXPECT_FALSE(ns->find_unsubscribe_token(hash)->has_value());
    EXPECT_EQ(*ns->preferences(u), NotificationPreferences{});
}

TEST_P(StorageContract, ReadingsRemindersDueAreActiveCabinetsWithAMeterNotYetReminded) {
    NotificationStore* ns = notification_store_of(*st_);
    MeterStore* ms = meter_store_of(*st_);
    ASSERT_NE(ns, nullptr);
    ASSERT_NE(ms, nullptr);
    const std::string c = code("RMD");
    new_office(c);
    const int64_t with_meter = new_account(c, "1");
    const int64_t without_meter = new_account(c, "2");
    MeterRow row;
    row.office_code = c;
    row.account_number = "1";
    row.meter.serial = "M-1";
    ASSERT_TRUE(ms->upsert_meters({row}).ok());
    auto cabinet = [&](const std::string& who, int64_t account, bool wants, UserStatus status) {
        const int64_t u = new_user(who);
        EXPECT_TRUE(st_->set_user_status(u, status).ok());
        EXPECT_TRUE(st_->insert_link(u, account, 1).ok());
        EXPECT_TRUE(ns->set_preference(u, NotificationKind::readings, wants, 1).ok());
        return u;
    };
    const int64_t due1 = cabinet("due1", with_meter, true, UserStatus::active);
    const int64_t due2 = cabinet("due2", with_meter, true, UserStatus::active);
    const int64_t off = cabinet("off", with_meter, false, UserStatus::active);
    const int64_t no_meter = cabinet("nometer", without_meter, true, UserStatus::active);
    const int64_t blocked = cabinet("blocked", with_meter, true, UserStatus::blocked);
    // A period of this test alone: other runs' cabinets on a shared database are due in it
    // too, so only this test's are looked at.
    const std::string period =
        std::to_string(3000 + std::stoul(tag_.substr(0, 3), nullptr, 16) % 999) + "-05";
    auto due_now = [&] {
        std::vector<int64_t> mine;
        int64_t after = 0;
        for (;;) {
            auto page = ns->readings_reminders_due(period, after, 2);
            EXPECT_TRUE(page.ok()) << page.error().message();
            if (!page.ok() || page->empty()) break;
            for (const ReminderRecipient& r : *page) {
                EXPECT_GT(r.user_id, after);
                after = r.user_id;
                for (int64_t u : {due1, due2, off, no_meter, blocked}) {
                    if (r.user_id == u) mine.push_back(u);
                }
            }
        }
        return mine;
    };
    EXPECT_EQ(due_now(), (std::vector<int64_t>{due1, due2}));
    ASSERT_TRUE(*ns->record_notification({due1, NotificationKind::readings, "", period}, 2));
    ASSERT_TRUE(*ns->record_notification({due2, NotificationKind::bill, "", period}, 2));
    EXPECT_EQ(due_now(), (std::vector<int64_t>{due2}));
}

TEST_P(StorageContract, OutboxKeepsAMailsAttachmentSources) {
    const int64_t now = 4'100'000;
    OutboxMail m = mail("attached." + tag_ + "@example.org", now);
    m.attachments = {{"bill/7/9/2026-05", "bill-100200-2026-05.pdf", "application/pdf", ""}};
    ASSERT_TRUE(st_->enqueue_mail(m).ok());
    ASSERT_TRUE(st_->enqueue_mail(mail("bare." + tag_ + "@example.org", now)).ok());
    auto mine = claim_mine(now, 60);
    ASSERT_EQ(mine.size(), 2u);
    for (const OutboxMail& got : mine) {
        if (got.recipient.rfind("attached.", 0) == 0) {
            ASSERT_EQ(got.attachments.size(), 1u);
            EXPECT_EQ(got.attachments[0].source, "bill/7/9/2026-05");
            EXPECT_EQ(got.attachments[0].file_name, "bill-100200-2026-05.pdf");
            EXPECT_EQ(got.attachments[0].content_type, "application/pdf");
            EXPECT_TRUE(got.attachments[0].content.empty());
        } else {
            EXPECT_TRUE(got.attachments.empty());
        }
    }
}

// The bill mail (SPEC 10) goes to cabinets that want bills, for the newest month of each linked
// account when that month came with the import at hand (imported at or after the time given).
TEST_P(StorageContract, BillMailsDueAreTheNewNewestMonthsOfLinkedAccountsOfCabinetsWantingThem) {
    MoneyStore* ms = money_store_of(*st_);
    NotificationStore* ns = notification_store_of(*st_);
    ASSERT_NE(ms, nullptr);
    ASSERT_NE(ns, nullptr);
    const std::string c = code("BML");
    new_office(c);
    const int64_t fresh = new_account(c, "1");  // its newest month arrives with the import
    const int64_t old = new_account(c, "2");    // only an older month arrives with it
    auto statement = [&](const std::string& account, const std::string& period, int64_t at) {
        StatementRow r;
        r.office_code = c;
        r.account_number = account;
        r.statement.period = period;
        r.statement.imported_at = at;
        return r;
    };
    ASSERT_TRUE(
        ms->upsert_statements({statement("1", "2026-04", 100), statement("2", "2026-05", 100)})
            .ok());
    ASSERT_TRUE(
        ms->upsert_statements({statement("1", "2026-05", 5000), statement("2", "2026-04", 5000)})
            .ok());
    auto cabinet = [&](const std::string& who, int64_t account, bool wants, UserStatus status) {
        const int64_t u = new_user(who);
        EXPECT_TRUE(st_->set_user_status(u, status).ok());
        auto link = st_->insert_link(u, account, 1);
        EXPECT_TRUE(link.ok());
        EXPECT_TRUE(ns->set_preference(u, NotificationKind::bill, wants, 1).ok());
        return link.ok() ? *link : 0;
    };
    const int64_t wants = cabinet("bills", fresh, true, UserStatus::active);
    const int64_t wants_too = cabinet("bills2", fresh, true, UserStatus::active);
    const int64_t off = cabinet("nobills", fresh, false, UserStatus::active);
    const int64_t blocked = cabinet("blockedbills", fresh, true, UserStatus::blocked);
    const int64_t old_only = cabinet("oldbills", old, true, UserStatus::active);
    // Other runs' statements on a shared database are due too: only this test's links count.
    auto due_since = [&](int64_t since) {
        std::vector<BillRecipient> mine;
        int64_t after = 0;
        for (;;) {
            auto page = ns->bill_mails_due(since, after, 50);
            EXPECT_TRUE(page.ok()) << page.error().message();
            if (!page.ok() || page->empty()) break;
            for (const BillRecipient& r : *page) {
                EXPECT_GT(r.link_id, after);
                after = r.link_id;
                for (int64_t l : {wants, wants_too, off, blocked, old_only}) {
                    if (r.link_id == l) mine.push_back(r);
                }
            }
        }
        return mine;
    };
    const auto due = due_since(5000);
    ASSERT_EQ(due.size(), 2u);
    EXPECT_EQ(due[0].link_id, wants);
    EXPECT_EQ(due[1].link_id, wants_too);
    EXPECT_EQ(due[0].office_code, c);
    EXPECT_EQ(due[0].office_name, "Office " + c);
    EXPECT_EQ(due[0].account_number, "1");
    EXPECT_EQ(due[0].period, "2026-05");
    EXPECT_TRUE(due_since(5001).empty());
}

// ---- money (SPEC 10) ----

TEST_P(StorageContract, OfficeRequisitesRoundTrip) {
    const std::string c = code("REQ");
    Office o{c, "Office", "+7", ""};
    o.requisites = {"ГУП РК «Крымгазсети»", "9102019769", "910201001",
                    "РНКБ Банк (ПАО)",      "043510607",  "40702810041200000123",
                    "30101810335100000607"};
    ASSERT_TRUE(st_->insert_office(o).ok());
    auto found = st_->find_office(c);
    ASSERT_TRUE(found.ok() && found->has_value());
    const PaymentRequisites& r = (*found)->requisites;
    EXPECT_EQ(r.payee, "ГУП РК «Крымгазсети»");
    EXPECT_EQ(r.inn, "9102019769");
    EXPECT_EQ(r.kpp, "910201001");
    EXPECT_EQ(r.bank, "РНКБ Банк (ПАО)");
    EXPECT_EQ(r.bic, "043510607");
    EXPECT_EQ(r.account, "40702810041200000123");
    EXPECT_EQ(r.corr_account, "30101810335100000607");
    o.requisites.kpp = "";
    ASSERT_TRUE(st_->update_office(o).ok());
    EXPECT_EQ((*st_->find_office(c))->requisites.kpp, "");
    // The registry's rows carry the office with its requisites (the bill needs them).
    new_account(c, "42");
    const int64_t user = new_user("payer");
    ASSERT_TRUE(st_->insert_link(user, (*st_->find_billing_account(c, "42"))->id, 1).ok());
    auto links = st_->list_links(user);
    ASSERT_TRUE(links.ok());
    ASSERT_EQ(links->size(), 1u);
    EXPECT_EQ((*links)[0].office.requisites.account, "40702810041200000123");
    EXPECT_EQ((*links)[0].office.phones, "+7");
}

TEST_P(StorageContract, StatementsUpsertByAccountAndPeriodKeepingTheRow) {
    MoneyStore* ms = money_store_of(*st_);
    ASSERT_NE(ms, nullptr);
    const std::string c = code("STM");
    new_office(c);
    const int64_t account = new_account(c, "901");
    const int64_t before = *ms->count_statements();
    auto row = [&](const std::string& period, Kopecks closing, int64_t at) {
        StatementRow r;
        r.office_code = c;
        r.account_number = "901";
        r.statement.period = period;
        r.statement.opening_balance = -100;
        r.statement.accrued = 73440;
        r.statement.paid = 50000;
        r.statement.closing_balance = closing;
        r.statement.consumption = 102500;
        r.statement.imported_at = at;
        return r;
    };
    ASSERT_TRUE(ms->upsert_statements({row("2026-03", 23340, 100), row("2026-04", -5, 100)}).ok());
    EXPECT_EQ(*ms->count_statements(), before + 2);
    auto latest = ms->latest_statement(account);
    ASSERT_TRUE(latest.ok() && latest->has_value());
    EXPECT_EQ((*latest)->period, "2026-04");
    EXPECT_EQ((*latest)->closing_balance, -5);
    EXPECT_EQ((*latest)->opening_balance, -100);
    EXPECT_EQ((*latest)->consumption, 102500);
    EXPECT_FALSE((*latest)->tariff.has_value());
    const int64_t id = (*latest)->id;

    StatementRow fixed = row("2026-04", 777, 999);
    fixed.statement.consumption.reset();
    fixed.statement.tariff = 716;
    ASSERT_TRUE(ms->upsert_statements({fixed}).ok());
    EXPECT_EQ(*ms->count_statements(), before + 2);
    auto april = ms->statement(account, "2026-04");
    ASSERT_TRUE(april.ok() && april->has_value());
    EXPECT_EQ((*april)->id, id);
    EXPECT_EQ((*april)->closing_balance, 777);
    EXPECT_EQ((*april)->imported_at, 100) << "the first import time stays";
    EXPECT_FALSE((*april)->consumption.has_value());
    EXPECT_EQ((*april)->tariff, 716);
    auto from_april = ms->statements_of(account, "2026-04");
    ASSERT_TRUE(from_april.ok());
    ASSERT_EQ(from_april->size(), 1u);
    auto all = ms->statements_of(account, "");
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ((*all)[0].period, "2026-03");
    auto none = ms->statement(account, "2026-05");
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());

    StatementRow stranger = row("2026-04", 1, 1);
    stranger.account_number = "no-such";
    EXPECT_EQ(ms->upsert_statements({stranger}).code(), StatusCode::not_found);
    // Removing the office takes its statements along.
    EXPECT_TRUE(st_->remove_office(c, false).ok());
    EXPECT_EQ(*ms->count_statements(), before);
}

TEST_P(StorageContract, PaymentsUpsertByOfficeAndPaymentIdNewestFirst) {
    MoneyStore* ms = money_store_of(*st_);
    ASSERT_NE(ms, nullptr);
    const std::string c = code("PAY");
    new_office(c);
    const int64_t first = new_account(c, "1");
    const int64_t second = new_account(c, "2");
    const int64_t before = *ms->count_payments();
    auto row = [&](const std::string& account, const std::string& id, const std::string& date,
                   Kopecks amount) {
        PaymentRow r;
        r.office_code = c;
        r.account_number = account;
        r.payment = {0, 0, id, date, amount, "Почта России"};
        return r;
    };
    ASSERT_TRUE(
        ms->upsert_payments({row("1", "P1", "2026-03-10", 1000), row("1", "P2", "2026-04-10", 2000),
                             row("1", "P3", "2026-04-10", 3000)})
            .ok());
    EXPECT_EQ(*ms->count_payments(), before + 3);
    // billing corrects P3: another amount, and it was the other account's.
    ASSERT_TRUE(ms->upsert_payments({row("2", "P3", "2026-04-11", 3100)}).ok());
    EXPECT_EQ(*ms->count_payments(), before + 3);
    auto list = ms->payments_of(first, "", 10);
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].payment_id, "P2");
    EXPECT_EQ((*list)[0].date, "2026-04-10");
    EXPECT_EQ((*list)[0].channel, "Почта России");
    EXPECT_EQ((*list)[1].payment_id, "P1");
    auto moved = ms->payments_of(second, "", 10);
    ASSERT_EQ(moved->size(), 1u);
    EXPECT_EQ((*moved)[0].amount, 3100);
    EXPECT_EQ(ms->payments_of(first, "2026-04-01", 10)->size(), 1u);
    EXPECT_EQ(ms->payments_of(first, "", 1)->size(), 1u);
    EXPECT_EQ(ms->upsert_payments({row("no-such", "P9", "2026-04-10", 1)}).code(),
              StatusCode::not_found);
    EXPECT_TRUE(st_->remove_office(c, false).ok());
    EXPECT_EQ(*ms->count_payments(), before);
}

// The read cache (issue 11): answers are kept per thread under the generation given, writes of
// cached data are announced after the unit of work and make the writing thread read afresh,
// and writes of other tables (the audit log) announce nothing.
TEST_P(StorageContract, ReadCacheKeepsAnswersUnderAGenerationAndAnnouncesWrites) {
    int announced = 0;
    st_->set_read_cache(60, [&] { ++announced; });
    const std::string c = code("RC");
    new_office(c);
    const int64_t user = new_user("cached");
    const int64_t first = new_account(c, "0000001");
    const int64_t second = new_account(c, "0000002");
    ASSERT_TRUE(st_->insert_link(user, first, 1000).ok());
    EXPECT_GE(announced, 4) << "office, user, two accounts and a link were written";

    st_->use_read_cache("g1");
    ASSERT_EQ(st_->list_links(user)->size(), 1U);
    // Another process (a second storage: lkk-admin, another host) links behind this one's back.
    auto other = open_storage(url_);
    ASSERT_TRUE(other.ok()) << other.error().message();
    ASSERT_TRUE((*other)->insert_link(user, second, 1001).ok());
    ASSERT_TRUE((*other)->set_user_status(user, UserStatus::blocked).ok());
    EXPECT_EQ(st_->list_links(user)->size(), 1U) << "kept under g1";
    st_->use_read_cache("g1");
    EXPECT_EQ(st_->list_links(user)->size(), 1U) << "still g1: still kept";
    st_->use_read_cache("g2");
    EXPECT_EQ(st_->list_links(user)->size(), 2U) << "a new generation reads afresh";
    EXPECT_EQ((*st_->find_user(user))->status, UserStatus::blocked);
    st_->use_read_cache("");
    ASSERT_TRUE((*other)->set_user_status(user, UserStatus::active).ok());
    EXPECT_EQ((*st_->find_user(user))->status, UserStatus::active) << "no generation: no cache";

    // This thread's own write: announced, and what it kept is gone at once.
    st_->use_read_cache("g3");
    ASSERT_EQ(st_->list_links(user)->size(), 2U);
    const int before = announced;
    auto links = st_->list_links(user);
    ASSERT_TRUE(st_->delete_link(user, (*links)[1].link_id).ok());
    EXPECT_EQ(announced, before + 1);
    EXPECT_EQ(st_->list_links(user)->size(), 1U);
    // A transaction announces once, after it is over.
    ASSERT_TRUE(st_->in_transaction([&] {
                       EXPECT_TRUE(st_->set_user_confirmed(user, 1002).ok());
                       EXPECT_TRUE(st_->set_password_hash(user, "$argon2id$other").ok());
                       EXPECT_EQ(announced, before + 1) << "not before the commit";
                       return Status::Ok();
                   })
                    .ok());
    EXPECT_EQ(announced, before + 2);
    // The audit log is never cached: writing it announces nothing.
    ASSERT_TRUE(
        st_->audit({0, 10, user, "login_ok", "", subscriber_actor(user, "198.51.100.1")}).ok());
    EXPECT_EQ(announced, before + 2);
    st_->use_read_cache("");
}

INSTANTIATE_TEST_SUITE_P(Backends, StorageContract, ::testing::ValuesIn(backends()),
                         [](const auto& p) { return p.param; });

// ---- MySQL and Galera only (SPEC 14): several hosts, units of work that run again ----

// The URL with `first` put before its hosts: "mysql://u:p@H/db" -> "mysql://u:p@first,H/db".
std::string with_first_host(const std::string& url, const std::string& first) {
    const auto at = url.rfind('@');
    return url.substr(0, at + 1) + first + "," + url.substr(at + 1);
}

// The URL with its host list turned so that host `n` (from 0) comes first.
std::string starting_at_host(const std::string& url, size_t n) {
    const auto at = url.rfind('@');
    const auto slash = url.find('/', at);
    std::vector<std::string> hosts;
    std::string list = url.substr(at + 1, slash - at - 1);
    for (size_t start = 0;;) {
        const auto comma = list.find(',', start);
        hosts.push_back(list.substr(start, comma == std::string::npos ? comma : comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    std::rotate(hosts.begin(), hosts.begin() + static_cast<std::ptrdiff_t>(n % hosts.size()),
                hosts.end());
    std::string joined;
    for (const auto& h : hosts) joined += (joined.empty() ? "" : ",") + h;
    return url.substr(0, at + 1) + joined + url.substr(slash);
}

class MysqlFamily : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        url_ = mysql_family_url(GetParam());
        if (url_.empty()) return;
        st_ = open(url_);
        ASSERT_TRUE(st_ && st_->migrate().ok());
        tag_ = random_tag();
    }
    static std::unique_ptr<Storage> open(const std::string& url) {
        auto opened = open_storage(url);
        EXPECT_TRUE(opened.ok()) << opened.error().message();
        return opened.ok() ? std::move(opened.value()) : nullptr;
    }
    std::string email(const std::string& who) const { return who + "." + tag_ + "@example.org"; }

    std::string url_;
    std::unique_ptr<Storage> st_;
    std::string tag_;
};

TEST_P(MysqlFamily, MultiHostUrlTakesTheNextHostWhenTheFirstIsDown) {
    // Port 1 on loopback: nothing listens there, so the first host refuses at once.
    auto st = open(with_first_host(url_, "127.0.0.1:1"));
    ASSERT_TRUE(st);
    ASSERT_TRUE(st->ping().ok());
    auto id = st->insert_user(email("failover"), "h", 1);
    ASSERT_TRUE(id.ok()) << id.error().message();
    auto found = st_->find_user_by_email(email("failover"));
    ASSERT_TRUE(found.ok() && found->has_value());
    EXPECT_EQ((*found)->id, *id);

    // No host answers: unavailable (503), naming the last host tried.
    auto none = open("mysql://lkk:x@127.0.0.1:1,127.0.0.1:2/lkk_test");
    ASSERT_TRUE(none);
    Status s = none->ping();
    EXPECT_EQ(s.code(), StatusCode::unavailable);
    EXPECT_NE(s.message().find("no MySQL host answers"), std::string::npos) << s.message();
}

TEST_P(MysqlFamily, BadHostListsAreRefused) {
    for (const char* bad : {"mysql://u:p@a:1,,b:2/db", "mysql://u:p@a:1,b:x/db",
                            "mysql://u:p@a:1,b:70000/db", "mysql://u:p@a,b/"}) {
        auto r = open_storage(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().code(), StatusCode::invalid_argument) << bad;
    }
}

// Two transactions take two rows in opposite orders: the server kills one (deadlock, 1213)
// and the storage runs it again, so both succeed and nothing is lost.
TEST_P(MysqlFamily, DeadlockVictimRunsAgain) {
    const int64_t a = *st_->insert_user(email("a"), "h", 1);
    const int64_t b = *st_->insert_user(email("b"), "h", 1);
    auto other = open(url_);
    ASSERT_TRUE(other);
    std::atomic<int> runs{0};
    std::atomic<int> holding{0};
    auto worker = [&](Storage& st, int64_t first, int64_t second, const std::string& who) {
        return st.in_transaction([&]() -> Status {
            const bool first_run = runs.fetch_add(1) < 2;
            if (Status s = st.set_user_status(first, UserStatus::blocked); !s.ok()) return s;
            if (first_run) {  // both hold their first row before either takes its second
                ++holding;
                for (int i = 0; i < 500 && holding.load() < 2; ++i)
                    std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            if (Status s = st.set_user_status(second, UserStatus::blocked); !s.ok()) return s;
            return st.audit(
                {0, 1, first, "deadlock_test", who, subscriber_actor(first, "127.0.0.1")});
        });
    };
    Status s1;
    std::thread t([&] { s1 = worker(*st_, a, b, tag_ + "-1"); });
    Status s2 = worker(*other, b, a, tag_ + "-2");
    t.join();
    EXPECT_TRUE(s1.ok()) << s1.message();
    EXPECT_TRUE(s2.ok()) << s2.message();
    EXPECT_EQ(runs.load(), 3) << "one of the two ran again";
    auto audit = st_->recent_audit(a, 10);
    ASSERT_TRUE(audit.ok());
    auto b_audit = st_->recent_audit(b, 10);
    ASSERT_TRUE(b_audit.ok());
    EXPECT_EQ(audit->size() + b_audit->size(), 2u) << "each transaction committed once";
}

INSTANTIATE_TEST_SUITE_P(Backends, MysqlFamily, ::testing::Values("mysql", "galera"),
                         [](const auto& p) { return p.param; });

// ---- Galera only: the cluster's own failure modes ----

class Galera : public MysqlFamily {};

// A transaction on node 1 writes a row that node 2 changes and commits meanwhile: node 1
// aborts it on certification (1213), and the storage runs it again.
TEST_P(Galera, CertificationFailureRunsTheTransactionAgain) {
    const int64_t user = *st_->insert_user(email("cert"), "h", 1);
    auto node2 = open(starting_at_host(url_, 1));
    ASSERT_TRUE(node2);
    ASSERT_TRUE(node2->ping().ok());
    std::atomic<int> runs{0};
    std::atomic<bool> holding{false};
    std::atomic<bool> other_committed{false};
    std::thread t([&] {
        for (int i = 0; i < 500 && !holding.load(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        EXPECT_TRUE(node2->set_user_status(user, UserStatus::deleted).ok());
        other_committed = true;
    });
    Status s = st_->in_transaction([&]() -> Status {
        const bool first_run = runs.fetch_add(1) == 0;
        if (Status st = st_->set_user_status(user, UserStatus::blocked); !st.ok()) return st;
        if (first_run) {
            holding = true;
            for (int i = 0; i < 500 && !other_committed.load(); ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            std::this_thread::sleep_for(std::chrono::milliseconds(200));  // replicated to us
        }
        return Status::Ok();
    });
    t.join();
    EXPECT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(runs.load(), 2) << "aborted once on certification, then committed";
    auto found = st_->find_user(user);
    ASSERT_TRUE(found.ok() && found->has_value());
    EXPECT_EQ((*found)->status, UserStatus::blocked) << "the transaction that ran again won";
}

// Claimers on all three nodes at once: every mail is claimed exactly once (Galera does not
// see SELECT ... FOR UPDATE locks of other nodes; the claim token makes it safe).
TEST_P(Galera, OutboxClaimsAreExactlyOnceAcrossNodes) {
    constexpr int kMails = 120;
    const int64_t now = 7'000'000;
    std::set<int64_t> mine;
    for (int i = 0; i < kMails; ++i) {
        OutboxMail m;
        m.recipient = "n" + std::to_string(i) + "." + tag_ + "@example.org";
        m.subject = "s";
        m.body_text = "t";
        m.created_at = now;
        m.next_attempt_at = now;
        auto id = st_->enqueue_mail(m);
        ASSERT_TRUE(id.ok());
        mine.insert(*id);
    }
    std::vector<std::unique_ptr<Storage>> nodes;
    for (size_t n = 0; n < 3; ++n) nodes.push_back(open(starting_at_host(url_, n)));
    std::mutex mu;
    std::vector<int64_t> claimed;
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&, t] {
            Storage& st = *nodes[static_cast<size_t>(t % 3)];
            for (int round = 0; round < 400; ++round) {
                auto got = st.claim_due_mails(now, 4, 3600);
                if (!got.ok()) {
                    if (errors++ == 0) ADD_FAILURE() << got.error().message();
                    continue;
                }
                if (got->empty()) break;
                std::lock_guard lock(mu);
                for (const auto& m : *got) {
                    if (mine.count(m.id) != 0) claimed.push_back(m.id);
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    std::sort(claimed.begin(), claimed.end());
    EXPECT_EQ(std::adjacent_find(claimed.begin(), claimed.end()), claimed.end())
        << "a mail was claimed twice";
    EXPECT_EQ(claimed.size(), mine.size()) << "every mail was claimed";
    EXPECT_EQ(errors.load(), 0) << "claims that conflicted ran again";
}

INSTANTIATE_TEST_SUITE_P(Backends, Galera, ::testing::Values("galera"),
                         [](const auto& p) { return p.param; });

// ---- SQLite only ----

TEST(SqliteStorage, RefusesAMissingDirectoryClearly) {
    auto r = open_storage("sqlite:/nonexistent-lkk-dir/sub/lkk.db");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message().find("/nonexistent-lkk-dir/sub"), std::string::npos)
        << r.error().message();
    EXPECT_FALSE(std::filesystem::exists("/nonexistent-lkk-dir"));
}

TEST(SqliteStorage, RefusesMemoryDatabasesAndUnknownUrls) {
    EXPECT_EQ(open_storage("sqlite::memory:").error().code(), StatusCode::invalid_argument);
    EXPECT_EQ(open_storage("sqlite:").error().code(), StatusCode::invalid_argument);
    EXPECT_EQ(open_storage("postgres://x").error().code(), StatusCode::invalid_argument);
}

TEST(SqliteStorage, ReopensAnExistingFile) {
    TempDir dir;
    const std::string url = "sqlite:" + dir.path() + "/lkk.db";
    int64_t id = 0;
    {
        auto st = open_storage(url);
        ASSERT_TRUE(st.ok());
        id = *(*st)->insert_user("keep@example.org", "h", 1);
    }
    auto st = open_storage(url);
    ASSERT_TRUE(st.ok()) << st.error().message();
    EXPECT_EQ(*(*st)->schema_version(), (*st)->expected_schema_version());
    auto u = (*st)->find_user(id);
    ASSERT_TRUE(u.ok() && u->has_value());
    EXPECT_EQ((*u)->email, "keep@example.org");
}

// A SQLite file in a folder that a test moves away and back, with one user in it.
struct MovableDatabase {
    TempDir dir;
    std::filesystem::path db_dir = std::filesystem::path(dir.path()) / "db";
    std::filesystem::path moved = std::filesystem::path(dir.path()) / "moved";
    std::unique_ptr<Storage> storage;

    explicit MovableDatabase(const std::string& user) {
        std::filesystem::create_directory(db_dir);
        auto st = open_storage("sqlite:" + (db_dir / "lkk.db").string());
        if (st.ok()) storage = std::move(st.value());
        if (storage && !storage->insert_user(user, "h", 1).ok()) storage.reset();
    }
    void move_away() { std::filesystem::rename(db_dir, moved); }
    void bring_back() { std::filesystem::rename(moved, db_dir); }
};

// Connections are opened lazily per thread and a failed open is not remembered: a thread
// that first comes while the database is unreachable gets unavailable (503), and the same
// thread works once the file is back, with no restart.
TEST(SqliteStorage, ThreadConnectionOpensLazilyAndRetries) {
    MovableDatabase db("first@example.org");
    ASSERT_TRUE(db.storage);
    Storage* st = db.storage.get();
    db.move_away();
    Status while_gone;
    Status after_return;
    std::optional<User> seen;
    std::thread worker([&] {
        while_gone = st->ping();
        db.bring_back();
        after_return = st->ping();
        auto u = st->find_user_by_email("first@example.org");
        if (u.ok()) seen = *u;
    });
    worker.join();
    EXPECT_EQ(while_gone.code(), StatusCode::unavailable) << while_gone.message();
    EXPECT_TRUE(after_return.ok()) << after_return.message();
    EXPECT_TRUE(seen.has_value());
}

// A connection opened before fork() is the parent's: the child (an nginx worker forked by the
// master that had used the storage) opens its own. Seen here because the child's open fails
// once the file is gone, where the parent's inherited connection would still answer.
TEST(SqliteStorage, AChildOfForkNeverUsesTheParentsConnection) {
    MovableDatabase db("parent@example.org");
    ASSERT_TRUE(db.storage);
    Storage* st = db.storage.get();
    db.move_away();
    for (int round = 0; round < 2; ++round) {  // the second child's parent has forked before
        const pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            const Status s = st->ping();
            _exit(s.code() == StatusCode::unavailable ? 0 : 1);
        }
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        EXPECT_EQ(WEXITSTATUS(status), 0) << "round " << round;
    }
    EXPECT_TRUE(st->ping().ok());  // the parent still has its own
    db.bring_back();
    auto u = st->find_user_by_email("parent@example.org");
    ASSERT_TRUE(u.ok());
    EXPECT_TRUE(u->has_value());
}

// SQLite's statistics of its allocations take one mutex of the process on every allocation of
// every thread: the storage turns them off before the process's first connection, so
// sqlite3_memory_used() stays 0 however much the queries allocate.
TEST(SqliteStorage, KeepsNoAllocationStatisticsBehindAGlobalLock) {
    TempDir dir;
    auto st = open_storage("sqlite:" + dir.path() + "/lkk.db");
    ASSERT_TRUE(st.ok()) << st.error().message();
    auto u = (*st)->find_user_by_email("nobody@example.org");
    ASSERT_TRUE(u.ok());
    EXPECT_FALSE(u->has_value());
    EXPECT_EQ(sqlite3_memory_used(), 0);
}

// Two nginx workers are two processes on one file: their transactions must queue on the
// lock (busy_timeout, BEGIN IMMEDIATE) instead of failing with "database is locked".
TEST(SqliteStorage, TwoProcessesWriteAtOnce) {
    TempDir dir;
    const std::string url = "sqlite:" + dir.path() + "/lkk.db";
    {
        auto st = open_storage(url);  // created and migrated before the children start
        ASSERT_TRUE(st.ok());
    }
    constexpr int kRows = 200;
    std::vector<pid_t> children;
    for (int child = 0; child < 2; ++child) {
        const pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            int failures = 0;
            auto st = open_storage(url);
            if (!st.ok()) _exit(2);
            auto counters = open_counter_store("storage", **st);
            if (!counters.ok()) _exit(3);
            for (int i = 0; i < kRows; ++i) {
                const std::string who =
                    "p" + std::to_string(child) + "-" + std::to_string(i) + "@fork.example.org";
                Status s = (*st)->in_transaction([&]() -> Status {
                    // Read first, then write: the pattern that deadlocks on lock upgrade
                    // when a transaction does not take the write lock up front.
                    auto seen = (*st)->find_user_by_email(who);
                    if (!seen) return seen.error();
                    auto r = (*st)->insert_user(who, "h", i);
                    if (!r) return r.error();
                    return (*st)->audit({0, i, *r, "register", "fork", subscriber_actor(*r, "")});
                });
                if (!s.ok()) ++failures;
                if (!(*counters)->hit("fork:shared", 3600, 1000).ok()) ++failures;
            }
            _exit(failures == 0 ? 0 : 1);
        }
        children.push_back(pid);
    }
    for (pid_t pid : children) {
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        EXPECT_EQ(WEXITSTATUS(status), 0) << "child " << pid << " had failures";
    }
    auto st = open_storage(url);
    ASSERT_TRUE(st.ok());
    auto users = (*st)->search_users("@fork.example.org", 10 * kRows);
    ASSERT_TRUE(users.ok());
    EXPECT_EQ(users->size(), static_cast<size_t>(2 * kRows));
    for (int child = 0; child < 2; ++child) {
        for (int i = 0; i < kRows; ++i) {
            const std::string who =
                "p" + std::to_string(child) + "-" + std::to_string(i) + "@fork.example.org";
            EXPECT_TRUE((*st)->find_user_by_email(who)->has_value()) << who;
        }
    }
    EXPECT_EQ((*st)->recent_audit(std::nullopt, 10 * kRows)->size(),
              static_cast<size_t>(2 * kRows));
    auto counters = open_counter_store("storage", **st);
    ASSERT_TRUE(counters.ok());
    EXPECT_EQ(*(*counters)->count("fork:shared", 1000), 2 * kRows);
}

}  // namespace
}  // namespace lkk
