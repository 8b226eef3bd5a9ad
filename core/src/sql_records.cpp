// The SQL backends' queries for the portal's records: users, consents, tokens, offices,
// billing accounts, links, the outbox and the audit log. Every value is a bound parameter.
#include <algorithm>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "lkk/crypto.h"
#include "sql_query.h"
#include "sql_storage.h"

namespace lkk {

namespace {

using db::Connection;
using db::Row;

UserStatus user_status_from(std::string_view s) {
    if (s == "active") return UserStatus::active;
    if (s == "blocked") return UserStatus::blocked;
    if (s == "deleted") return UserStatus::deleted;
    return UserStatus::pending;
}

std::string_view token_kind_name(TokenKind k) {
    return k == TokenKind::reset ? "reset" : "confirm";
}

MailState mail_state_from(std::string_view s) {
    if (s == "sent") return MailState::sent;
    if (s == "failed") return MailState::failed;
    return MailState::pending;
}

using db::find_all;
using db::find_one;
using db::one_row;
using db::scalar;

// How many rows of table have each of values in column, in one scan (the same SQL for
// SQLite and MySQL). The table, column and values are constants of this file, never input.
Result<std::vector<int64_t>> count_each(Connection& c, std::string_view table,
                                        std::string_view column,
                                        std::initializer_list<std::string_view> values) {
    std::string sql = "SELECT ";
    for (std::string_view v : values) {
        if (sql.size() > 7) sql += ", ";
        sql += "count(CASE WHEN " + std::string(column) + " = '" + std::string(v) + "' THEN 1 END)";
    }
    sql += " FROM " + std::string(table);
    std::vector<int64_t> counts(values.size(), 0);
    Status s = c.query(sql, {}, [&](const Row& r) {
        for (size_t i = 0; i < counts.size(); ++i) counts[i] = r.integer(static_cast<int>(i));
    });
    if (!s.ok()) return s;
    return counts;
}

constexpr const char* kUserColumns =
    "SELECT id, email, password_hash, status, created_at, confirmed_at FROM users ";

User read_user(const Row& r) {
    User u;
    u.id = r.integer(0);
    u.email = r.text(1);
    u.password_hash = r.text(2);
    u.status = user_status_from(r.text(3));
    u.created_at = r.integer(4);
    u.confirmed_at = r.nullable(5);
    return u;
}

constexpr const char* kTokenColumns =
    "SELECT id, kind, hash, user_id, created_at, expires_at, used_at, replaced_at FROM tokens ";

Token read_token(const Row& r) {
    Token t;
    t.id = r.integer(0);
    t.kind = r.text(1) == "reset" ? TokenKind::reset : TokenKind::confirm;
    t.hash = r.text(2);
    t.user_id = r.integer(3);
    t.created_at = r.integer(4);
    t.expires_at = r.integer(5);
    t.used_at = r.nullable(6);
    t.replaced_at = r.nullable(7);
    return t;
}

// The office's columns, requisites included, under the alias "o".
constexpr const char* kOfficeColumns =
    "o.code, o.name, o.phones, o.email, o.payee, o.inn, o.kpp, o.bank, o.bic, "
    "o.settlement_account, o.corr_account";

Office read_office(const Row& r, int first) {
    Office o;
    o.code = r.text(first);
    o.name = r.text(first + 1);
    o.phones = r.text(first + 2);
    o.email = r.text(first + 3);
    PaymentRequisites& q = o.requisites;
    q.payee = r.text(first + 4);
    q.inn = r.text(first + 5);
    q.kpp = r.text(first + 6);
    q.bank = r.text(first + 7);
    q.bic = r.text(first + 8);
    q.account = r.text(first + 9);
    q.corr_account = r.text(first + 10);
    return o;
}

constexpr const char* kAccountColumns =
    "b.id, b.office_code, b.account_number, b.surname, b.surname_key, b.last_payment, "
    "b.last_payment_date, b.address, b.balance";

BillingAccount read_account(const Row& r, int first) {
    BillingAccount a;
    a.id = r.integer(first);
    a.office_code = r.text(first + 1);
    a.account_number = r.text(first + 2);
    a.surname = r.text(first + 3);
    a.surname_key = r.text(first + 4);
    a.last_payment = r.integer(first + 5);
    a.last_payment_date = r.text(first + 6);
    a.address = r.text(first + 7);
    a.balance = r.nullable(first + 8);
    return a;
}

// A mail's extra headers as one column: a JSON array of [name, value] pairs (faithful for
// any text; build_message decides what may be sent). NULL or '' for none.
std::string format_mail_headers(const std::vector<std::pair<std::string, std::string>>& headers) {
    if (headers.empty()) return {};
    nlohmann::json a = nlohmann::json::array();
    for (const auto& [name, value] : headers) a.push_back({name, value});
    return a.dump();
}

std::vector<std::pair<std::string, std::string>> parse_mail_headers(const std::string& text) {
    std::vector<std::pair<std::string, std::string>> out;
    if (text.empty()) return out;
    const nlohmann::json a = nlohmann::json::parse(text, nullptr, false);
    if (!a.is_array()) return out;
    for (const auto& h : a) {
        if (h.is_array() && h.size() == 2 && h[0].is_string() && h[1].is_string()) {
            out.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
        }
    }
    return out;
}

// A mail's attachments as one column: a JSON array of {source, file_name, content_type} (the
// content is rendered at sending, never stored). NULL or '' for none.
std::string format_mail_attachments(const std::vector<MailAttachment>& attachments) {
    if (attachments.empty()) return {};
    nlohmann::json a = nlohmann::json::array();
    for (const MailAttachment& m : attachments) {
        a.push_back(
            {{"source", m.source}, {"file_name", m.file_name}, {"content_type", m.content_type}});
    }
    return a.dump();
}

std::vector<MailAttachment> parse_mail_attachments(const std::string& text) {
    std::vector<MailAttachment> out;
    if (text.empty()) return out;
    const nlohmann::json a = nlohmann::json::parse(text, nullptr, false);
    if (!a.is_array()) return out;
    for (const auto& m : a) {
        if (!m.is_object()) continue;
        MailAttachment x;
        x.source = m.value("source", "");
        x.file_name = m.value("file_name", "");
        x.content_type = m.value("content_type", "");
        out.push_back(std::move(x));
    }
    return out;
}

constexpr const char* kMailColumns =
    "id, recipient, subject, body_text, body_html, state, attempts, created_at, "
    "next_attempt_at, sent_at, last_error, expires_at, headers, attachments";

OutboxMail read_mail(const Row& r) {
    OutboxMail m;
    m.id = r.integer(0);
    m.recipient = r.text(1);
    m.subject = r.text(2);
    m.body_text = r.text(3);
    m.body_html = r.text(4);
    m.state = mail_state_from(r.text(5));
    m.attempts = static_cast<int>(r.integer(6));
    m.created_at = r.integer(7);
    m.next_attempt_at = r.integer(8);
    m.sent_at = r.integer(9);
    m.last_error = r.text(10);
    m.expires_at = r.nullable(11);
    m.headers = parse_mail_headers(r.text(12));
    m.attachments = parse_mail_attachments(r.text(13));
    return m;
}

constexpr const char* kAuditColumns =
    "SELECT id, at, user_id, event, detail, ip, actor_kind, actor_user_id, actor_os_user, "
    "actor_host FROM audit_log ";

AuditEvent read_audit(const Row& r) {
    AuditEvent e;
    e.id = r.integer(0);
    e.at = r.integer(1);
    e.user_id = r.nullable(2);
    e.event = r.text(3);
    e.detail = r.text(4);
    e.actor.ip = r.text(5);
    e.actor.kind = actor_kind_from(r.text(6));
    e.actor.user_id = r.nullable(7);
    e.actor.os_user = r.text(8);
    e.actor.host = r.text(9);
    return e;
}

// LIKE treats % and _ as wildcards: a search for "a_b" must find only "a_b". '!' is the
// escape character because a backslash means different things to SQLite and MySQL.
std::string like_contains(std::string_view text) {
    std::string out = "%";
    for (char ch : text) {
        if (ch == '%' || ch == '_' || ch == '!') out += '!';
        out += ch;
    }
    out += '%';
    return out;
}
}  // namespace

// ---- users ----

Result<int64_t> SqlStorage::insert_user(const std::string& email, const std::string& password_hash,
                                        int64_t now) {
    return with_connection([&](Connection& c) {
        return c.insert(
            "INSERT INTO users (email, password_hash, status, created_at) "
            "VALUES (?, ?, 'pending', ?)",
            {email, password_hash, now});
    });
}

Result<std::optional<User>> SqlStorage::find_user_by_email(const std::string& email) {
    return with_connection([&](Connection& c) {
        return find_one<User>(c, std::string(kUserColumns) + "WHERE email = ?", {email}, read_user);
    });
}

Result<std::optional<User>> SqlStorage::find_user(int64_t id) {
    return cache_.through(&db::ReadCache::Thread::users, id, [&] { return fetch_user(id); });
}

Result<std::optional<User>> SqlStorage::fetch_user(int64_t id) {
    return with_connection([&](Connection& c) {
        return find_one<User>(c, std::string(kUserColumns) + "WHERE id = ?", {id}, read_user);
    });
}

Result<std::vector<User>> SqlStorage::search_users(const std::string& text, int limit) {
    return with_connection([&](Connection& c) {
        return find_all<User>(
            c, std::string(kUserColumns) + "WHERE email LIKE ? ESCAPE '!' ORDER BY id LIMIT ?",
            {like_contains(text), int64_t{std::max(limit, 0)}}, read_user);
    });
}

Result<UserCounts> SqlStorage::count_users() {
    return with_connection([](Connection& c) -> Result<UserCounts> {
        auto n = count_each(c, "users", "status", {"pending", "active", "blocked", "deleted"});
        if (!n) return n.error();
        return UserCounts{(*n)[0], (*n)[1], (*n)[2], (*n)[3]};
    });
}

// Confirmation activates a pending cabinet; it never lifts a block.
Status SqlStorage::set_user_confirmed(int64_t user_id, int64_t now) {
    return with_connection([&](Connection& c) {
        return one_row(c.exec("UPDATE users SET confirmed_at = coalesce(confirmed_at, ?), "
                              "status = CASE status WHEN 'pending' THEN 'active' ELSE status END "
                              "WHERE id = ?",
                              {now, user_id}),
                       "no such user");
    });
}

Status SqlStorage::set_user_status(int64_t user_id, UserStatus status) {
    return with_connection([&](Connection& c) {
        return one_row(
            c.exec("UPDATE users SET status = ? WHERE id = ?", {user_status_name(status), user_id}),
            "no such user");
    });
}

Status SqlStorage::set_password_hash(int64_t user_id, const std::string& hash) {
    return with_connection([&](Connection& c) {
        return one_row(c.exec("UPDATE users SET password_hash = ? WHERE id = ?", {hash, user_id}),
                       "no such user");
    });
}

Result<bool> SqlStorage::set_pending_password_hash(int64_t user_id, const std::string& hash) {
    return with_connection([&](Connection& c) -> Result<bool> {
        auto r = c.exec("UPDATE users SET password_hash = ? WHERE id = ? AND status = 'pending'",
                        {hash, user_id});
        if (!r) return r.error();
        return *r == 1;
    });
}

// "deleted-<id>" stays unique and has no '@', so it can never match a real address at
// login or registration; the audit rows keep pointing at the anonymous id.
Status SqlStorage::erase_user(int64_t user_id) {
    return in_transaction([&] {
        return with_connection([&](Connection& c) -> Status {
            const std::string anonymous = "deleted-" + std::to_string(user_id);
            Status s = one_row(c.exec("UPDATE users SET email = ?, "
                                      "password_hash = '', status = 'deleted' WHERE id = ?",
                                      {anonymous, user_id}),
                               "no such user");
            if (!s.ok()) return s;
            for (const char* sql :
                 {"UPDATE consents SET ip = '', user_agent = '' WHERE user_id = ?",
                  "DELETE FROM links WHERE user_id = ?", "DELETE FROM tokens WHERE user_id = ?",
                  "DELETE FROM sessions WHERE user_id = ?",
                  "DELETE FROM notification_preferences WHERE user_id = ?",
                  "DELETE FROM unsubscribe_tokens WHERE user_id = ?"}) {
                auto r = c.exec(sql, {user_id});
                if (!r) return r.error();
            }
            return Status::Ok();
        });
    });
}

Status SqlStorage::insert_consent(const Consent& consent) {
    return with_connection([&](Connection& c) -> Status {
        auto r = c.exec(
            "INSERT INTO consents (user_id, document_version, accepted_at, ip, user_agent) "
            "VALUES (?, ?, ?, ?, ?)",
            {consent.user_id, consent.document_version, consent.accepted_at, consent.ip,
             consent.user_agent});
        return r ? Status::Ok() : r.error();
    });
}

Result<std::vector<Consent>> SqlStorage::consents_of(int64_t user_id) {
    return with_connection([&](Connection& c) {
        return find_all<Consent>(c,
                                 "SELECT user_id, document_version, accepted_at, ip, user_agent "
                                 "FROM consents WHERE user_id = ? ORDER BY id",
                                 {user_id}, [](const Row& r) {
                                     Consent k;
                                     k.user_id = r.integer(0);
                                     k.document_version = r.text(1);
                                     k.accepted_at = r.integer(2);
                                     k.ip = r.text(3);
                                     k.user_agent = r.text(4);
                                     return k;
                                 });
    });
}

// ---- tokens ----

Status SqlStorage::insert_token(const Token& token) {
    return with_connection([&](Connection& c) -> Status {
        auto r = c.exec(
            "INSERT INTO tokens (kind, hash, user_id, created_at, expires_at, used_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            {token_kind_name(token.kind), token.hash, token.user_id, token.created_at,
             token.expires_at, db::nullable(token.used_at)});
        return r ? Status::Ok() : r.error();
    });
}

