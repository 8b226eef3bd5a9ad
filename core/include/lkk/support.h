// Support work (SPEC 7): everything support staff do for subscribers and for the portal's
// data, knowing nothing of the command line. lkk-admin parses arguments, calls one of these
// operations and prints the answer; nothing else writes what support staff change.
//
// A Support object acts for one actor (audit.h), normally this_process_tool_actor(): every
// change is written to the audit log as "admin_<operation>" with that actor, in the same
// transaction as the change where there is one. The operations act through the same stores
// as the portal, so a running portal sees the effect on its next request.
//
// Errors come back as Status with a sentence for people: invalid_argument for input that is
// not well-formed (an e-mail, an office code, an account number), not_found for an unknown
// cabinet, office, billing account, link or mail, conflict when the state does not allow the
// change (confirming an active cabinet, an office that exists or is still linked, retrying a
// sent mail), unavailable when a backend is down.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lkk/audit.h"
#include "lkk/billing_import.h"
#include "lkk/clock.h"
#include "lkk/csv_import.h"
#include "lkk/meter_store.h"
#include "lkk/session_store.h"
#include "lkk/settings.h"
#include "lkk/status.h"
#include "lkk/storage.h"

namespace lkk {

class Cabinet;
class Readings;
class Statements;
class Bills;

// Throttling of one cabinet, as the login and linking flows count it.
struct LockInfo {
    int64_t login_failures = 0;  // in the current window
    bool login_locked = false;   // the growing lock is in force
    int64_t login_locks = 0;     // locks issued in the last 24 h (the lock doubles each time)
    int64_t link_failures = 0;   // in the current window
};

// users show: one cabinet and what happened to it, newest audit rows first.
struct UserReport {
    User user;
    std::vector<LinkedAccount> links;
    LockInfo locks;
    std::vector<AuditEvent> recent;
};

// billing show: one billing account with its office and the amount a subscriber must type.
struct BillingAccountReport {
    BillingAccount account;
    Office office;
    int64_t expected_amount = 0;  // kopecks
};

// offices update: the fields to change (unset: keep).
struct OfficeChange {
    std::optional<std::string> name;
    std::optional<std::string> phones;
    std::optional<std::string> email;  // "" clears it
    // The payment requisites (SPEC 10), field by field; the office's set after the change
    // must be empty or complete and valid (requisites::check).
    std::optional<std::string> payee;
    std::optional<std::string> inn;
    std::optional<std::string> kpp;  // "" clears it
    std::optional<std::string> bank;
    std::optional<std::string> bic;
    std::optional<std::string> account;
    std::optional<std::string> corr_account;  // "" clears it
    bool empty() const {
        return !name && !phones && !email && !payee && !inn && !kpp && !bank && !bic && !account &&
               !corr_account;
    }
};

// outbox list: a mail and how long it has waited.
struct OutboxEntry {
    OutboxMail mail;
    int64_t age = 0;  // seconds since it was queued
    // pending mails only: seconds until the next attempt (0: due now)
    std::optional<int64_t> next_attempt_in;
};

struct FlushReport {
    int sent = 0;
    MailCounts after;  // the outbox once the flush is done
};

struct PortalStats {
    UserCounts users;
    int64_t links = 0;
    int64_t billing_accounts = 0;
    int64_t offices = 0;
    MailCounts outbox;
};

// audit: which rows to read; an unset field matches every row.
struct AuditQuery {
    std::optional<int64_t> within;  // seconds back from now (--since 24h)
    std::string email;              // rows about this cabinet (--user)
    std::string event;              // this event only (--action login_fail)
};

struct SchemaReport {
    int before = 0;
    int after = 0;
    int expected = 0;  // the version this build expects
};

class Support {
  public:
    // All references must outlive the Support object. Nothing is opened here.
    Support(const Settings& settings, Storage& storage, SessionStore& sessions,
            CounterStore& counters, Clock& clock, Actor actor);
    ~Support();
    Support(const Support&) = delete;
    Support& operator=(const Support&) = delete;

    const Actor& actor() const { return actor_; }

    // ---- schema ----
    // Applies pending migrations; audited as "admin_migrate" when the version moved.
    Result<SchemaReport> migrate();

    // ---- users (cabinets), by e-mail; not_found for an unknown or deleted one ----
    // Cabinets whose e-mail contains text, oldest first (not audited: no change).
    Result<std::vector<User>> find_users(std::string_view text, int limit);
    // The cabinet, its links, locks and the newest audit_rows audit rows. Looking at a
    // person's data is audited too ("admin_users_show").
    Result<UserReport> show_user(std::string_view email, int audit_rows = 15);
    Result<LockInfo> lock_info(std::string_view email);
    // Each answers the cabinet as it is after the change.
    // Marks a pending cabinet confirmed (no mail); conflict when it is not pending.
    Result<User> confirm_user(std::string_view email);
    // Queues a fresh confirmation mail; conflict when the cabinet is not pending.
    Result<User> resend_confirmation(std::string_view email);
    // Clears the login failures and lock and the cabinet's link and password-change counters.
    Result<User> unlock_user(std::string_view email);
    // Ends every session of the cabinet.
    Result<User> logout_user(std::string_view email);
    // Stops login and ends the sessions.
    Result<User> block_user(std::string_view email);
    // Lets a blocked cabinet in again (active when confirmed, else pending); conflict when it
    // is not blocked.
    Result<User> unblock_user(std::string_view email);
    // Issues a password reset token and answers the link. send_mail: also queue the usual
    // reset mail; false (--print-link): the link exists only in the answer. Conflict for a
    // blocked cabinet.
    Result<std::string> reset_password(std::string_view email, bool send_mail);
    // Erases the personal data (Storage::erase_user), ends the sessions and clears the
    // counters; the audit trail keeps only the user id. Answers the cabinet as it was.
    Result<User> delete_user(std::string_view email);

