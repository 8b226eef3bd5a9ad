// The storage interface: everything the portal keeps in its database.
//
// One Storage object is shared by all threads of a process; each implementation keeps one
// connection per thread, opened lazily and reopened after a failure, so calls from different
// nginx thread-pool threads never share a connection. Times are Unix seconds (UTC).
// Amounts are kopecks in int64. E-mails are the canonical form from rules::normalize_email.
// Methods never throw: backend errors come back as Status (unavailable when the server is
// down, conflict on a unique key, not_found when asked for a missing row).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lkk/audit.h"
#include "lkk/requisites.h"
#include "lkk/status.h"

namespace lkk {

enum class UserStatus { pending, active, blocked, deleted };
std::string_view user_status_name(UserStatus s);

struct User {
    int64_t id = 0;
    std::string email;          // canonical; empty after users delete
    std::string password_hash;  // argon2id encoded string
    UserStatus status = UserStatus::pending;
    int64_t created_at = 0;
    std::optional<int64_t> confirmed_at;
};

struct Consent {
    int64_t user_id = 0;
    std::string document_version;
    int64_t accepted_at = 0;
    std::string ip;
    std::string user_agent;
};

enum class TokenKind { confirm, reset };

// Only the SHA-256 of a token is stored (hex); the token itself exists only in the mail.
struct Token {
    int64_t id = 0;
    TokenKind kind = TokenKind::confirm;
    std::string hash;
    int64_t user_id = 0;
    int64_t created_at = 0;
    int64_t expires_at = 0;
    std::optional<int64_t> used_at;
    // A newer registration of the still-pending e-mail replaced this link (SPEC 4).
    std::optional<int64_t> replaced_at;
};

struct Office {
    std::string code;
    std::string name;
    std::string phones;  // as shown to people, e.g. "+7 3652 00-00-00, +7 3652 00-00-01"
    std::string email;
    // Whom subscribers pay (SPEC 10): empty, or complete and valid (requisites::check).
    PaymentRequisites requisites{};
};

struct BillingAccount {
    int64_t id = 0;
    std::string office_code;
    std::string account_number;     // normalised: rules::normalize_account_number
    std::string surname;            // display form as imported
    std::string surname_key;        // rules::normalize_surname(surname)
    int64_t last_payment = 0;       // kopecks
    std::string last_payment_date;  // "YYYY-MM-DD" or empty when never paid
    std::string address;
    std::optional<int64_t> balance;  // kopecks, when billing provides it
};

struct LinkedAccount {
    int64_t link_id = 0;
    int64_t linked_at = 0;
    BillingAccount account;
    Office office;
};

enum class MailState { pending, sent, failed };

// A file attached to a mail. The outbox keeps only what the file is and where it comes from;
// its content is rendered when the mail is sent (deliver_outbox's AttachmentRenderer), so the
// database holds no blobs and the file shows the data as they are at sending.
struct MailAttachment {
    std::string source;        // what to render: "bill/<user>/<link>/<YYYY-MM>" (lkk/bills.h)
    std::string file_name;     // ASCII letters, digits, '-', '_' and '.': "bill-100200-2026-05.pdf"
    std::string content_type;  // "application/pdf"
    std::string content;       // filled when the mail is sent; never stored
};
std::string_view mail_state_name(MailState s);

struct OutboxMail {
    int64_t id = 0;
    std::string recipient;
    std::string subject;
    std::string body_text;
    std::string body_html;  // may be empty
    MailState state = MailState::pending;
    int attempts = 0;
    int64_t created_at = 0;
    int64_t next_attempt_at = 0;
    int64_t sent_at = 0;
    std::string last_error;
    // When the mail stops being useful: its link expires (confirmation, reset). Unset: the
    // delivery policy's max_age after created_at.
    std::optional<int64_t> expires_at;
    // Header fields of this mail beyond the ones every mail has (e.g. List-Unsubscribe,
    // RFC 8058), in order. build_message refuses a name that is not a plain field name, a
    // value with CR/LF, and the names it writes itself.
    std::vector<std::pair<std::string, std::string>> headers;
    // Files attached to it (multipart/mixed), rendered at sending; in order.
    std::vector<MailAttachment> attachments;
};

// Written only through record_audit (audit.h).
struct AuditEvent {
    int64_t id = 0;
    int64_t at = 0;
    std::optional<int64_t> user_id;  // the cabinet the event is about
    std::string event;   // "register", "confirm", "login_ok", "login_fail", "link_ok", ...
    std::string detail;  // free text, no secrets
    Actor actor;         // who did it (the subscriber's IP is actor.ip)
};

// Which audit rows lkk-admin audit reads; an unset field matches every row.
struct AuditFilter {
    std::optional<int64_t> since;    // at >= since
    std::optional<int64_t> user_id;  // the cabinet the rows are about
    std::string event;               // this event name only; empty: any
};

// Counts for lkk-admin stats, each from one COUNT query.
struct UserCounts {
    int64_t pending = 0;
    int64_t active = 0;
    int64_t blocked = 0;
    int64_t deleted = 0;
    int64_t total() const { return pending + active + blocked + deleted; }
};

struct MailCounts {
    int64_t pending = 0;
    int64_t sent = 0;
    int64_t failed = 0;
};

// The mails still to be sent, for lkk_outbox_pending and lkk_outbox_oldest_age_seconds.
struct OutboxBacklog {
    int64_t pending = 0;
    int64_t oldest_created_at = 0;  // of the oldest pending mail; 0 when none
};

class Storage {
  public:
    virtual ~Storage() = default;