Result<std::optional<Token>> SqlStorage::find_token(TokenKind kind, const std::string& hash) {
    return with_connection([&](Connection& c) {
        return find_one<Token>(c, std::string(kTokenColumns) + "WHERE hash = ? AND kind = ?",
                               {hash, token_kind_name(kind)}, read_token);
    });
}

// The "used_at IS NULL" guard makes the check and the mark one atomic step: of two racing
// requests with the same token exactly one changes the row.
Status SqlStorage::mark_token_used(int64_t token_id, int64_t now) {
    return with_connection([&](Connection& c) -> Status {
        auto r = c.exec("UPDATE tokens SET used_at = ? WHERE id = ? AND used_at IS NULL",
                        {now, token_id});
        if (!r) return r.error();
        if (*r == 1) return Status::Ok();
        auto exists = scalar(c, "SELECT count(*) FROM tokens WHERE id = ?", {token_id});
        if (!exists) return exists.error();
        return *exists == 0 ? Status::NotFound("no such token")
                            : Status::Conflict("the token was already used");
    });
}

Status SqlStorage::invalidate_tokens(int64_t user_id, TokenKind kind, int64_t now) {
    return with_connection([&](Connection& c) -> Status {
        auto r = c.exec(
            "UPDATE tokens SET used_at = ? WHERE user_id = ? AND kind = ? AND used_at IS NULL",
            {now, user_id, token_kind_name(kind)});
        return r ? Status::Ok() : r.error();
    });
}

