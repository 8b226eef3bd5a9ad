// Registration, e-mail confirmation and resending the confirmation link (SPEC 2.1-2.3).
#include <string>

#include "cabinet_internal.h"
#include "lkk/cabinet.h"
#include "lkk/crypto.h"
#include "lkk/rules.h"

namespace lkk {

using namespace cabinet_detail;

namespace {

FieldError password_mismatch() {
    return field_error("password_confirm", "password_mismatch",
                       {"Пароли не совпадают. Введите пароль ещё раз.",
                        "The passwords do not match. Please type the password again."});
}

}  // namespace

// Every field is checked so the form shows all its problems at once, not one per attempt.
Reply Cabinet::register_user(std::string_view email, std::string_view password,
                             std::string_view password_confirm, bool consent_checked,
                             const RequestContext& ctx) {
    Reply form = with_outcome(Outcome::form_error);
    std::string canonical;
    auto normalized = rules::normalize_email(email);
    if (normalized) {
        canonical = *normalized;
    } else {
        form.errors.push_back(rule_error("email", normalized.error()));
    }
    const int min_length = settings_.passwords.min_length;
    if (auto bad = rules::check_password(password, canonical, min_length)) {
        form.errors.push_back(rule_error("password", *bad, min_length));
    } else if (!crypto::constant_time_equal(password, password_confirm)) {
        form.errors.push_back(password_mismatch());
    }
    if (!consent_checked) {
        form.errors.push_back(field_error(
            "consent", "consent_required",
            {"Чтобы зарегистрироваться, нужно дать согласие на обработку персональных данных.",
             "To register, please give your consent to the processing of personal data."}));
    }
    if (!form.errors.empty()) return form;

    auto throttled = over_limit(key_register_ip(ctx.ip), settings_.throttle.register_per_ip,
                                settings_.throttle.register_window);
    if (!throttled) return failure(throttled.error());
    if (*throttled) {
        metrics::count_throttled(metrics::ThrottleKind::register_ip);
        Reply r = with_outcome(Outcome::throttled);
        r.retry_after = settings_.throttle.register_window;
        return r;
    }

    // Hashed before we know whether the e-mail is taken, so both answers cost the same time.
    auto hash = crypto::hash_password(password, argon2_params(settings_));
    if (!hash) return failure(hash.error());

    auto existing = storage_.find_user_by_email(canonical);
    if (!existing) return failure(existing.error());
    if (!*existing) {
        const int64_t now = clock_.now();
        Status st = storage_.in_transaction([&]() -> Status {
            auto id = storage_.insert_user(canonical, *hash, now);
            if (!id) return id.error();
            if (Status s = record_consent(*id, ctx); !s.ok()) return s;
            User user;
            user.id = *id;
            user.email = canonical;
            user.created_at = now;
            auto token = issue_token_with_mail(user, TokenKind::confirm, ctx.locale, true);
            if (!token) return token.error();
            return audit(*id, "register", ctx,
                         "consent version " + settings_.portal.consent_version);
        });
        if (st.ok()) {
            metrics::count_registration();
            return Reply{};
        }
        // A parallel registration of the same e-mail won the unique key (conflict; a MySQL
        // deadlock victim of the same race answers otherwise): when the user now exists,
        // this is simply an e-mail that already has a cabinet.
        existing = storage_.find_user_by_email(canonical);
        if (!existing) return failure(existing.error());
        if (!*existing) return failure(st);
    }
    if ((*existing)->status == UserStatus::pending) {
        auto replaced = replace_pending_registration(**existing, *hash, ctx);
        if (!replaced) return failure(replaced.error());
        if (*replaced) return Reply{};
        // Confirmed a moment ago: from now on this is an e-mail that has a cabinet.
        existing = storage_.find_user_by_email(canonical);
        if (!existing) return failure(existing.error());
        if (!*existing) return Reply{};
    }
    Status st = notify_existing_owner(**existing, ctx);
    return st.ok() ? Reply{} : failure(st);
}

Status Cabinet::record_consent(int64_t user_id, const RequestContext& ctx) {
    Consent consent{user_id, settings_.portal.consent_version, clock_.now(), ctx.ip,
                    ctx.user_agent};
    return storage_.insert_consent(consent);
}

// Nobody may pre-register someone else's address (SPEC 4): whoever registers a still-pending
// e-mail sets its password, and only the link mailed now can confirm it. Every older link is
// marked replaced, so following one says so instead of confirming a password set by someone
// else. Over the per-e-mail mail budget the password and links are still replaced, only no
// mail goes out (the page is the same; the resend form gets a link later).
// Answers false when the cabinet is no longer pending (confirmed meanwhile): nothing changed.
Result<bool> Cabinet::replace_pending_registration(const User& user, const std::string& hash,
                                                   const RequestContext& ctx) {
    auto throttled = over_limit(key_resend(user.email), settings_.throttle.resend_per_email,
                                settings_.throttle.resend_window);
    if (!throttled) return throttled.error();
    const bool send_mail = !*throttled;
    bool replaced = false;
    Status st = storage_.in_transaction([&]() -> Status {
        replaced = false;  // the body may run again (SqlStorage::in_transaction)
        // The first statement locks the cabinet's row, so parallel registrations of one
        // e-mail take their turns instead of deadlocking on the tokens.
        auto pending = storage_.set_pending_password_hash(user.id, hash);
        if (!pending) return pending.error();
        if (!*pending) return Status::Ok();
        replaced = true;
        if (Status s = storage_.replace_tokens(user.id, TokenKind::confirm, clock_.now());
            !s.ok()) {
            return s;
        }
        if (Status s = record_consent(user.id, ctx); !s.ok()) return s;
        if (send_mail) {
            auto token = issue_token_with_mail(user, TokenKind::confirm, ctx.locale, true);
            if (!token) return token.error();
        }
        return audit(user.id, "register_replaced", ctx,
                     send_mail ? "pending password and links replaced, new link mailed"
                               : "pending password and links replaced, no mail: throttled");
    });
    if (!st.ok()) return st;
    return replaced;
}

// The owner of an e-mail that is already registered learns about the attempt by mail; the
// person at the form sees the same answer as for a new e-mail (no enumeration).
Status Cabinet::notify_existing_owner(const User& user, const RequestContext& ctx) {
    if (user.status != UserStatus::active) {
        return audit(user.id, "register_existing", ctx,
                     "no mail: cabinet " + std::string(user_status_name(user.status)));
    }
    auto throttled = over_limit(key_resend(user.email), settings_.throttle.resend_per_email,
                                settings_.throttle.resend_window);
    if (!throttled) return throttled.error();
    if (*throttled) return audit(user.id, "register_existing", ctx, "no mail: throttled");
    return storage_.in_transaction([&]() -> Status {
        Status s = enqueue(user.email, "mail_exists.txt", ctx.locale, login_link(),
                           settings_.tokens.reset_ttl);
        if (!s.ok()) return s;
        return audit(user.id, "register_existing", ctx, "\"you already have a cabinet\" mail");
    });
}

// Mail scanners follow links before people do, so a valid link followed again must still
// answer success; only the first use is recorded.
Reply Cabinet::confirm(std::string_view token, const RequestContext& ctx) {
    if (!plausible_token(token)) return with_outcome(Outcome::invalid_token);
    const int64_t now = clock_.now();
    auto found = storage_.find_token(TokenKind::confirm, crypto::sha256_hex(token));
    if (!found) return failure(found.error());
    if (*found && (*found)->replaced_at) return with_outcome(Outcome::link_replaced);
    if (!*found || now >= (*found)->expires_at) return with_outcome(Outcome::invalid_token);
    const Token& t = **found;
    auto user = storage_.find_user(t.user_id);
    if (!user) return failure(user.error());
    if (!*user || (*user)->status == UserStatus::deleted) {
        return with_outcome(Outcome::invalid_token);
    }
    Status st = storage_.in_transaction([&]() -> Status {
        if ((*user)->status == UserStatus::pending) {
            if (Status s = storage_.set_user_confirmed(t.user_id, now); !s.ok()) return s;
            if (Status s = audit(t.user_id, "confirm", ctx); !s.ok()) return s;
        }
        if (!t.used_at) {
            Status s = storage_.mark_token_used(t.id, now);
            // Another request (the scanner and the person at once) marked it first: fine.
            if (!s.ok() && s.code() != StatusCode::conflict) return s;
        }
        return Status::Ok();
    });
    return st.ok() ? Reply{} : failure(st);
}

Reply Cabinet::resend_confirmation(std::string_view email, const RequestContext& ctx) {
    auto user = user_for_mail_request(email, key_resend, metrics::ThrottleKind::resend_email);
    if (!user) return user.error();
    if (!*user || (*user)->status != UserStatus::pending) return Reply{};
    Status st = storage_.in_transaction([&]() -> Status {
        auto token = issue_token_with_mail(**user, TokenKind::confirm, ctx.locale, true);
        if (!token) return token.error();
        return audit((*user)->id, "resend_confirmation", ctx);
    });
    return st.ok() ? Reply{} : failure(st);
}

}  // namespace lkk