    // Runs body inside one transaction on this thread's connection: commits when body
    // returns ok, rolls back on an error Status (or an exception, which is rethrown).
    // Nested calls join the outer transaction.
    virtual Status in_transaction(const std::function<Status()>& body) = 0;
    virtual Status ping() = 0;
    // The number of the last migration applied, and the number this build expects.
    virtual Result<int> schema_version() = 0;
    virtual int expected_schema_version() const = 0;
    // Applies pending migrations (SQLite does it on open; MySQL through lkk-admin migrate).
    virtual Status migrate() = 0;

    // The read cache (README "Read cache"): find_user, list_links and the MoneyStore's
    // latest_statement answers kept per thread for at most max_age_seconds (0: nothing kept)
    // under the generation of use_read_cache. on_change runs, in the writing thread, after
    // every unit of work (a transaction, or one call outside any) that wrote a table those
    // answers come from. The default keeps nothing and announces nothing.
    virtual void set_read_cache(int64_t /*max_age_seconds*/, std::function<void()> /*on_change*/) {}
    // This thread's cache generation for the request it serves: read with the session in the
    // same round trip; "" (outside requests with a session) reads around the cache.
    virtual void use_read_cache(const std::string& /*generation*/) {}

    // Users. insert_user answers conflict when the e-mail is taken.
    virtual Result<int64_t> insert_user(const std::string& email, const std::string& password_hash,
                                        int64_t now) = 0;
    virtual Result<std::optional<User>> find_user_by_email(const std::string& email) = 0;
    virtual Result<std::optional<User>> find_user(int64_t id) = 0;
    virtual Result<std::vector<User>> search_users(const std::string& text, int limit) = 0;
    virtual Result<UserCounts> count_users() = 0;
    virtual Status set_user_confirmed(int64_t user_id, int64_t now) = 0;
    virtual Status set_user_status(int64_t user_id, UserStatus status) = 0;
    virtual Status set_password_hash(int64_t user_id, const std::string& hash) = 0;
    // Sets the hash only while the cabinet is still pending, in one statement, so a
    // registration racing the confirmation can never change an active cabinet's password.
    // Answers false when the cabinet is no longer pending (or gone).
    virtual Result<bool> set_pending_password_hash(int64_t user_id, const std::string& hash) = 0;
    // users delete: erases e-mail, hash, consent details and links; keeps the row id so the
    // audit trail stays (anonymised).
    virtual Status erase_user(int64_t user_id) = 0;
    virtual Status insert_consent(const Consent& consent) = 0;
    virtual Result<std::vector<Consent>> consents_of(int64_t user_id) = 0;

    // Tokens.
    virtual Status insert_token(const Token& token) = 0;
    virtual Result<std::optional<Token>> find_token(TokenKind kind, const std::string& hash) = 0;
    // Answers conflict when the token was already used (so two racing POSTs cannot both win).
    virtual Status mark_token_used(int64_t token_id, int64_t now) = 0;
    // Marks every unused token of this kind of the user as used (e.g. after a password reset).
    virtual Status invalidate_tokens(int64_t user_id, TokenKind kind, int64_t now) = 0;
    // Marks every token of this kind of the user as replaced by a newer one: it no longer
    // works, and following it says so.
    virtual Status replace_tokens(int64_t user_id, TokenKind kind, int64_t now) = 0;