Status SqlStorage::replace_tokens(int64_t user_id, TokenKind kind, int64_t now) {
    return with_connection([&](Connection& c) -> Status {
        auto r = c.exec(
            "UPDATE tokens SET replaced_at = ? WHERE user_id = ? AND kind = ? "
            "AND replaced_at IS NULL",
            {now, user_id, token_kind_name(kind)});
        return r ? Status::Ok() : r.error();
    });
}

// ---- offices ----

Result<std::vector<Office>> SqlStorage::list_offices() {
    return with_connection([&](Connection& c) {
        return find_all<Office>(
            c, std::string("SELECT ") + kOfficeColumns + " FROM offices o ORDER BY o.code", {},
            [](const Row& r) { return read_office(r, 0); });
    });
}

Result<std::optional<Office>> SqlStorage::find_office(const std::string& code) {
    return with_connection([&](Connection& c) {
        return find_one<Office>(
            c, std::string("SELECT ") + kOfficeColumns + " FROM offices o WHERE o.code = ?", {code},
            [](const Row& r) { return read_office(r, 0); });
    });
}

Status SqlStorage::insert_office(const Office& o) {
    const PaymentRequisites& q = o.requisites;
    return with_connection([&](Connection& c) -> Status {
        auto r = c.exec(
            "INSERT INTO offices (code, name, phones, email, payee, inn, kpp, bank, bic, "
            "settlement_account, corr_account) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {o.code, o.name, o.phones, o.email, q.payee, q.inn, q.kpp, q.bank, q.bic, q.account,
             q.corr_account});
        return r ? Status::Ok() : r.error();
    });
}

