// The subscriber's cabinet: the business logic of SPEC sections 2-4, knowing nothing of HTTP.
//
// The HTML and the JSON layers both call these operations and render the reply: an Outcome
// (which maps to one HTTP status), per-field errors in both languages, and the extras some
// outcomes need (seconds to wait when throttled, the office's phones on a link mismatch).
// Every operation is thread-safe and blocking (database, Argon2): call it from the thread
// pool. No operation throws; backend failures come back as Outcome::unavailable/internal.
//
// Security rules that live here (SPEC 4): no account enumeration (registration, resend and
// recovery answer the same whether the e-mail is known or not; login says only "wrong e-mail
// or password"), only SHA-256 digests of tokens and session ids are stored, mail is written
// to the outbox in the same transaction as the change that caused it, throttling, audit.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lkk/clock.h"
#include "lkk/locale.h"
#include "lkk/metrics.h"
#include "lkk/rules.h"
#include "lkk/session_store.h"
#include "lkk/settings.h"
#include "lkk/status.h"
#include "lkk/storage.h"

namespace lkk {

class TemplateSet;

// Who is asking: recorded in the audit log and the consent record; locale picks the language
// of the mails this request causes (the web layer passes settings.portal.locale or the
// language the person chose).
struct RequestContext {
    std::string ip;
    std::string user_agent;
    Locale locale = Locale::ru;
};

// What happened, one value per distinct answer a person sees. Suggested HTTP statuses:
enum class Outcome {
    ok,                 // 200 / 303
    form_error,         // 400 (HTML: the form again) / 422 problem+json: see Reply::errors
    throttled,          // 429: see Reply::retry_after (and Reply::office for linking)
    invalid_token,      // 400/410: unknown, expired or used confirmation/reset link
    link_replaced,      // 410: a newer registration of the pending e-mail replaced this link
    wrong_credentials,  // 401-ish: "wrong e-mail or password" (also unknown/blocked users)
    not_confirmed,      // 403: right password, e-mail not confirmed yet: offer to resend
    mismatch,           // 422: link data do not match billing: see Reply::office (phones)
    already_linked,     // 409: this account is already in this cabinet's registry
    not_found,          // 404: e.g. someone else's link id
    unavailable,        // 503: database/sessions down; Reply::status has the detail for logs
    internal,           // 500: a bug; Reply::status has the detail for logs
};

// Stable machine-readable name ("wrong_credentials") for the JSON API and logs.
std::string_view outcome_code(Outcome outcome);
// A human sentence for the outcome in both languages (generic; the mismatch text does not
// contain the phones, which the page shows from Reply::office).
Message outcome_message(Outcome outcome);

// One problem with one form field, rendered next to that field.
//   field: "email", "password", "password_confirm", "consent", "old_password", "office",
//          "account", "surname", "amount", "token" (the form names of SPEC 5)
//   code:  rules::error_code(...) for rule errors, else "required", "password_mismatch",
//          "consent_required", "office_unknown", "old_password_wrong"
struct FieldError {
    std::string field;
    std::string code;
    std::string ru;
    std::string en;
    std::string_view text(Locale l) const { return l == Locale::en ? en : ru; }
};

// The answer of every operation.
struct Reply {
    Outcome outcome = Outcome::ok;
    std::vector<FieldError> errors;  // outcome == form_error (possibly several)
    int64_t retry_after = 0;         // seconds, outcome == throttled
    std::optional<Office> office;    // mismatch / throttled linking: whom to call
    Status status;                   // unavailable / internal: detail for the error log only

    bool ok() const { return outcome == Outcome::ok; }
    // The first error of a field, or nullptr.
    const FieldError* error_of(std::string_view field) const;
};

// A freshly created session: cookie_value goes into the lkk_session cookie and exists
// nowhere else (only its SHA-256 is stored).
struct SessionGrant {
    std::string cookie_value;
    Session session;  // id_hash, user_id, csrf, times
};

struct LoginReply : Reply {
    std::optional<User> user;             // ok, and not_confirmed (for the resend offer)
    std::optional<SessionGrant> session;  // ok
};

struct ChangePasswordReply : Reply {
    std::optional<SessionGrant> session;  // ok: every old session is gone, this one replaces it
};

struct LinkReply : Reply {
    std::optional<LinkedAccount> linked;  // ok: the new registry row
};

// A logged-in request: the cookie resolved to a live session of an active user.
struct CurrentSession {
    User user;
    Session session;
};

class Cabinet {
  public:
    // All references must outlive the Cabinet. Nothing is opened or hashed here.
    Cabinet(const Settings& settings, Storage& storage, SessionStore& sessions,
            CounterStore& counters, Clock& clock);
    ~Cabinet();
    Cabinet(const Cabinet&) = delete;
    Cabinet& operator=(const Cabinet&) = delete;