    // Offices.
    virtual Result<std::vector<Office>> list_offices() = 0;
    virtual Result<std::optional<Office>> find_office(const std::string& code) = 0;
    // Both write every field, the requisites included (checked by the caller).
    virtual Status insert_office(const Office& office) = 0;  // conflict when the code exists
    virtual Status update_office(const Office& office) = 0;  // not_found when missing
    // Refuses (conflict) while accounts of the office are linked, unless force. Takes the
    // office's billing accounts with their meters, statements and payments along.
    virtual Status remove_office(const std::string& code, bool force) = 0;
    virtual Result<int64_t> count_offices() = 0;

    // Billing accounts, keyed by office code + normalised account number.
    virtual Status upsert_billing_account(const BillingAccount& account) = 0;
    // The billing import hands over a few hundred accounts at a time, inside its transaction.
    // A backend whose every statement is a network round trip (MySQL) overrides this with
    // multi-row statements; the default upserts one by one. Stops at the first failure.
    virtual Status upsert_billing_accounts(const std::vector<BillingAccount>& accounts) {
        for (const auto& account : accounts) {
            if (Status s = upsert_billing_account(account); !s.ok()) return s;
        }
        return Status::Ok();
    }
    virtual Result<std::optional<BillingAccount>> find_billing_account(
        const std::string& office_code, const std::string& account_number) = 0;
    virtual Result<int64_t> count_billing_accounts() = 0;

    // Links between cabinets and billing accounts. insert_link answers conflict when the
    // account is already linked to this user.
    virtual Result<int64_t> insert_link(int64_t user_id, int64_t billing_account_id,
                                        int64_t now) = 0;
    virtual Result<std::vector<LinkedAccount>> list_links(int64_t user_id) = 0;
    // Answers not_found when the link does not exist or belongs to someone else.
    virtual Status delete_link(int64_t user_id, int64_t link_id) = 0;
    virtual Result<int64_t> count_links() = 0;

    // Outbox. Mails are enqueued in the same transaction as the change that caused them.
    virtual Result<int64_t> enqueue_mail(const OutboxMail& mail) = 0;
    // Claims up to limit due pending mails for lease_seconds: claimed rows are invisible to
    // other claimers (other threads, other nginx hosts) until the lease ends, so a mail is
    // sent once even when several hosts run the delivery timer.
    virtual Result<std::vector<OutboxMail>> claim_due_mails(int64_t now, int limit,
                                                            int64_t lease_seconds) = 0;
    virtual Status mark_mail_sent(int64_t id, int64_t now) = 0;
    // Records the error and schedules the next attempt; after max attempts state = failed.
    virtual Status mark_mail_failed(int64_t id, const std::string& error, int64_t next_attempt_at,
                                    bool give_up) = 0;
    // The SMTP server answers again: every pending mail that failed before and waits for its
    // back-off becomes due at `now`, except the claimed ones (still leased at now).
    virtual Status expedite_waiting_mails(int64_t now) = 0;
    virtual Result<std::vector<OutboxMail>> list_outbox(int limit) = 0;
    // The newest mails in one state.
    virtual Result<std::vector<OutboxMail>> list_outbox_in_state(MailState state, int limit) = 0;
    virtual Result<MailCounts> count_outbox() = 0;
    // One query on the outbox_due index, run by the module's timer for the metrics.
    virtual Result<OutboxBacklog> outbox_backlog() = 0;
    virtual Status retry_mail(int64_t id, int64_t now) = 0;  // back to pending, due now

    // Audit log.
    virtual Status audit(const AuditEvent& event) = 0;
    virtual Result<std::vector<AuditEvent>> recent_audit(std::optional<int64_t> user_id,
                                                         int limit) = 0;
    // Hands every row matching filter to on_row, newest first (by id, the order of writing).
    // Reads a page of a few hundred rows at a time, so memory stays flat however long the
    // log is, and no statement stays open while on_row runs. An error from on_row stops the
    // reading and comes back.
    virtual Status each_audit(const AuditFilter& filter,
                              const std::function<Status(const AuditEvent&)>& on_row) = 0;
};

// Opens "sqlite:PATH" (schema created/upgraded on open) or "mysql://user:pass@host:port/db".
Result<std::unique_ptr<Storage>> open_storage(const std::string& url);

}  // namespace lkk