Status SqlStorage::update_office(const Office& o) {
    const PaymentRequisites& q = o.requisites;
    return with_connection([&](Connection& c) {
        return one_row(
            c.exec("UPDATE offices SET name = ?, phones = ?, email = ?, payee = ?, inn = ?, "
                   "kpp = ?, bank = ?, bic = ?, settlement_account = ?, corr_account = ? "
                   "WHERE code = ?",
                   {o.name, o.phones, o.email, q.payee, q.inn, q.kpp, q.bank, q.bic, q.account,
                    q.corr_account, o.code}),
            "no such office");
    });
}

// Removing an office takes its billing accounts (and their meters) with it; while cabinets are
// linked to them it is refused unless forced, and then the links go too.
Status SqlStorage::remove_office(const std::string& code, bool force) {
    return in_transaction([&] {
        return with_connection([&](Connection& c) -> Status {
            auto exists = scalar(c, "SELECT count(*) FROM offices WHERE code = ?", {code});
            if (!exists) return exists.error();
            if (*exists == 0) return Status::NotFound("no such office");
            auto linked = scalar(c,
                                 "SELECT count(*) FROM links l JOIN billing_accounts b "
                                 "ON b.id = l.billing_account_id WHERE b.office_code = ?",
                                 {code});
            if (!linked) return linked.error();
            if (*linked > 0 && !force) {
                return Status::Conflict("the office has " + std::to_string(*linked) +
                                        " linked accounts");
            }
            for (const char* sql : {"DELETE FROM links WHERE billing_account_id IN "
                                    "(SELECT id FROM billing_accounts WHERE office_code = ?)",
                                    "DELETE FROM statements WHERE billing_account_id IN "
                                    "(SELECT id FROM billing_accounts WHERE office_code = ?)",
                                    "DELETE FROM payments WHERE office_code = ?",
                                    "DELETE FROM readings WHERE meter_id IN (SELECT m.id FROM "
                                    "meters m JOIN billing_accounts b ON "
                                    "b.id = m.billing_account_id WHERE b.office_code = ?)",
                                    "DELETE FROM meters WHERE billing_account_id IN "
                                    "(SELECT id FROM billing_accounts WHERE office_code = ?)",
                                    "DELETE FROM billing_accounts WHERE office_code = ?",
                                    "DELETE FROM offices WHERE code = ?"}) {
                auto r = c.exec(sql, {code});
                if (!r) return r.error();
            }
            return Status::Ok();
        });
    });
}

