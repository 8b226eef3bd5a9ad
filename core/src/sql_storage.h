// The SQL implementation of Storage, SessionStore and CounterStore in one object, so a
// deployment can keep everything in one database ([sessions] url = "storage"). Written once
// for SQLite and MySQL/MariaDB: the queries use the SQL both understand, and the few places
// where they differ are named in SqlDialect. Private to core/src: others get a backend
// through open_storage and find the session/counter side with dynamic_cast.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "lkk/meter_store.h"
#include "lkk/money_store.h"
#include "lkk/notification_store.h"
#include "lkk/session_store.h"
#include "lkk/storage.h"
#include "sql_cache.h"
#include "sql_connection.h"

namespace lkk {

// The statements that differ between the backends.
struct SqlDialect {
    const char* begin;              // starts a write transaction
    const char* migrations_dir;     // embedded sql/<dir>/NNN_*.sql
    const char* upsert_billing;     // tail of the billing INSERT: update on a duplicate key
    const char* upsert_counter;     // tail of the counter INSERT (params: now, now)
    const char* upsert_meter;       // tail of the meters INSERT
    const char* upsert_reading;     // tail of the readings INSERT
    const char* upsert_preference;  // tail of the notification_preferences INSERT
    // The first import time stays: imported_at is not in the update list.
    const char* upsert_statement;  // tail of the statements INSERT
    const char* upsert_payment;    // tail of the payments INSERT
};

extern const SqlDialect kSqliteDialect;
extern const SqlDialect kMysqlDialect;

class SqlStorage : public Storage,
                   public SessionStore,
                   public CounterStore,
                   public MeterStore,
                   public NotificationStore,
                   public MoneyStore {
  public:
    explicit SqlStorage(const SqlDialect& dialect) : dialect_(dialect) {}
    ~SqlStorage() override;

    // Storage
    Status in_transaction(const std::function<Status()>& body) override;
    Status ping() override;
    Result<int> schema_version() override;
    int expected_schema_version() const override;
    Status migrate() override;
    void set_read_cache(int64_t max_age_seconds, std::function<void()> on_change) override;
    void use_read_cache(const std::string& generation) override;

    Result<int64_t> insert_user(const std::string& email, const std::string& password_hash,
                                int64_t now) override;
    Result<std::optional<User>> find_user_by_email(const std::string& email) override;
    Result<std::optional<User>> find_user(int64_t id) override;
    Result<std::vector<User>> search_users(const std::string& text, int limit) override;
    Result<UserCounts> count_users() override;
    Status set_user_confirmed(int64_t user_id, int64_t now) override;
    Status set_user_status(int64_t user_id, UserStatus status) override;
    Status set_password_hash(int64_t user_id, const std::string& hash) override;
    Result<bool> set_pending_password_hash(int64_t user_id, const std::string& hash) override;
    Status erase_user(int64_t user_id) override;
    Status insert_consent(const Consent& consent) override;
    Result<std::vector<Consent>> consents_of(int64_t user_id) override;

    Status insert_token(const Token& token) override;
    Result<std::optional<Token>> find_token(TokenKind kind, const std::string& hash) override;
    Status mark_token_used(int64_t token_id, int64_t now) override;
    Status invalidate_tokens(int64_t user_id, TokenKind kind, int64_t now) override;
    Status replace_tokens(int64_t user_id, TokenKind kind, int64_t now) override;

    Result<std::vector<Office>> list_offices() override;
    Result<std::optional<Office>> find_office(const std::string& code) override;
    Status insert_office(const Office& office) override;
    Status update_office(const Office& office) override;
    Status remove_office(const std::string& code, bool force) override;
    Result<int64_t> count_offices() override;

    Status upsert_billing_account(const BillingAccount& account) override;
    // sql_billing_batch.cpp: multi-row statements (one round trip per batch on MySQL).
    Status upsert_billing_accounts(const std::vector<BillingAccount>& accounts) override;
    Result<std::optional<BillingAccount>> find_billing_account(
        const std::string& office_code, const std::string& account_number) override;
    Result<int64_t> count_billing_accounts() override;

    Result<int64_t> insert_link(int64_t user_id, int64_t billing_account_id, int64_t now) override;
    Result<std::vector<LinkedAccount>> list_links(int64_t user_id) override;
    Status delete_link(int64_t user_id, int64_t link_id) override;
    Result<int64_t> count_links() override;

    Result<int64_t> enqueue_mail(const OutboxMail& mail) override;
    Result<std::vector<OutboxMail>> claim_due_mails(int64_t now, int limit,
                                                    int64_t lease_seconds) override;
    Status mark_mail_sent(int64_t id, int64_t now) override;
    Status mark_mail_failed(int64_t id, const std::string& error, int64_t next_attempt_at,
                            bool give_up) override;
    Status expedite_waiting_mails(int64_t now) override;
    Result<std::vector<OutboxMail>> list_outbox(int limit) override;
    Result<std::vector<OutboxMail>> list_outbox_in_state(MailState state, int limit) override;
    Result<MailCounts> count_outbox() override;
    Result<OutboxBacklog> outbox_backlog() override;
    Status retry_mail(int64_t id, int64_t now) override;

    Status audit(const AuditEvent& event) override;
    Result<std::vector<AuditEvent>> recent_audit(std::optional<int64_t> user_id,
                                                 int limit) override;
    Status each_audit(const AuditFilter& filter,
                      const std::function<Status(const AuditEvent&)>& on_row) override;

    // SessionStore (ping is shared with Storage)
    Status create(const Session& s, int64_t idle_timeout, int64_t absolute_timeout) override;
    Result<std::optional<Session>> find(const std::string& id_hash, int64_t now,
                                        int64_t idle_timeout, int64_t absolute_timeout) override;
    Status touch(const std::string& id_hash, int64_t now, int64_t idle_timeout) override;
    Status remove(const std::string& id_hash) override;
    Status remove_all_of_user(int64_t user_id) override;
    Status bump_generation() override;

    // CounterStore
    Result<int64_t> hit(const std::string& key, int64_t window_seconds, int64_t now) override;
    Result<std::vector<int64_t>> counts(const std::vector<std::string>& keys, int64_t now) override;
    Status clear(const std::string& key) override;
    Status clear_prefix(const std::string& prefix) override;

    // MeterStore (sql_meters.cpp)
    Status upsert_meters(const std::vector<MeterRow>& rows) override;
    Result<int64_t> count_meters() override;
    Result<std::vector<Meter>> meters_of_account(int64_t billing_account_id) override;
    Status remove_meter(int64_t billing_account_id, const std::string& serial) override;
    Status put_reading(const Reading& reading) override;
    Result<std::optional<Reading>> last_reading(int64_t meter_id,
                                                const std::string& before_period) override;
    Result<std::vector<Reading>> readings_of(int64_t meter_id,
                                             const std::string& from_period) override;
    Status export_readings(const ReadingExportFilter& filter,
                           const std::function<void(const ReadingExportRow&)>& on_row) override;

    // NotificationStore (sql_notifications.cpp)
    Result<NotificationPreferences> preferences(int64_t user_id) override;
    Status set_preference(int64_t user_id, NotificationKind kind, bool enabled,
                          int64_t now) override;
    Result<bool> record_notification(const NotificationKey& key, int64_t now) override;
    Result<bool> notification_recorded(const NotificationKey& key) override;
    Status insert_unsubscribe_token(const UnsubscribeToken& token) override;
    Result<std::optional<UnsubscribeToken>> find_unsubscribe_token(
        const std::string& hash) override;
    Status mark_unsubscribe_token_used(int64_t token_id, int64_t now) override;
    Result<std::vector<BillRecipient>> bill_mails_due(int64_t imported_since, int64_t after_link_id,
                                                      int limit) override;
    Result<std::vector<ReminderRecipient>> readings_reminders_due(const std::string& period,
                                                                  int64_t after_user_id,
                                                                  int limit) override;
    // MoneyStore (sql_money.cpp)
    Status upsert_statements(const std::vector<StatementRow>& rows) override;
    Result<int64_t> count_statements() override;
    Status upsert_payments(const std::vector<PaymentRow>& rows) override;
    Result<int64_t> count_payments() override;
    Result<std::optional<Statement>> latest_statement(int64_t billing_account_id) override;
    Result<std::optional<Statement>> statement(int64_t billing_account_id,
                                               const std::string& period) override;
    Result<std::vector<Statement>> statements_of(int64_t billing_account_id,
                                                 const std::string& from_period) override;
    Result<std::vector<Payment>> payments_of(int64_t billing_account_id,
                                             const std::string& from_date, int limit) override;

    // This thread's connection, opened on first use and reopened after a failure.
    Result<db::Connection*> connection();

    // Calls f with this thread's connection; answers the connection error when there is none.
    // Outside a transaction, f is one unit of work: when it fails in a way that left nothing
    // done (db::Connection::rerunnable: a Galera certification failure, a node gone before
    // anything was written), it runs again, on a new connection if need be, at most
    // kMaxReruns times. Inside a transaction, the outermost in_transaction runs it again.
    template <class F>
    auto with_connection(F&& f) -> decltype(f(std::declval<db::Connection&>())) {
        for (int attempt = 0;; ++attempt) {
            auto c = connection();
            if (!c) return c.error();
            db::Connection& conn = **c;
            if (conn.depth > 0 || conn.in_unit) return f(conn);
            conn.aborted = conn.wrote = false;
            conn.in_unit = true;
            auto r = f(conn);
            conn.in_unit = false;
            const bool rerun = !r.ok() && conn.rerunnable() && attempt < kMaxReruns;
            unit_over(conn);  // may replace this thread's connection: conn is not used after it
            if (!rerun) return r;
            pause_before_rerun(attempt);
        }
    }

    // A unit of work that the database aborted runs again at most this many times.
    static constexpr int kMaxReruns = 3;

  private:
    // One run of a transaction (or a savepoint when nested) on conn.
    Status transaction(db::Connection& conn, const std::function<Status()>& body);
    // After the outermost unit of work on conn: when it wrote cached data, this thread forgets
    // what it kept and the change is announced (set_read_cache). The announcement may be a unit
    // of work of its own on this thread's connection (sessions in this database), which may
    // replace a broken connection: callers read what they need of conn before.
    void unit_over(db::Connection& conn);
    // The queries behind the cached answers.
    Result<std::optional<User>> fetch_user(int64_t id);
    Result<std::vector<LinkedAccount>> fetch_links(int64_t user_id);
    Result<std::optional<Statement>> fetch_latest_statement(int64_t billing_account_id);

    db::ReadCache cache_;
    std::function<void()> on_change_;

  protected:
    // Opens a new connection for the calling thread.
    virtual Result<std::unique_ptr<db::Connection>> open_connection() = 0;
    // True for a connection this process must not use (SQLite: inherited through fork()).
    virtual bool foreign(const db::Connection&) const { return false; }
    // True for a healthy connection that should be replaced between units of work (MySQL: one
    // to another Galera node than the one now preferred).
    virtual bool stale(const db::Connection&) const { return false; }
    // A short, growing, jittered wait, so two claimers that conflicted do not meet again.
    static void pause_before_rerun(int attempt);
    // Lets go of the connections of other processes without closing them (see foreign).
    void release_foreign_connections();

    const SqlDialect& dialect_;
    std::mutex mu_;  // guards connections_ only; each connection is used by its own thread
    std::map<std::thread::id, std::unique_ptr<db::Connection>> connections_;
    // Every kSweepEvery counter hits, expired counters are swept; likewise every kSweepEvery
    // new sessions, expired sessions. sweep_due counts one more event and says when.
    static constexpr uint64_t kSweepEvery = 64;
    static bool sweep_due(std::atomic<uint64_t>& events) {
        return events.fetch_add(1, std::memory_order_relaxed) % kSweepEvery == kSweepEvery - 1;
    }
    std::atomic<uint64_t> hits_{0};
    std::atomic<uint64_t> created_{0};
};

}  // namespace lkk