    const Settings& settings() const { return settings_; }

    // ---- Registration (SPEC 2.1-2.3) ----

    // Validates the form (e-mail, password policy, confirmation equal, consent ticked),
    // throttles 10 per IP per hour, hashes the password, and in one transaction stores the
    // user, the consent record (document version, UTC time, IP, UA), a confirmation token
    // and the confirmation mail, plus the audit event. For an e-mail that already has a
    // cabinet the reply is the same ok, and instead a "you already have a cabinet" mail is
    // queued (a fresh confirmation mail when that cabinet is still pending; none when such a
    // mail went out moments ago, so a burst of identical registrations sends one mail).
    Reply register_user(std::string_view email, std::string_view password,
                        std::string_view password_confirm, bool consent_checked,
                        const RequestContext& ctx);

    // The link of the confirmation mail. Confirms a pending cabinet; the same valid link
    // followed again (mail scanners do that) answers ok again. Unknown or expired:
    // invalid_token.
    Reply confirm(std::string_view token, const RequestContext& ctx);

    // Sends a new confirmation link when the cabinet is pending; the same ok otherwise.
    // Throttled to 3 per e-mail per hour (429) whether the e-mail is known or not.
    Reply resend_confirmation(std::string_view email, const RequestContext& ctx);

    // ---- Sessions (SPEC 2.4, 4) ----

    // Throttles 30 attempts per IP per minute and 5 failures per e-mail per 15 minutes, then
    // a lock that doubles each time (throttled). Unknown e-mail, wrong password and blocked
    // cabinet all answer wrong_credentials (a dummy Argon2 run keeps the timing equal).
    // A pending cabinet with the right password answers not_confirmed. On success: rehash
    // when the Argon2 parameters changed, clear the failure count, create a new session.
    LoginReply login(std::string_view email, std::string_view password, const RequestContext& ctx);

    // The session behind a cookie value, applying the idle and absolute timeouts and
    // refreshing last-seen; nullopt when there is none or the cabinet is no longer active.
    // An error only when the backend fails (the page answers 503).
    Result<std::optional<CurrentSession>> current_session(std::string_view cookie_value);

    // Ends this session.
    Reply logout(const Session& session, const RequestContext& ctx);

    // Verifies the old password (field error "old_password" otherwise; 5 wrong attempts per
    // 15 minutes are throttled), applies the policy to the new one, stores it, ends every
    // session of the user and answers a new one for the cookie.
    ChangePasswordReply change_password(const Session& session, std::string_view old_password,
                                        std::string_view new_password,
                                        std::string_view password_confirm,
                                        const RequestContext& ctx);

    // ---- Password recovery ----

    // Same ok whether the e-mail is known or not (throttled per e-mail like resend). For an
    // active or pending cabinet: a reset token (1 h) and a mail with the reset link.
    Reply forgot_password(std::string_view email, const RequestContext& ctx);

    // For the GET that shows the reset form: ok when the token is valid; does NOT consume it.
    Reply check_reset_token(std::string_view token);

    // The reset form's POST: consumes the token (a used, expired or unknown one is
    // invalid_token; of two racing POSTs only one wins), stores the new password, invalidates
    // the user's other reset tokens, ends all sessions. A pending cabinet becomes confirmed
    // (following the mailed link proved the mailbox).
    Reply reset_password(std::string_view token, std::string_view new_password,
                         std::string_view password_confirm, const RequestContext& ctx);

    // ---- Personal accounts (SPEC 2.6-2.7, 3) ----

    Result<std::vector<Office>> offices();

    // Links a billing account to the cabinet. Bad input (unknown office, malformed number,
    // amount with 3 decimals...) is form_error, not a mismatch. 5 failures per cabinet per
    // hour and 5 per billing account per day, then throttled with the office's phones.
    // Data not matching (or no such account) -> mismatch with the office's phones, never
    // saying which field was wrong. Already in this cabinet -> already_linked.
    LinkReply link_account(int64_t user_id, std::string_view office_code,
                           std::string_view account_number, std::string_view surname,
                           std::string_view amount, const RequestContext& ctx);

    // The registry of linked accounts.
    Result<std::vector<LinkedAccount>> accounts(int64_t user_id);
    // One row of the registry (address, balance, last payment); not_found for a link that
    // does not exist or belongs to another cabinet.
    Result<LinkedAccount> account_details(int64_t user_id, int64_t link_id);
    // Removes a row from the registry; not_found for someone else's link.
    Reply unlink(int64_t user_id, int64_t link_id, const RequestContext& ctx);