    // ---- accounts ----
    // Removes OFFICE ACCOUNT from the cabinet's registry; not_found when it is not linked.
    Status unlink_account(std::string_view email, std::string_view office_code,
                          std::string_view account_number);
    // Clears the failed link attempts counted against one billing account.
    Status unlock_account(std::string_view office_code, std::string_view account_number);

    // ---- offices ----
    Result<std::vector<Office>> offices();
    // Code: 1 to 32 Latin letters, digits, '_' or '-'; name and phones: non-empty text on one
    // line; e-mail optional; requisites empty or complete and valid (the error names the
    // field: "INN '...': the check digits do not match"). Conflict when the code exists.
    Status add_office(const Office& office);
    // Answers the office as changed.
    Result<Office> update_office(std::string_view code, const OfficeChange& change);
    // Conflict while accounts of the office are linked, unless force (the links go too).
    Status remove_office(std::string_view code, bool force);

    // ---- billing ----
    // import_billing_csv (billing_import.h), audited with its summary; source names the file
    // in the audit detail.
    Result<BillingImportReport> import_billing(
        std::istream& in, const BillingImportOptions& options, std::string_view source,
        const std::function<void(const BillingImportProgress&)>& progress = {});
    Result<BillingAccountReport> billing_account(std::string_view office_code,
                                                 std::string_view account_number);

    // ---- meters and readings (SPEC 9; the work is the Readings service's) ----
    // The meters file (readings.h: MeterCsvReader), audited with its summary like billing.
    Result<CsvImportReport> import_meters(
        std::istream& in, const CsvImportOptions& options, std::string_view source,
        const std::function<void(const CsvImportProgress&)>& progress = {});
    // The meters of one account with their newest reading (not audited: no change).
    Result<std::vector<MeterRow>> meters(std::string_view office_code,
                                         std::string_view account_number);
    // Removes a meter with its readings; not_found names what is missing.
    Status remove_meter(std::string_view office_code, std::string_view account_number,
                        std::string_view serial);
    // Every reading matching the filter, for the billing system. Read-only, not audited;
    // not_found for an unknown office.
    Status export_readings(const ReadingExportFilter& filter,
                           const std::function<void(const ReadingExportRow&)>& on_row);

    // ---- money (SPEC 10; the work is the Statements service's) ----
    // The statements file and the payments file (statements.h), audited with their summary
    // like billing. A committed statements import then queues the bill mails of the months it
    // added (Bills::mail_new_bills; CsvImportReport::mails); should that fail, the statements
    // stay imported and the error says so.
    Result<CsvImportReport> import_statements(
        std::istream& in, const CsvImportOptions& options, std::string_view source,
        const std::function<void(const CsvImportProgress&)>& progress = {});
    Result<CsvImportReport> import_payments(
        std::istream& in, const CsvImportOptions& options, std::string_view source,
        const std::function<void(const CsvImportProgress&)>& progress = {});

    // ---- outbox ----
    // The newest mails (of one state when given), with their age and next attempt.
    Result<std::vector<OutboxEntry>> outbox(int limit, std::optional<MailState> state = {});
    // A failed or waiting mail becomes due now; conflict for a sent one.
    Status retry_mail(int64_t id);
    // Delivers every due mail now through [mail] url, with the portal's rules (leases, so a
    // running portal never sends the same mail twice).
    Result<FlushReport> flush_outbox();

    // ---- audit log ----
    // Every audit row matching query, newest first, handed to on_row one at a time
    // (Storage::each_audit: the log is never held in memory). Reading the log shows
    // subscribers' addresses, so the reading is audited too ("admin_audit" with the filter),
    // first, like users show. invalid_argument for a malformed e-mail, not_found for an
    // unknown cabinet; an error from on_row stops the reading and comes back.
    Status read_audit(const AuditQuery& query,
                      const std::function<Status(const AuditEvent&)>& on_row);

    // ---- stats ----
    // Counts by COUNT queries (no listing), so a million cabinets cost no memory.
    Result<PortalStats> stats();

  private:
    // The one place this service writes the audit log: record_audit with actor_.
    Status audit(std::optional<int64_t> user_id, std::string event, std::string detail = {});
    // Audits a CSV import's summary ("file F: N rows, ...") as event; answers result.
    Result<CsvImportReport> audited_import(std::string event, std::string_view source, bool dry_run,
                                           Result<CsvImportReport> result);
    // The cabinet of a command's e-mail; not_found for an unknown or deleted one.
    Result<User> user_of(std::string_view email);
    // The cabinet again after a change.
    Result<User> reread(const User& user);
    // Runs change and writes its audit row in one transaction; answers the cabinet after it.
    Result<User> changed(const User& user, const std::function<Status()>& change,
                         std::string event);
    Result<Office> office_of(std::string_view code);

    const Settings& settings_;
    Storage& storage_;
    SessionStore& sessions_;
    CounterStore& counters_;
    Clock& clock_;
    Actor actor_;
    std::unique_ptr<Cabinet> cabinet_;  // links, tokens and mails exactly as the portal makes them
    std::unique_ptr<Readings> readings_;  // meters and readings exactly as the portal keeps them
    std::unique_ptr<Statements> statements_;  // statements and payments as the portal shows them
    std::unique_ptr<Bills> bills_;            // the bill mails, and their PDFs when flushing
};

}  // namespace lkk