Result<int64_t> SqlStorage::count_offices() {
    return with_connection(
        [](Connection& c) { return scalar(c, "SELECT count(*) FROM offices", {}); });
}

// ---- billing accounts ----

// The import runs this once per CSV line inside one transaction; the row id survives an
// update so existing links keep pointing at it.
Status SqlStorage::upsert_billing_account(const BillingAccount& a) {
    return with_connection([&](Connection& c) -> Status {
        auto r = c.exec(
            "INSERT INTO billing_accounts (office_code, account_number, surname, surname_key, "
            "last_payment, last_payment_date, address, balance) VALUES (?, ?, ?, ?, ?, ?, ?, ?) " +
                std::string(dialect_.upsert_billing),
            {a.office_code, a.account_number, a.surname, a.surname_key, a.last_payment,
             a.last_payment_date, a.address, db::nullable(a.balance)});
        return r ? Status::Ok() : r.error();
    });
}

Result<std::optional<BillingAccount>> SqlStorage::find_billing_account(
    const std::string& office_code, const std::string& account_number) {
    return with_connection([&](Connection& c) {
        return find_one<BillingAccount>(
            c,
            std::string("SELECT ") + kAccountColumns +
                " FROM billing_accounts b WHERE b.office_code = ? AND b.account_number = ?",
            {office_code, account_number}, [](const Row& r) { return read_account(r, 0); });
    });
}

