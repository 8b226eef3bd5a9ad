// Where notifications keep their state (SPEC 11): the subscriber's choices, the record of
// each notification enqueued (so a mail goes out once per user, kind, item and month even
// when several hosts look at once), and the one-click unsubscribe tokens. An interface of its
// own beside Storage, implemented by the SQL backends (the same object as Storage: find it
// with notification_store_of(storage)). Same rules as Storage: thread-safe, never throws,
// errors as Status, joins the caller's Storage::in_transaction on this thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lkk/status.h"
#include "lkk/storage.h"

namespace lkk {

// The kinds of notification mail. Each has one preference (off by default), one unsubscribe
// link and at most one mail per user, item and month.
enum class NotificationKind {
    readings,  // remind_readings: the readings window has opened (SPEC 9, 11)
    bill,      // bill_by_email: a new statement was imported, the PDF bill attached (SPEC 10)
};
inline constexpr NotificationKind kNotificationKinds[] = {NotificationKind::readings,
                                                          NotificationKind::bill};
// The name kept in the database and carried by tokens: "readings" | "bill".
std::string_view notification_kind_name(NotificationKind kind);
std::optional<NotificationKind> notification_kind_from(std::string_view name);
// The setting's name on GET,POST /settings: "remind_readings" | "bill_by_email".
std::string_view notification_preference_name(NotificationKind kind);

struct NotificationPreferences {
    bool remind_readings = false;
    bool bill_by_email = false;
    bool wants(NotificationKind kind) const {
        return kind == NotificationKind::readings ? remind_readings : bill_by_email;
    }
    void set(NotificationKind kind, bool on) {
        (kind == NotificationKind::readings ? remind_readings : bill_by_email) = on;
    }
    friend bool operator==(const NotificationPreferences&,
                           const NotificationPreferences&) = default;
};

// What makes a notification "the same one": one mail per (user, kind, item, period).
struct NotificationKey {
    int64_t user_id = 0;
    NotificationKind kind = NotificationKind::readings;
    std::string item;    // tells several mails of a kind in a month apart (a bill: the
                         // account, "SIM/100200"); empty when there is one a month
    std::string period;  // "YYYY-MM" in portal.time_zone
};

// Only the SHA-256 (hex) of a token is stored; the token is in the mail's link only.
struct UnsubscribeToken {
    int64_t id = 0;
    std::string hash;
    int64_t user_id = 0;
    NotificationKind kind = NotificationKind::readings;
    int64_t created_at = 0;
    std::optional<int64_t> used_at;  // the last time it turned its kind off
};

// A subscriber who is due this month's readings reminder.
struct ReminderRecipient {
    int64_t user_id = 0;
    std::string email;
};

// A month's bill that is due by mail (SPEC 10): a cabinet with bill_by_email on, one of its
// linked accounts, and that account's newest month.
struct BillRecipient {
    int64_t user_id = 0;
    int64_t link_id = 0;
    std::string office_code;
    std::string office_name;
    std::string account_number;
    std::string period;  // "YYYY-MM"
};

class NotificationStore {
  public:
    virtual ~NotificationStore() = default;

    // The user's choices; every kind without a row is off.
    virtual Result<NotificationPreferences> preferences(int64_t user_id) = 0;
    // Upserts one choice.
    virtual Status set_preference(int64_t user_id, NotificationKind kind, bool enabled,
                                  int64_t now) = 0;

    // Records the notification as enqueued. Answers false, and changes nothing, when it was
    // recorded before: by this process, another worker or another host (the UNIQUE key
    // decides, also between concurrent transactions: the second one waits for the first and
    // then answers false). Meant to run first in the transaction that writes the outbox row.
    virtual Result<bool> record_notification(const NotificationKey& key, int64_t now) = 0;
    virtual Result<bool> notification_recorded(const NotificationKey& key) = 0;

    virtual Status insert_unsubscribe_token(const UnsubscribeToken& token) = 0;
    virtual Result<std::optional<UnsubscribeToken>> find_unsubscribe_token(
        const std::string& hash) = 0;
    virtual Status mark_unsubscribe_token_used(int64_t token_id, int64_t now) = 0;

    // Active cabinets that want the readings reminder, have a linked account with at least one
    // meter, and have no readings notification recorded for `period`; ordered by user id,
    // from after_user_id on, at most limit (a sweep goes through them page by page).
    virtual Result<std::vector<ReminderRecipient>> readings_reminders_due(const std::string& period,
                                                                          int64_t after_user_id,
                                                                          int limit) = 0;

    // The bills a statements import has just made due: for each account whose newest
    // statement was imported at or after imported_since, every active cabinet that has the
    // account linked and bill_by_email on; ordered by link id, from after_link_id on, at most
    // limit. Whether it was mailed before is enqueue_once's answer, not this one's.
    virtual Result<std::vector<BillRecipient>> bill_mails_due(int64_t imported_since,
                                                              int64_t after_link_id, int limit) = 0;
};

// The notification side of a storage backend, or nullptr when it has none.
inline NotificationStore* notification_store_of(Storage& storage) {
    return dynamic_cast<NotificationStore*>(&storage);
}

}  // namespace lkk
