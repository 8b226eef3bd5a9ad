// Changing a password inside the cabinet, and recovering a forgotten one by e-mail.
#include <string>

#include "cabinet_internal.h"
#include "lkk/cabinet.h"
#include "lkk/crypto.h"
#include "lkk/rules.h"

namespace lkk {

using namespace cabinet_detail;

namespace {

// The new password: the policy of SPEC 2.1 and the confirmation typed the same.
void check_new_password(std::string_view password, std::string_view confirm,
                        const std::string& email, int min_length, Reply& form) {
    if (auto bad = rules::check_password(password, email, min_length)) {
        form.errors.push_back(rule_error("password", *bad, min_length));
    } else if (!crypto::constant_time_equal(password, confirm)) {
        form.errors.push_back(
            field_error("password_confirm", "password_mismatch",
                        {"Пароли не совпадают. Введите пароль ещё раз.",
                         "The passwords do not match. Please type the password again."}));
    }
}

}  // namespace

// Ends every session (a thief logged in elsewhere is thrown out) and answers a new one, so
// the person who changed it stays logged in.
ChangePasswordReply Cabinet::change_password(const Session& session, std::string_view old_password,
                                             std::string_view new_password,
                                             std::string_view password_confirm,
                                             const RequestContext& ctx) {
    using R = ChangePasswordReply;
    auto user = storage_.find_user(session.user_id);
    if (!user) return failure<R>(user.error());
    if (!*user || (*user)->status != UserStatus::active) return with_outcome<R>(Outcome::not_found);
    const User& u = **user;

    R form = with_outcome<R>(Outcome::form_error);
    if (old_password.empty()) {
        form.errors.push_back(required("old_password"));
    } else {
        // A stolen session must not become a password-guessing oracle.
        auto throttled =
            at_limit(key_password_change(u.id), settings_.throttle.login_failures_per_email);
        if (!throttled) return failure<R>(throttled.error());
        if (*throttled) {
            metrics::count_throttled(metrics::ThrottleKind::password_change);
            R r = with_outcome<R>(Outcome::throttled);
            r.retry_after = settings_.throttle.login_failure_window;
            return r;
        }
        if (!crypto::verify_password(old_password, u.password_hash)) {
            auto hit = counters_.hit(key_password_change(u.id),
                                     settings_.throttle.login_failure_window, clock_.now());
            if (!hit) return failure<R>(hit.error());
            (void)audit(u.id, "password_change_fail", ctx, "wrong current password");
            form.errors.push_back(
                field_error("old_password", "old_password_wrong",
                            {"Текущий пароль введён неверно.", "The current password is wrong."}));
        }
    }
    check_new_password(new_password, password_confirm, u.email, settings_.passwords.min_length,
                       form);
    if (!form.errors.empty()) return form;

    auto hash = crypto::hash_password(new_password, argon2_params(settings_));
    if (!hash) return failure<R>(hash.error());
    Status st = storage_.in_transaction([&]() -> Status {
        if (Status s = storage_.set_password_hash(u.id, *hash); !s.ok()) return s;
        return audit(u.id, "password_change", ctx);
    });
    if (!st.ok()) return failure<R>(st);
    if (st = sessions_.remove_all_of_user(u.id); !st.ok()) return failure<R>(st);
    (void)counters_.clear(key_password_change(u.id));
    SessionGrant grant = new_session(u.id, clock_.now());
    if (st = start_session(grant); !st.ok()) return failure<R>(st);
    R r;
    r.session = std::move(grant);
    return r;
}

Reply Cabinet::forgot_password(std::string_view email, const RequestContext& ctx) {
    auto user = user_for_mail_request(email, key_forgot, metrics::ThrottleKind::forgot_email);
    if (!user) return user.error();
    if (!*user ||
        ((*user)->status != UserStatus::active && (*user)->status != UserStatus::pending)) {
        return Reply{};
    }
    Status st = storage_.in_transaction([&]() -> Status {
        auto token = issue_token_with_mail(**user, TokenKind::reset, ctx.locale, true);
        if (!token) return token.error();
        return audit((*user)->id, "password_forgot", ctx);
    });
    return st.ok() ? Reply{} : failure(st);
}

// The token and its user, when the token can still be used.
Result<std::optional<std::pair<Token, User>>> Cabinet::usable_reset_token(std::string_view token) {
    using Found = std::optional<std::pair<Token, User>>;
    if (!plausible_token(token)) return Found{};
    auto found = storage_.find_token(TokenKind::reset, crypto::sha256_hex(token));
    if (!found) return found.error();
    if (!*found || (*found)->used_at || clock_.now() >= (*found)->expires_at) return Found{};
    auto user = storage_.find_user((*found)->user_id);
    if (!user) return user.error();
    if (!*user ||
        ((*user)->status != UserStatus::active && (*user)->status != UserStatus::pending)) {
        return Found{};
    }
    return Found{std::make_pair(std::move(**found), std::move(**user))};
}

// Only looks: the GET that shows the form never consumes the link (SPEC 2.3).
Reply Cabinet::check_reset_token(std::string_view token) {
    auto usable = usable_reset_token(token);
    if (!usable) return failure(usable.error());
    return *usable ? Reply{} : with_outcome(Outcome::invalid_token);
}

Reply Cabinet::reset_password(std::string_view token, std::string_view new_password,
                              std::string_view password_confirm, const RequestContext& ctx) {
    auto usable = usable_reset_token(token);
    if (!usable) return failure(usable.error());
    if (!*usable) return with_outcome(Outcome::invalid_token);
    // Plain references, not a structured binding: clang 14 cannot capture those in a lambda.
    const Token& t = (**usable).first;
    const User& user = (**usable).second;

    Reply form = with_outcome(Outcome::form_error);
    check_new_password(new_password, password_confirm, user.email, settings_.passwords.min_length,
                       form);
    if (!form.errors.empty()) return form;

    auto hash = crypto::hash_password(new_password, argon2_params(settings_));
    if (!hash) return failure(hash.error());
    const int64_t now = clock_.now();
    bool lost_race = false;
    Status st = storage_.in_transaction([&]() -> Status {
        // Of two POSTs with one link only the first gets here without a conflict.
        Status s = storage_.mark_token_used(t.id, now);
        if (s.code() == StatusCode::conflict) lost_race = true;
        if (!s.ok()) return s;
        if (s = storage_.set_password_hash(user.id, *hash); !s.ok()) return s;
        if (s = storage_.invalidate_tokens(user.id, TokenKind::reset, now); !s.ok()) return s;
        if (user.status == UserStatus::pending) {
            // Following the mailed link proved the mailbox, as a confirmation link would.
            if (s = storage_.set_user_confirmed(user.id, now); !s.ok()) return s;
        }
        return audit(user.id, "password_reset", ctx);
    });
    if (lost_race) return with_outcome(Outcome::invalid_token);
    if (!st.ok()) return failure(st);
    if (st = sessions_.remove_all_of_user(user.id); !st.ok()) return failure(st);
    // The lock that a forgotten password caused should not outlive the new password.
    (void)counters_.clear(key_login_failures(user.email));
    (void)counters_.clear(key_login_lock(user.email));
    return Reply{};
}

}  // namespace lkk
