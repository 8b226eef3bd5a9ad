// The SQL backends' queries for notifications (NotificationStore, SPEC 11). Every value is a
// bound parameter; the preference upsert is the one statement the backends spell differently
// (SqlDialect::upsert_preference).
#include <algorithm>
#include <string>
#include <vector>

#include "sql_query.h"
#include "sql_storage.h"

namespace lkk {

namespace {

using db::Connection;
using db::Row;

UnsubscribeToken read_unsubscribe_token(const Row& r) {
    UnsubscribeToken t;
    t.id = r.integer(0);
    t.hash = r.text(1);
    t.user_id = r.integer(2);
    t.kind = notification_kind_from(r.text(3)).value_or(NotificationKind::readings);
    t.created_at = r.integer(4);
    t.used_at = r.nullable(5);
    return t;
}

}  // namespace

std::string_view notification_kind_name(NotificationKind kind) {
    return kind == NotificationKind::bill ? "bill" : "readings";
}

std::optional<NotificationKind> notification_kind_from(std::string_view name) {
    for (NotificationKind k : kNotificationKinds) {
        if (notification_kind_name(k) == name) return k;
    }
    return std::nullopt;
}

std::string_view notification_preference_name(NotificationKind kind) {
    return kind == NotificationKind::bill ? "bill_by_email" : "remind_readings";
}

Result<NotificationPreferences> SqlStorage::preferences(int64_t user_id) {
    return with_connection([&](Connection& c) -> Result<NotificationPreferences> {
        NotificationPreferences p;
        Status s = c.query("SELECT kind, enabled FROM notification_preferences WHERE user_id = ?",
                           {user_id}, [&](const Row& r) {
                               if (auto kind = notification_kind_from(r.text(0)))
                                   p.set(*kind, r.integer(1) != 0);
                           });
        if (!s.ok()) return s;
        return p;
    });
}

Status SqlStorage::set_preference(int64_t user_id, NotificationKind kind, bool enabled,
                                  int64_t now) {
    return with_connection([&](Connection& c) -> Status {
        auto r = c.exec(
            "INSERT INTO notification_preferences (user_id, kind, enabled, updated_at) "
            "VALUES (?, ?, ?, ?) " +
                std::string(dialect_.upsert_preference),
            {user_id, notification_kind_name(kind), int64_t{enabled ? 1 : 0}, now});
        return r ? Status::Ok() : r.error();
    });
}

// A plain INSERT rather than INSERT IGNORE: only the UNIQUE key's refusal means "sent
// before"; any other failure (a missing user, the server gone) stays an error.
Result<bool> SqlStorage::record_notification(const NotificationKey& key, int64_t now) {
    return with_connection([&](Connection& c) -> Result<bool> {
        auto r = c.exec(
            "INSERT INTO sent_notifications (user_id, kind, item_key, period, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            {key.user_id, notification_kind_name(key.kind), key.item, key.period, now});
        if (r) return true;
        if (r.error().code() == StatusCode::conflict) return false;
        return r.error();
    });
}

Result<bool> SqlStorage::notification_recorded(const NotificationKey& key) {
    return with_connection([&](Connection& c) -> Result<bool> {
        auto n = db::scalar(c,
                            "SELECT count(*) FROM sent_notifications WHERE user_id = ? AND "
                            "kind = ? AND item_key = ? AND period = ?",
                            {key.user_id, notification_kind_name(key.kind), key.item, key.period});
        if (!n) return n.error();
        return *n > 0;
    });
}

Status SqlStorage::insert_unsubscribe_token(const UnsubscribeToken& t) {
    return with_connection([&](Connection& c) -> Status {
        auto r = c.exec(
            "INSERT INTO unsubscribe_tokens (hash, user_id, kind, created_at) VALUES (?, ?, ?, ?)",
            {t.hash, t.user_id, notification_kind_name(t.kind), t.created_at});
        return r ? Status::Ok() : r.error();
    });
}

Result<std::optional<UnsubscribeToken>> SqlStorage::find_unsubscribe_token(
    const std::string& hash) {
    return with_connection([&](Connection& c) {
        return db::find_one<UnsubscribeToken>(
            c,
            "SELECT id, hash, user_id, kind, created_at, used_at FROM unsubscribe_tokens "
            "WHERE hash = ?",
            {hash}, read_unsubscribe_token);
    });
}

Status SqlStorage::mark_unsubscribe_token_used(int64_t token_id, int64_t now) {
    return with_connection([&](Connection& c) {
        return db::one_row(
            c.exec("UPDATE unsubscribe_tokens SET used_at = ? WHERE id = ?", {now, token_id}),
            "no such unsubscribe token");
    });
}

// One indexed pass: the preference rows of the kind, each checked for a meter behind its
// links and for this month's record. Paged by user id, so a sweep of many cabinets is many
// short queries.
Result<std::vector<ReminderRecipient>> SqlStorage::readings_reminders_due(const std::string& period,
                                                                          int64_t after_user_id,
                                                                          int limit) {
    return with_connection([&](Connection& c) {
        return db::find_all<ReminderRecipient>(
            c,
            "SELECT u.id, u.email FROM notification_preferences p "
            "JOIN users u ON u.id = p.user_id "
            "WHERE p.kind = 'readings' AND p.enabled = 1 AND p.user_id > ? "
            "AND u.status = 'active' "
            "AND EXISTS (SELECT 1 FROM links l JOIN meters m "
            "ON m.billing_account_id = l.billing_account_id WHERE l.user_id = u.id) "
            "AND NOT EXISTS (SELECT 1 FROM sent_notifications s WHERE s.user_id = u.id "
            "AND s.kind = 'readings' AND s.item_key = '' AND s.period = ?) "
            "ORDER BY p.user_id LIMIT ?",
            {after_user_id, period, int64_t{std::max(limit, 0)}}, [](const Row& r) {
                return ReminderRecipient{r.integer(0), r.text(1)};
            });
    });
}

// Only an account's newest month: a statements file that also carries older months (billing's
// corrections, a history load) mails nothing for them.
Result<std::vector<BillRecipient>> SqlStorage::bill_mails_due(int64_t imported_since,
                                                              int64_t after_link_id, int limit) {
    return with_connection([&](Connection& c) {
        return db::find_all<BillRecipient>(
            c,
            "SELECT l.user_id, l.id, a.office_code, o.name, a.account_number, s.period "
            "FROM statements s "
            "JOIN billing_accounts a ON a.id = s.billing_account_id "
            "JOIN offices o ON o.code = a.office_code "
            "JOIN links l ON l.billing_account_id = s.billing_account_id "
            "JOIN users u ON u.id = l.user_id "
            "JOIN notification_preferences p ON p.user_id = l.user_id "
            "WHERE s.imported_at >= ? AND l.id > ? AND u.status = 'active' "
            "AND p.kind = 'bill' AND p.enabled = 1 "
            "AND s.period = (SELECT MAX(n.period) FROM statements n "
            "WHERE n.billing_account_id = s.billing_account_id) "
            "ORDER BY l.id LIMIT ?",
            {imported_since, after_link_id, int64_t{std::max(limit, 0)}}, [](const Row& r) {
                return BillRecipient{r.integer(0), r.integer(1), r.text(2),
                                     r.text(3),    r.text(4),    r.text(5)};
            });
    });
}

}  // namespace lkk
