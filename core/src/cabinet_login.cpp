// Logging in and out, and resolving the session cookie of a request (SPEC 2.4, 4).
#include <string>

#include "cabinet_internal.h"
#include "lkk/cabinet.h"
#include "lkk/crypto.h"
#include "lkk/rules.h"

namespace lkk {

using namespace cabinet_detail;

// A fresh id at every login (no session fixation); only its digest is stored, so a copy of
// the database does not let anyone in.
SessionGrant Cabinet::new_session(int64_t user_id, int64_t now) const {
    SessionGrant grant;
    grant.cookie_value = crypto::random_token();
    grant.session.id_hash = crypto::sha256_hex(grant.cookie_value);
    grant.session.user_id = user_id;
    grant.session.csrf = crypto::random_token();
    grant.session.created_at = now;
    grant.session.last_seen_at = now;
    return grant;
}

Status Cabinet::start_session(const SessionGrant& grant) {
    return sessions_.create(grant.session, settings_.sessions.idle_timeout,
                            settings_.sessions.absolute_timeout);
}

// An unknown e-mail must cost the same Argon2 run as a known one, or the response time
// tells an attacker which e-mails have cabinets. The hash is made once, with the
// configured cost.
void Cabinet::dummy_verify(std::string_view password) {
    std::call_once(dummy_once_, [&] {
        auto h = crypto::hash_password("lkk-dummy-password", argon2_params(settings_));
        if (h) dummy_hash_ = *h;
    });
    (void)crypto::verify_password(password, dummy_hash_);
}

namespace {

metrics::LoginResult login_result(Outcome outcome) {
    switch (outcome) {
        case Outcome::ok:
            return metrics::LoginResult::success;
        case Outcome::wrong_credentials:
            return metrics::LoginResult::failure;
        case Outcome::not_confirmed:
            return metrics::LoginResult::not_confirmed;
        case Outcome::throttled:
            return metrics::LoginResult::throttled;
        case Outcome::form_error:
            return metrics::LoginResult::invalid;
        default:
            return metrics::LoginResult::error;
    }
}

}  // namespace

LoginReply Cabinet::login(std::string_view email, std::string_view password,
                          const RequestContext& ctx) {
    LoginReply reply = attempt_login(email, password, ctx);
    metrics::count_login(login_result(reply.outcome));
    return reply;
}

LoginReply Cabinet::attempt_login(std::string_view email, std::string_view password,
                                  const RequestContext& ctx) {
    LoginReply form = with_outcome<LoginReply>(Outcome::form_error);
    std::string canonical;
    if (email.empty()) {
        form.errors.push_back(required("email"));
    } else if (auto n = rules::normalize_email(email); !n) {
        form.errors.push_back(rule_error("email", n.error()));
    } else {
        canonical = *n;
    }
    if (password.empty()) form.errors.push_back(required("password"));
    // Longer than any acceptable password: not worth an Argon2 run.
    if (password.size() > static_cast<size_t>(rules::kMaxPasswordLength) * 4) {
        form.errors.push_back(rule_error("password", rules::RuleError::password_too_long));
    }
    if (!form.errors.empty()) return form;

    const auto& t = settings_.throttle;
    auto counters = login_counters(ctx.ip, canonical);
    if (!counters) return failure<LoginReply>(counters.error());
    if (counters->ip_attempts > t.login_attempts_per_ip) {
        metrics::count_throttled(metrics::ThrottleKind::login_ip);
        LoginReply r = with_outcome<LoginReply>(Outcome::throttled);
        r.retry_after = t.login_ip_window;
        return r;
    }
    if (counters->lock_remaining > 0) {
        metrics::count_throttled(metrics::ThrottleKind::login_email);
        LoginReply r = with_outcome<LoginReply>(Outcome::throttled);
        r.retry_after = counters->lock_remaining;
        return r;
    }

    auto found = storage_.find_user_by_email(canonical);
    if (!found) return failure<LoginReply>(found.error());
    const bool known = *found && (*found)->status != UserStatus::deleted;
    bool password_ok = false;
    if (known) {
        password_ok = crypto::verify_password(password, (*found)->password_hash);
    } else {
        dummy_verify(password);
    }
    if (!password_ok) {
        Status st = record_login_failure(canonical);
        if (!st.ok()) return failure<LoginReply>(st);
        (void)audit(known ? std::optional<int64_t>((*found)->id) : std::nullopt, "login_fail", ctx,
                    known ? "wrong password" : "unknown e-mail");
        return with_outcome<LoginReply>(Outcome::wrong_credentials);
    }
    const User& user = **found;
    if (user.status == UserStatus::blocked) {
        (void)audit(user.id, "login_fail", ctx, "cabinet blocked");
        return with_outcome<LoginReply>(Outcome::wrong_credentials);
    }
    if (user.status == UserStatus::pending) {
        // Saying "not confirmed" is safe here: only the owner of the password learns it.
        (void)audit(user.id, "login_fail", ctx, "e-mail not confirmed");
        LoginReply r = with_outcome<LoginReply>(Outcome::not_confirmed);
        r.user = user;
        return r;
    }

    const auto params = argon2_params(settings_);
    if (crypto::needs_rehash(user.password_hash, params)) {
        auto fresh = crypto::hash_password(password, params);
        if (fresh) (void)storage_.set_password_hash(user.id, *fresh);
    }
    // Nothing to clear after no failure: the usual login writes only its session and audit row.
    if (counters->failures > 0) {
        if (Status st = clear_login_failures(canonical); !st.ok()) return failure<LoginReply>(st);
    }
    SessionGrant grant = new_session(user.id, clock_.now());
    const auto begin = [&]() -> Status {
        if (Status st = start_session(grant); !st.ok()) return st;
        (void)audit(user.id, "login_ok", ctx);
        return Status::Ok();
    };
    // With the sessions in the database, the session and its audit row are one write (one
    // commit, one fsync on MariaDB) instead of two.
    if (Status st = sessions_.in_storage() ? storage_.in_transaction(begin) : begin(); !st.ok())
        return failure<LoginReply>(st);
    LoginReply r;
    r.user = user;
    r.session = std::move(grant);
    return r;
}

Result<std::optional<CurrentSession>> Cabinet::current_session(std::string_view cookie_value) {
    if (!plausible_token(cookie_value)) return std::optional<CurrentSession>{};
    const int64_t now = clock_.now();
    const std::string id_hash = crypto::sha256_hex(cookie_value);
    auto session = sessions_.find(id_hash, now, settings_.sessions.idle_timeout,
                                  settings_.sessions.absolute_timeout);
    if (!session) return session.error();
    if (!*session) return std::optional<CurrentSession>{};
    // From here on this request may read through the cache, under the generation read with the
    // session (Portal::handle turns it off again when the request is over).
    storage_.use_read_cache((*session)->generation);
    auto user = storage_.find_user((*session)->user_id);
    if (!user) return user.error();
    if (!*user || (*user)->status != UserStatus::active) {
        // Blocked or deleted while logged in: the session ends now.
        (void)sessions_.remove(id_hash);
        return std::optional<CurrentSession>{};
    }
    if (now - (*session)->last_seen_at >= kSessionTouchSeconds) {
        if (Status st = sessions_.touch(id_hash, now, settings_.sessions.idle_timeout); !st.ok())
            return st;
        (*session)->last_seen_at = now;
    }
    return std::optional<CurrentSession>(CurrentSession{std::move(**user), std::move(**session)});
}

Reply Cabinet::logout(const Session& session, const RequestContext& ctx) {
    Status st = sessions_.remove(session.id_hash);
    if (!st.ok()) return failure(st);
    (void)audit(session.user_id, "logout", ctx);
    return Reply{};
}

}  // namespace lkk
