// Notifications (SPEC 11): the subscriber's choices (remind_readings, bill_by_email, both off
// by default), the mails they ask for, and the one-click unsubscribe of RFC 8058. It knows
// nothing of HTTP; every operation is thread-safe and blocking (database): call it from the
// thread pool. Nothing throws.
//
// The contract for every notification mail (the readings reminder here; the bill mail of
// SPEC 10 uses the same door, kind "bill", item = the account):
//   - Notifications::enqueue_once() writes it to the outbox at most once per user, kind,
//     item and month, even when several workers or hosts try at once: the record of
//     (user, kind, item, period) and the outbox row are one transaction, and the record's
//     UNIQUE key refuses the second one;
//   - it is sent only while the user wants that kind (checked in the same transaction);
//   - it carries its kind's unsubscribe link in the body (the Compose callback puts it there)
//     and in the List-Unsubscribe / List-Unsubscribe-Post headers, which enqueue_once adds.
//     The token in the link is 32 random bytes; only its SHA-256 is stored, and it names the
//     user and the kind, so POST /unsubscribe turns that kind off without logging in.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "lkk/cabinet.h"
#include "lkk/clock.h"
#include "lkk/notification_store.h"
#include "lkk/readings.h"
#include "lkk/settings.h"
#include "lkk/status.h"
#include "lkk/storage.h"
#include "lkk/templates.h"

namespace lkk {

namespace notifications {

// The month whose readings reminder is due at `now`: the readings window's period while the
// window is open (days readings.window_start_day..window_end_day in portal.time_zone), none
// while it is closed. Pure: the timer asks it every round without touching the database.
std::optional<std::string> reminder_period(int64_t now, const Settings& settings);

// RFC 8058: the header fields of a mail whose one-click unsubscribe link is `link`.
inline constexpr std::string_view kListUnsubscribe = "List-Unsubscribe";
inline constexpr std::string_view kListUnsubscribePost = "List-Unsubscribe-Post";
inline constexpr std::string_view kOneClick = "List-Unsubscribe=One-Click";

}  // namespace notifications

enum class NotifyOutcome {
    enqueued,      // written to the outbox now
    already_sent,  // this (user, kind, item, period) was enqueued before (maybe by another host)
    not_wanted,    // the user has this kind off, or is not an active cabinet any more
};

enum class UnsubscribeOutcome {
    ok,         // the kind is off now (or already was)
    malformed,  // 400: no token, or not the shape of one
    unknown,    // 404: no such token (never issued, or its cabinet was deleted)
    unavailable,
    internal,
};

struct UnsubscribeReply {
    UnsubscribeOutcome outcome = UnsubscribeOutcome::ok;
    NotificationKind kind = NotificationKind::readings;
    Status status;  // unavailable / internal: for the error log
    bool ok() const { return outcome == UnsubscribeOutcome::ok; }
};

class Notifications {
  public:
    // All references must outlive the service. mail_templates renders the mails (the portal's
    // locale). The state is found in storage (notification_store_of); a backend without it
    // answers unavailable.
    Notifications(const Settings& settings, Storage& storage, Clock& clock,
                  const TemplateSet& mail_templates);

    // ---- the settings page ----
    Result<NotificationPreferences> preferences(int64_t user_id);
    // Stores every choice and audits the change ("notifications", e.g.
    // "remind_readings=on bill_by_email=off") in one transaction.
    Status save_preferences(int64_t user_id, const NotificationPreferences& prefs,
                            const RequestContext& ctx);

    // ---- sending (the contract above) ----
    // Builds the mail once it is sure to be sent: subject and bodies (and whatever else the
    // kind needs), with `unsubscribe_link` in the text. Recipient, times and the unsubscribe
    // headers are filled in by enqueue_once; an error Status rolls everything back.
    using Compose = std::function<Result<OutboxMail>(const std::string& unsubscribe_link)>;
    // expires_at: when the mail stops being useful (unset: [mail] max_age).
    Result<NotifyOutcome> enqueue_once(const NotificationKey& key, const Compose& compose,
                                       std::optional<int64_t> expires_at = std::nullopt);
    // base_url + base_path + "/unsubscribe?t=" + token.
    std::string unsubscribe_link(const std::string& token) const;

    // ---- RFC 8058 one-click unsubscribe (no login) ----
    // Which kind a token would turn off; changes nothing (GET shows a button).
    UnsubscribeReply check_unsubscribe(std::string_view token);
    // Turns the token's kind off for its user, audited as "unsubscribe" (POST).
    UnsubscribeReply unsubscribe(std::string_view token, const RequestContext& ctx);

    // ---- the readings reminder ----
    // One round, run by the outbox timer before each delivery round. While the readings window
    // is closed it costs a clock read. While it is open it asks the database at most once per
    // readings.remind_interval (per process), or at once again while recipients are left over
    // from a full page, and enqueues this month's reminder for everyone due (enqueue_once
    // keeps it to one per user and month across hosts). Only one round runs at a time in a
    // process. Answers the number of mails enqueued.
    int remind_readings() noexcept;

  private:
    Result<NotificationStore*> store();
    Result<OutboxMail> readings_mail(const readings::Window& window, const std::string& link);
    UnsubscribeReply find_token(std::string_view token, std::optional<UnsubscribeToken>& found);

    const Settings& settings_;
    Storage& storage_;
    Clock& clock_;
    const TemplateSet& templates_;
    std::atomic<int64_t> next_reminder_check_{0};
    std::atomic<bool> reminding_{false};
};

}  // namespace lkk