    // The amount a subscriber must type for this billing account today: the last payment
    // when it was made in the current calendar year (settings.portal.time_zone), else 0.
    int64_t expected_amount(const BillingAccount& account);

    // ---- For the support service (support.h) ----

    // Issues a token of this kind for the user (stores only its digest) and, when send_mail,
    // queues the matching mail in locale; answers the raw token. Call inside a transaction.
    // Support's resend and reset-password use it, so their tokens and mails follow the same
    // rules as the subscriber's own requests.
    Result<std::string> issue_token_with_mail(const User& user, TokenKind kind, Locale locale,
                                              bool send_mail);

    // The links put into mails (absolute: base_url + base_path + ...).
    std::string confirm_link(std::string_view token) const;
    std::string reset_link(std::string_view token) const;
    std::string login_link() const;
    std::string forgot_link() const;

  private:
    struct Mail {
        std::string subject;
        std::string body;
    };

    // cabinet_mails.cpp
    Result<const TemplateSet*> mail_templates(Locale locale);
    Result<Mail> render_mail(std::string_view name, Locale locale, std::string_view link,
                             int64_t valid_seconds);
    // expires_at: when the mail's link stops working; delivery gives the mail up then.
    Status enqueue(const std::string& recipient, std::string_view name, Locale locale,
                   std::string_view link, int64_t valid_seconds,
                   std::optional<int64_t> expires_at = std::nullopt);

    // cabinet_registration.cpp
    Status record_consent(int64_t user_id, const RequestContext& ctx);
    Result<bool> replace_pending_registration(const User& user, const std::string& hash,
                                              const RequestContext& ctx);
    Status notify_existing_owner(const User& user, const RequestContext& ctx);

    // cabinet_throttle.cpp
    // The first steps of an e-mail-only request (resend, forgot): a valid address, the
    // per-e-mail limit under key_of(address), then the cabinet if there is one. The error
    // side is the reply to give at once (form error, throttled, unavailable).
    // kind: how lkk_throttled_total counts a refusal.
    Result<std::optional<User>, Reply> user_for_mail_request(
        std::string_view email, std::string (*key_of)(std::string_view),
        metrics::ThrottleKind kind);
    // Counts one event under key; true when the count after it exceeds limit.
    Result<bool> over_limit(const std::string& key, int limit, int64_t window);
    // True when key already counted limit events in its window (does not count).
    Result<bool> at_limit(const std::string& key, int limit);
    int64_t lock_duration(int64_t nth_lock) const;
    // Counts a login attempt from ip and reads the e-mail's login counters, in one go before
    // the password is checked.
    struct LoginCounters {
        int64_t ip_attempts = 0;     // attempts from the IP in its window, this one included
        int64_t lock_remaining = 0;  // 0: not locked, else seconds to wait (an upper bound)
        int64_t failures = 0;        // failed attempts in the current window
    };
    Result<LoginCounters> login_counters(std::string_view ip, const std::string& email);
    Status record_login_failure(const std::string& email);
    Status clear_login_failures(const std::string& email);

    // cabinet_linking.cpp: link_account() without counting the result in lkk_links_total.
    LinkReply attempt_link(int64_t user_id, std::string_view office_code,
                           std::string_view account_number, std::string_view surname,
                           std::string_view amount, const RequestContext& ctx);

    // cabinet_login.cpp
    // login() without counting the result in lkk_logins_total.
    LoginReply attempt_login(std::string_view email, std::string_view password,
                             const RequestContext& ctx);
    SessionGrant new_session(int64_t user_id, int64_t now) const;
    Status start_session(const SessionGrant& grant);
    // A verify against a hash of the configured cost, for unknown e-mails.
    void dummy_verify(std::string_view password);

    // cabinet_password.cpp
    Result<std::optional<std::pair<Token, User>>> usable_reset_token(std::string_view token);

    // cabinet_common.cpp. The actor is the subscriber: user_id from ctx.ip (record_audit).
    // Best effort where the caller has nothing to roll back; inside a transaction the Status
    // is checked so the event and the change are stored together.
    Status audit(std::optional<int64_t> user_id, std::string event, const RequestContext& ctx,
                 std::string detail = {});

    const Settings& settings_;
    Storage& storage_;
    SessionStore& sessions_;
    CounterStore& counters_;
    Clock& clock_;
    std::once_flag dummy_once_;
    std::string dummy_hash_;
    std::mutex templates_mutex_;
    std::unique_ptr<TemplateSet> templates_[2];  // ru, en: loaded on first mail
};

}  // namespace lkk