Result<int64_t> SqlStorage::count_billing_accounts() {
    return with_connection(
        [](Connection& c) { return scalar(c, "SELECT count(*) FROM billing_accounts", {}); });
}

// ---- links ----

Result<int64_t> SqlStorage::insert_link(int64_t user_id, int64_t billing_account_id, int64_t now) {
    return with_connection([&](Connection& c) {
        return c.insert(
            "INSERT INTO links (user_id, billing_account_id, linked_at) VALUES (?, ?, ?)",
            {user_id, billing_account_id, now});
    });
}

Result<std::vector<LinkedAccount>> SqlStorage::list_links(int64_t user_id) {
    return cache_.through(&db::ReadCache::Thread::links, user_id,
                          [&] { return fetch_links(user_id); });
}

Result<std::vector<LinkedAccount>> SqlStorage::fetch_links(int64_t user_id) {
    return with_connection([&](Connection& c) {
        return find_all<LinkedAccount>(c,
                                       std::string("SELECT l.id, l.linked_at, ") + kAccountColumns +
                                           ", " + kOfficeColumns +
                                           " FROM links l "
                                           "JOIN billing_accounts b ON b.id = l.billing_account_id "
                                           "JOIN offices o ON o.code = b.office_code "
                                           "WHERE l.user_id = ? ORDER BY l.linked_at, l.id",
                                       {user_id}, [](const Row& r) {
                                           LinkedAccount la;
                                           la.link_id = r.integer(0);
                                           la.linked_at = r.integer(1);
                                           la.account = read_account(r, 2);
                                           la.office = read_office(r, 11);
                                           return la;
                                       });
    });
}

// The user id is part of the key: a cabinet can never unlink another cabinet's link, and
// cannot learn that it exists (both answer not_found).
Status SqlStorage::delete_link(int64_t user_id, int64_t link_id) {
    return with_connection([&](Connection& c) {
        return one_row(c.exec("DELETE FROM links WHERE id = ? AND user_id = ?", {link_id, user_id}),
                       "no such link");
    });
}

Result<int64_t> SqlStorage::count_links() {
    return with_connection(
        [](Connection& c) { return scalar(c, "SELECT count(*) FROM links", {}); });
}

// ---- outbox ----

Result<int64_t> SqlStorage::enqueue_mail(const OutboxMail& m) {
    return with_connection([&](Connection& c) {
        return c.insert(
            "INSERT INTO outbox (recipient, subject, body_text, body_html, state, "
            "attempts, created_at, next_attempt_at, last_error, expires_at, headers, "
            "attachments) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, '', ?, ?, ?)",
            {m.recipient, m.subject, m.body_text, m.body_html, m.created_at, m.next_attempt_at,
             m.expires_at ? db::Param(*m.expires_at) : db::Param(nullptr),
             format_mail_headers(m.headers), format_mail_attachments(m.attachments)});
    });
}

