// The Notifications service (SPEC 11): the subscriber's choices, the one door every
// notification mail goes through (enqueue_once: once per user, kind, item and month, with its
// unsubscribe link and RFC 8058 headers), and the one-click unsubscribe. The readings
// reminder that uses it is notifications_reminder.cpp.
#include "lkk/notifications.h"

#include <string>
#include <utility>

#include "lkk/audit.h"
#include "lkk/crypto.h"

namespace lkk {

Notifications::Notifications(const Settings& settings, Storage& storage, Clock& clock,
                             const TemplateSet& mail_templates)
    : settings_(settings), storage_(storage), clock_(clock), templates_(mail_templates) {}

Result<NotificationStore*> Notifications::store() {
    NotificationStore* s = notification_store_of(storage_);
    if (s == nullptr) return Status::Unavailable("this storage backend keeps no notifications");
    return s;
}

Result<NotificationPreferences> Notifications::preferences(int64_t user_id) {
    auto s = store();
    if (!s) return s.error();
    return (*s)->preferences(user_id);
}

Status Notifications::save_preferences(int64_t user_id, const NotificationPreferences& prefs,
                                       const RequestContext& ctx) {
    auto s = store();
    if (!s) return s.error();
    const int64_t now = clock_.now();
    return storage_.in_transaction([&]() -> Status {
        std::string detail;
        for (NotificationKind kind : kNotificationKinds) {
            const bool on = prefs.wants(kind);
            if (Status st = (*s)->set_preference(user_id, kind, on, now); !st.ok()) return st;
            if (!detail.empty()) detail += ' ';
            detail += std::string(notification_preference_name(kind)) + (on ? "=on" : "=off");
        }
        return record_audit(storage_, now, subscriber_actor(user_id, ctx.ip), user_id,
                            "notifications", detail);
    });
}

std::string Notifications::unsubscribe_link(const std::string& token) const {
    return settings_.portal.link("/unsubscribe?t=" + token);
}

// The record goes first: a second host racing this one waits on its UNIQUE key until this
// transaction ends, then sees it and writes nothing. The token and the outbox row follow in
// the same transaction, so a refusal or a failure anywhere leaves no trace.
Result<NotifyOutcome> Notifications::enqueue_once(const NotificationKey& key,
                                                  const Compose& compose,
                                                  std::optional<int64_t> expires_at) {
    auto s = store();
    if (!s) return s.error();
    const int64_t now = clock_.now();
    NotifyOutcome outcome = NotifyOutcome::enqueued;
    Status st = storage_.in_transaction([&]() -> Status {
        auto user = storage_.find_user(key.user_id);
        if (!user) return user.error();
        auto prefs = (*s)->preferences(key.user_id);
        if (!prefs) return prefs.error();
        if (!user->has_value() || (*user)->status != UserStatus::active || (*user)->email.empty() ||
            !prefs->wants(key.kind)) {
            outcome = NotifyOutcome::not_wanted;
            return Status::Ok();
        }
        auto recorded = (*s)->record_notification(key, now);
        if (!recorded) return recorded.error();
        if (!*recorded) {
            outcome = NotifyOutcome::already_sent;
            return Status::Ok();
        }
        const std::string raw = crypto::random_token();
        UnsubscribeToken token;
        token.hash = crypto::sha256_hex(raw);
        token.user_id = key.user_id;
        token.kind = key.kind;
        token.created_at = now;
        if (Status t = (*s)->insert_unsubscribe_token(token); !t.ok()) return t;
        const std::string link = unsubscribe_link(raw);
        auto mail = compose(link);
        if (!mail) return mail.error();
        OutboxMail m = std::move(mail.value());
        m.recipient = (*user)->email;
        m.created_at = now;
        m.next_attempt_at = now;
        m.expires_at = expires_at;
        m.headers.emplace_back(notifications::kListUnsubscribe, "<" + link + ">");
        m.headers.emplace_back(notifications::kListUnsubscribePost, notifications::kOneClick);
        auto id = storage_.enqueue_mail(m);
        return id ? Status::Ok() : id.error();
    });
    if (!st.ok()) return st;
    return outcome;
}

namespace {

UnsubscribeReply unsubscribe_failure(const Status& s) {
    UnsubscribeReply r;
    r.outcome = s.code() == StatusCode::unavailable ? UnsubscribeOutcome::unavailable
                                                    : UnsubscribeOutcome::internal;
    r.status = s;
    return r;
}

}  // namespace

UnsubscribeReply Notifications::find_token(std::string_view token,
                                           std::optional<UnsubscribeToken>& found) {
    UnsubscribeReply r;
    if (!crypto::looks_like_token(token)) {
        r.outcome = UnsubscribeOutcome::malformed;
        return r;
    }
    auto s = store();
    if (!s) return unsubscribe_failure(s.error());
    auto t = (*s)->find_unsubscribe_token(crypto::sha256_hex(token));
    if (!t) return unsubscribe_failure(t.error());
    if (!t->has_value()) {
        r.outcome = UnsubscribeOutcome::unknown;
        return r;
    }
    found = std::move(t.value());
    r.kind = found->kind;
    return r;
}

UnsubscribeReply Notifications::check_unsubscribe(std::string_view token) {
    std::optional<UnsubscribeToken> found;
    return find_token(token, found);
}

// Idempotent: a mail client may POST twice, a person may press the button again.
UnsubscribeReply Notifications::unsubscribe(std::string_view token, const RequestContext& ctx) {
    std::optional<UnsubscribeToken> found;
    UnsubscribeReply r = find_token(token, found);
    if (!r.ok()) return r;
    auto s = store();
    if (!s) return unsubscribe_failure(s.error());
    const int64_t now = clock_.now();
    Status st = storage_.in_transaction([&]() -> Status {
        if (Status p = (*s)->set_preference(found->user_id, found->kind, false, now); !p.ok()) {
            return p;
        }
        if (Status u = (*s)->mark_unsubscribe_token_used(found->id, now); !u.ok()) return u;
        return record_audit(storage_, now, subscriber_actor(std::nullopt, ctx.ip), found->user_id,
                            "unsubscribe", std::string(notification_preference_name(found->kind)));
    });
    if (!st.ok()) return unsubscribe_failure(st);
    return r;
}

}  // namespace lkk
