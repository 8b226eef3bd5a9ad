// Support operations behind lkk-admin (SPEC 7). They act through the same stores as the
// portal, so a running portal sees the effect on its next request.
#include <string>

#include "cabinet_internal.h"
#include "lkk/cabinet.h"
#include "lkk/rules.h"

namespace lkk {

using namespace cabinet_detail;

namespace {
// Audit entries of support actions carry the tool, not an IP.
RequestContext admin_context(const Settings& settings) {
    return RequestContext{"", "lkk-admin", parse_locale(settings.portal.locale)};
}
}  // namespace

Result<User> Cabinet::admin_user(std::string_view email) {
    auto canonical = rules::normalize_email(email);
    if (!canonical) {
        return Status::Invalid(std::string(rules::message(canonical.error()).en));
    }
    auto user = storage_.find_user_by_email(*canonical);
    if (!user) return user.error();
    if (!*user || (*user)->status == UserStatus::deleted) {
        return Status::NotFound("no cabinet with the e-mail " + *canonical);
    }
    return std::move(**user);
}

Status Cabinet::admin_confirm(std::string_view email) {
    auto user = admin_user(email);
    if (!user) return user.error();
    if (user->status != UserStatus::pending) {
        return Status::Invalid("the cabinet is " + std::string(user_status_name(user->status)) +
                               ", not waiting for confirmation");
    }
    return storage_.in_transaction([&]() -> Status {
        if (Status s = storage_.set_user_confirmed(user->id, clock_.now()); !s.ok()) return s;
        return audit(user->id, "admin_confirm", admin_context(settings_));
    });
}

Status Cabinet::admin_resend(std::string_view email) {
    auto user = admin_user(email);
    if (!user) return user.error();
    if (user->status != UserStatus::pending) {
        return Status::Invalid("the cabinet is " + std::string(user_status_name(user->status)) +
                               ": the e-mail is already confirmed");
    }
    const RequestContext ctx = admin_context(settings_);
    return storage_.in_transaction([&]() -> Status {
        auto token = issue_token_with_mail(*user, TokenKind::confirm, ctx.locale, true);
        if (!token) return token.error();
        return audit(user->id, "admin_resend", ctx);
    });
}

Result<std::string> Cabinet::admin_reset_link(std::string_view email, bool send_mail) {
    auto user = admin_user(email);
    if (!user) return user.error();
    if (user->status == UserStatus::blocked) {
        return Status::Invalid("the cabinet is blocked: unblock it first");
    }
    const RequestContext ctx = admin_context(settings_);
    std::string link;
    Status st = storage_.in_transaction([&]() -> Status {
        auto token = issue_token_with_mail(*user, TokenKind::reset, ctx.locale, send_mail);
        if (!token) return token.error();
        link = reset_link(*token);
        return audit(user->id, "admin_reset_password", ctx,
                     send_mail ? "reset link mailed" : "reset link printed");
    });
    if (!st.ok()) return st;
    return link;
}

Status Cabinet::admin_logout(std::string_view email) {
    auto user = admin_user(email);
    if (!user) return user.error();
    if (Status s = sessions_.remove_all_of_user(user->id); !s.ok()) return s;
    return audit(user->id, "admin_logout", admin_context(settings_));
}

Status Cabinet::admin_unlock(std::string_view email) {
    auto user = admin_user(email);
    if (!user) return user.error();
    for (const std::string& key :
         {key_login_failures(user->email), key_login_lock(user->email),
          key_login_locks(user->email), key_link_user(user->id), key_password_change(user->id)}) {
        if (Status s = counters_.clear(key); !s.ok()) return s;
    }
    return audit(user->id, "admin_unlock", admin_context(settings_));
}

Status Cabinet::admin_unlock_account(std::string_view office_code,
                                     std::string_view account_number) {
    auto number = rules::normalize_account_number(account_number);
    if (!number) return Status::Invalid(std::string(rules::message(number.error()).en));
    auto account = storage_.find_billing_account(std::string(office_code), *number);
    if (!account) return account.error();
    if (!*account) {
        return Status::NotFound("no billing account " + *number + " in office " +
                                std::string(office_code));
    }
    if (Status s = counters_.clear(key_link_account(office_code, *number)); !s.ok()) return s;
    return audit(std::nullopt, "admin_unlock_account", admin_context(settings_),
                 "office " + std::string(office_code) + " account " + *number);
}

Status Cabinet::admin_block(std::string_view email) {
    auto user = admin_user(email);
    if (!user) return user.error();
    Status st = storage_.in_transaction([&]() -> Status {
        if (Status s = storage_.set_user_status(user->id, UserStatus::blocked); !s.ok()) return s;
        return audit(user->id, "admin_block", admin_context(settings_));
    });
    if (!st.ok()) return st;
    return sessions_.remove_all_of_user(user->id);
}

Status Cabinet::admin_unblock(std::string_view email) {
    auto user = admin_user(email);
    if (!user) return user.error();
    if (user->status != UserStatus::blocked) {
        return Status::Invalid("the cabinet is " + std::string(user_status_name(user->status)) +
                               ", not blocked");
    }
    const UserStatus back = user->confirmed_at ? UserStatus::active : UserStatus::pending;
    return storage_.in_transaction([&]() -> Status {
        if (Status s = storage_.set_user_status(user->id, back); !s.ok()) return s;
        return audit(user->id, "admin_unblock", admin_context(settings_));
    });
}

// The audit trail keeps the user id and the events, but nothing that names the person.
Status Cabinet::admin_delete(std::string_view email) {
    auto user = admin_user(email);
    if (!user) return user.error();
    if (Status s = sessions_.remove_all_of_user(user->id); !s.ok()) return s;
    Status st = storage_.in_transaction([&]() -> Status {
        if (Status s = storage_.erase_user(user->id); !s.ok()) return s;
        return audit(user->id, "admin_delete", admin_context(settings_));
    });
    if (!st.ok()) return st;
    for (const std::string& key :
         {key_login_failures(user->email), key_login_lock(user->email),
          key_login_locks(user->email), key_resend(user->email), key_forgot(user->email),
          key_link_user(user->id), key_password_change(user->id)}) {
        (void)counters_.clear(key);
    }
    return Status::Ok();
}

Status Cabinet::admin_unlink(std::string_view email, std::string_view office_code,
                             std::string_view account_number) {
    auto user = admin_user(email);
    if (!user) return user.error();
    auto number = rules::normalize_account_number(account_number);
    if (!number) return Status::Invalid(std::string(rules::message(number.error()).en));
    auto links = storage_.list_links(user->id);
    if (!links) return links.error();
    for (const auto& l : *links) {
        if (l.office.code == office_code && l.account.account_number == *number) {
            Status st = storage_.in_transaction([&]() -> Status {
                if (Status s = storage_.delete_link(user->id, l.link_id); !s.ok()) return s;
                return audit(user->id, "admin_unlink", admin_context(settings_),
                             "office " + l.office.code + " account " + *number);
            });
            return st;
        }
    }
    return Status::NotFound("account " + *number + " of office " + std::string(office_code) +
                            " is not linked to this cabinet");
}

Result<LockInfo> Cabinet::admin_lock_info(std::string_view email) {
    auto user = admin_user(email);
    if (!user) return user.error();
    const int64_t now = clock_.now();
    LockInfo info;
    auto failures = counters_.count(key_login_failures(user->email), now);
    if (!failures) return failures.error();
    info.login_failures = *failures;
    auto lock = counters_.count(key_login_lock(user->email), now);
    if (!lock) return lock.error();
    info.login_locked = *lock > 0;
    auto locks = counters_.count(key_login_locks(user->email), now);
    if (!locks) return locks.error();
    info.login_locks = *locks;
    auto links = counters_.count(key_link_user(user->id), now);
    if (!links) return links.error();
    info.link_failures = *links;
    return info;
}

}  // namespace lkk