// Exactly once across threads, processes, hosts and Galera nodes: the claimer marks each due
// row with a token of its own by a conditional UPDATE (autocommit) that matches only a row
// nobody holds, then reads back the rows holding its token. Of two claimers of one row, the
// second matches nothing (one server: it waits for the first's row lock, then sees the
// lease; Galera: certification fails it, or its node's autocommit retry sees the lease). Reading
// back by token also finds what a claim whose answer was lost did after all.
Result<std::vector<OutboxMail>> SqlStorage::claim_due_mails(int64_t now, int limit,
                                                            int64_t lease_seconds) {
    const std::string token = crypto::random_token();
    Status s = with_connection([&](Connection& c) -> Status {
        // Other claimers may take every row we picked: then pick again (a few times).
        for (int round = 0; round < 3; ++round) {
            auto due = find_all<int64_t>(
                c,
                "SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? AND "
                "(lease_until IS NULL OR lease_until <= ?) ORDER BY next_attempt_at, id LIMIT ?",
                {now, now, int64_t{std::max(limit, 0)}}, [](const Row& r) { return r.integer(0); });
            if (!due) return due.error();
            int64_t taken = 0;
            for (const int64_t id : *due) {
                auto leased = c.exec(
                    "UPDATE outbox SET lease_until = ?, claim_token = ? WHERE id = ? "
                    "AND state = 'pending' AND (lease_until IS NULL OR lease_until <= ?)",
                    {now + lease_seconds, token, id, now});
                if (!leased && c.aborted) {  // another node claimed it at the same moment
                    c.aborted = false;
                    continue;
                }
                if (!leased) return leased.error();
                taken += *leased;
            }
            if (taken > 0 || due->empty()) break;
        }
        return Status::Ok();
    });
    auto mine = with_connection([&](Connection& c) {
        return find_all<OutboxMail>(c,
                                    std::string("SELECT ") + kMailColumns +
                                        " FROM outbox WHERE claim_token = ? AND state = 'pending' "
                                        "ORDER BY id",
                                    {token}, read_mail);
    });
    if (!s.ok() && (!mine || mine->empty())) return s;
    return mine;
}

Status SqlStorage::mark_mail_sent(int64_t id, int64_t now) {
    return with_connection([&](Connection& c) {
        return one_row(c.exec("UPDATE outbox SET state = 'sent', sent_at = ?, lease_until = NULL, "
                              "last_error = '' WHERE id = ?",
                              {now, id}),
                       "no such mail");
    });
}

Status SqlStorage::mark_mail_failed(int64_t id, const std::string& error, int64_t next_attempt_at,
                                    bool give_up) {
    return with_connection([&](Connection& c) {
        return one_row(
            c.exec("UPDATE outbox SET attempts = attempts + 1, last_error = ?, "
                   "next_attempt_at = ?, lease_until = NULL, state = ? WHERE id = ?",
                   {error, next_attempt_at,
                    mail_state_name(give_up ? MailState::failed : MailState::pending), id}),
            "no such mail");
    });
}

Status SqlStorage::expedite_waiting_mails(int64_t now) {
    return with_connection([&](Connection& c) -> Status {
        auto r = c.exec(
            "UPDATE outbox SET next_attempt_at = ? WHERE state = 'pending' AND attempts > 0 "
            "AND next_attempt_at > ? AND (lease_until IS NULL OR lease_until <= ?)",
            {now, now, now});
        return r ? Status::Ok() : r.error();
    });
}

Result<std::vector<OutboxMail>> SqlStorage::list_outbox(int limit) {
    return with_connection([&](Connection& c) {
        return find_all<OutboxMail>(
            c, std::string("SELECT ") + kMailColumns + " FROM outbox ORDER BY id DESC LIMIT ?",
            {int64_t{std::max(limit, 0)}}, read_mail);
    });
}

Result<std::vector<OutboxMail>> SqlStorage::list_outbox_in_state(MailState state, int limit) {
    return with_connection([&](Connection& c) {
        return find_all<OutboxMail>(c,
                                    std::string("SELECT ") + kMailColumns +
                                        " FROM outbox WHERE state = ? ORDER BY id DESC LIMIT ?",
                                    {mail_state_name(state), int64_t{std::max(limit, 0)}},
                                    read_mail);
    });
}

Result<MailCounts> SqlStorage::count_outbox() {
    return with_connection([](Connection& c) -> Result<MailCounts> {
        auto n = count_each(c, "outbox", "state", {"pending", "sent", "failed"});
        if (!n) return n.error();
        return MailCounts{(*n)[0], (*n)[1], (*n)[2]};
    });
}

Result<OutboxBacklog> SqlStorage::outbox_backlog() {
    return with_connection([](Connection& c) -> Result<OutboxBacklog> {
        OutboxBacklog b;
        Status s = c.query(
            "SELECT count(*), coalesce(min(created_at), 0) FROM outbox WHERE state = 'pending'", {},
            [&](const Row& r) {
                b.pending = r.integer(0);
                b.oldest_created_at = r.integer(1);
            });
        if (!s.ok()) return s;
        return b;
    });
}

// A sent mail is never sent again by a retry (conflict); a failed or pending one becomes
// due now.
// Support staff asked for it: a mail without a link of its own is kept for a week from now
// (else a mail older than [mail] max_age would be given up at once again); a mail whose link
// has expired stays expired (lkk-admin users resend makes a new link).
constexpr int64_t kRetriedMailKeptSeconds = 7 * 24 * 3600;

Status SqlStorage::retry_mail(int64_t id, int64_t now) {
    return with_connection([&](Connection& c) -> Status {
        auto r = c.exec(
            "UPDATE outbox SET state = 'pending', next_attempt_at = ?, lease_until = NULL, "
            "expires_at = coalesce(expires_at, ?) WHERE id = ? AND state <> 'sent'",
            {now, now + kRetriedMailKeptSeconds, id});
        if (!r) return r.error();
        if (*r == 1) return Status::Ok();
        auto exists = scalar(c, "SELECT count(*) FROM outbox WHERE id = ?", {id});
        if (!exists) return exists.error();
        return *exists == 0 ? Status::NotFound("no such mail")
                            : Status::Conflict("the mail was already sent");
    });
}

// ---- audit log ----

Status SqlStorage::audit(const AuditEvent& e) {
    return with_connection([&](Connection& c) -> Status {
        auto r = c.exec(
            "INSERT INTO audit_log (at, user_id, event, detail, ip, actor_kind, actor_user_id, "
            "actor_os_user, actor_host) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {e.at, db::nullable(e.user_id), e.event, e.detail, e.actor.ip,
             actor_kind_name(e.actor.kind), db::nullable(e.actor.user_id), e.actor.os_user,
             e.actor.host});
        return r ? Status::Ok() : r.error();
    });
}

Result<std::vector<AuditEvent>> SqlStorage::recent_audit(std::optional<int64_t> user_id,
                                                         int limit) {
    return with_connection([&](Connection& c) {
        const int64_t n = std::max(limit, 0);
        if (user_id) {
            return find_all<AuditEvent>(
                c, std::string(kAuditColumns) + "WHERE user_id = ? ORDER BY id DESC LIMIT ?",
                {*user_id, n}, read_audit);
        }
        return find_all<AuditEvent>(c, std::string(kAuditColumns) + "ORDER BY id DESC LIMIT ?", {n},
                                    read_audit);
    });
}

// Keyset pages by id: each page is one short statement that starts below the last id seen,
// so the log is never held in memory (Connector/C++ buffers a whole result set) and neither
// backend keeps a cursor open while the caller prints. With a user, the (user_id, id) index
// walks only that cabinet's rows.
Status SqlStorage::each_audit(const AuditFilter& filter,
                              const std::function<Status(const AuditEvent&)>& on_row) {
    constexpr int64_t kPage = 500;
    const int64_t since = filter.since.value_or(std::numeric_limits<int64_t>::min());
    const std::string_view event = filter.event;
    int64_t below = std::numeric_limits<int64_t>::max();
    for (;;) {
        auto page = with_connection([&](Connection& c) {
            if (filter.user_id) {
                return find_all<AuditEvent>(
                    c,
                    std::string(kAuditColumns) +
                        "WHERE user_id = ? AND id < ? AND at >= ? AND (? = '' OR event = ?) "
                        "ORDER BY id DESC LIMIT ?",
                    {*filter.user_id, below, since, event, event, kPage}, read_audit);
            }
            return find_all<AuditEvent>(c,
                                        std::string(kAuditColumns) +
                                            "WHERE id < ? AND at >= ? AND (? = '' OR event = ?) "
                                            "ORDER BY id DESC LIMIT ?",
                                        {below, since, event, event, kPage}, read_audit);
        });
        if (!page) return page.error();
        for (const AuditEvent& e : *page) {
            if (Status s = on_row(e); !s.ok()) return s;
        }
        if (static_cast<int64_t>(page->size()) < kPage) return Status::Ok();
        below = page->back().id;
    }
}

}  // namespace lkk
