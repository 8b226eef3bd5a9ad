// Support work on subscribers' cabinets, their linked accounts and billing accounts: what support
// staff do when a subscriber writes to the support mailbox. The rules are the portal's (Cabinet
// issues the tokens and mails, cabinet_internal.h names the throttle counters), the actor is
// support.
#include <string>
#include <utility>

#include "cabinet_internal.h"
#include "lkk/cabinet.h"
#include "lkk/rules.h"
#include "lkk/support.h"

namespace lkk {

using namespace cabinet_detail;

namespace {

Status not_in_state(const User& user, std::string_view expected) {
    return Status::Conflict("the cabinet is " + std::string(user_status_name(user.status)) +
                            ", not " + std::string(expected));
}

Result<std::string> account_number_of(std::string_view text) {
    auto number = rules::normalize_account_number(text);
    if (!number) {
        return Status::Invalid("account '" + std::string(text) +
                               "': " + std::string(rules::message(number.error()).en));
    }
    return std::move(*number);
}

}  // namespace

Result<User> Support::user_of(std::string_view email) {
    auto canonical = rules::normalize_email(email);
    if (!canonical) {
        return Status::Invalid("'" + std::string(email) + "' is not an e-mail address: " +
                               std::string(rules::message(canonical.error()).en));
    }
    auto user = storage_.find_user_by_email(*canonical);
    if (!user) return user.error();
    if (!*user || (*user)->status == UserStatus::deleted) {
        return Status::NotFound("no cabinet with e-mail " + *canonical);
    }
    return std::move(**user);
}

Result<User> Support::reread(const User& user) {
    auto fresh = storage_.find_user(user.id);
    if (!fresh) return fresh.error();
    if (!*fresh) return Status::NotFound("the cabinet " + std::to_string(user.id) + " is gone");
    return std::move(**fresh);
}

Result<std::vector<User>> Support::find_users(std::string_view text, int limit) {
    return storage_.search_users(std::string(text), limit);
}

Result<LockInfo> Support::lock_info(std::string_view email) {
    auto user = user_of(email);
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

Result<UserReport> Support::show_user(std::string_view email, int audit_rows) {
    auto user = user_of(email);
    if (!user) return user.error();
    UserReport report;
    auto links = storage_.list_links(user->id);
    if (!links) return links.error();
    auto locks = lock_info(user->email);
    if (!locks) return locks.error();
    // Looking at a person's data is itself worth a line in the audit log; written first so
    // the report shows it too.
    if (Status s = audit(user->id, "admin_users_show"); !s.ok()) return s;
    auto recent = storage_.recent_audit(user->id, audit_rows);
    if (!recent) return recent.error();
    report.user = std::move(*user);
    report.links = std::move(*links);
    report.locks = *locks;
    report.recent = std::move(*recent);
    return report;
}

Result<User> Support::changed(const User& user, const std::function<Status()>& change,
                              std::string event) {
    Status st = storage_.in_transaction([&]() -> Status {
        if (Status s = change(); !s.ok()) return s;
        return audit(user.id, std::move(event));
    });
    if (!st.ok()) return st;
    return reread(user);
}

Result<User> Support::confirm_user(std::string_view email) {
    auto user = user_of(email);
    if (!user) return user.error();
    if (user->status != UserStatus::pending) return not_in_state(*user, "waiting for confirmation");
    return changed(
        *user, [&] { return storage_.set_user_confirmed(user->id, clock_.now()); },
        "admin_confirm");
}

Result<User> Support::resend_confirmation(std::string_view email) {
    auto user = user_of(email);
    if (!user) return user.error();
    if (user->status != UserStatus::pending) {
        return Status::Conflict("the cabinet is " + std::string(user_status_name(user->status)) +
                                ": the e-mail is already confirmed");
    }
    return changed(
        *user,
        [&]() -> Status {
            auto token = cabinet_->issue_token_with_mail(
                *user, TokenKind::confirm, parse_locale(settings_.portal.locale), true);
            return token ? Status::Ok() : token.error();
        },
        "admin_resend");
}

Result<std::string> Support::reset_password(std::string_view email, bool send_mail) {
    auto user = user_of(email);
    if (!user) return user.error();
    if (user->status == UserStatus::blocked) {
        return Status::Conflict("the cabinet is blocked: unblock it first");
    }
    std::string link;
    Status st = storage_.in_transaction([&]() -> Status {
        auto token = cabinet_->issue_token_with_mail(
            *user, TokenKind::reset, parse_locale(settings_.portal.locale), send_mail);
        if (!token) return token.error();
        link = cabinet_->reset_link(*token);
        return audit(user->id, "admin_reset_password",
                     send_mail ? "reset link mailed" : "reset link printed");
    });
    if (!st.ok()) return st;
    return link;
}

Result<User> Support::logout_user(std::string_view email) {
    auto user = user_of(email);
    if (!user) return user.error();
    if (Status s = sessions_.remove_all_of_user(user->id); !s.ok()) return s;
    if (Status s = audit(user->id, "admin_logout"); !s.ok()) return s;
    return reread(*user);
}

Result<User> Support::unlock_user(std::string_view email) {
    auto user = user_of(email);
    if (!user) return user.error();
    for (const std::string& key :
         {key_login_failures(user->email), key_login_lock(user->email),
          key_login_locks(user->email), key_link_user(user->id), key_password_change(user->id)}) {
        if (Status s = counters_.clear(key); !s.ok()) return s;
    }
    if (Status s = audit(user->id, "admin_unlock"); !s.ok()) return s;
    return reread(*user);
}

Result<User> Support::block_user(std::string_view email) {
    auto user = user_of(email);
    if (!user) return user.error();
    auto blocked = changed(
        *user, [&] { return storage_.set_user_status(user->id, UserStatus::blocked); },
        "admin_block");
    if (!blocked) return blocked;
    if (Status s = sessions_.remove_all_of_user(user->id); !s.ok()) return s;
    return blocked;
}

Result<User> Support::unblock_user(std::string_view email) {
    auto user = user_of(email);
    if (!user) return user.error();
    if (user->status != UserStatus::blocked) return not_in_state(*user, "blocked");
    const UserStatus back = user->confirmed_at ? UserStatus::active : UserStatus::pending;
    return changed(
        *user, [&] { return storage_.set_user_status(user->id, back); }, "admin_unblock");
}

// The audit trail keeps the user id and the events, but nothing that names the person.
Result<User> Support::delete_user(std::string_view email) {
    auto user = user_of(email);
    if (!user) return user.error();
    if (Status s = sessions_.remove_all_of_user(user->id); !s.ok()) return s;
    Status st = storage_.in_transaction([&]() -> Status {
        if (Status s = storage_.erase_user(user->id); !s.ok()) return s;
        return audit(user->id, "admin_delete");
    });
    if (!st.ok()) return st;
    for (const std::string& key :
         {key_login_failures(user->email), key_login_lock(user->email),
          key_login_locks(user->email), key_resend(user->email), key_forgot(user->email),
          key_link_user(user->id), key_password_change(user->id)}) {
        (void)counters_.clear(key);
    }
    return std::move(*user);
}

Status Support::unlink_account(std::string_view email, std::string_view office_code,
                               std::string_view account_number) {
    auto number = account_number_of(account_number);
    if (!number) return number.error();
    auto office = office_of(office_code);
    if (!office) return office.error();
    auto user = user_of(email);
    if (!user) return user.error();
    auto links = storage_.list_links(user->id);
    if (!links) return links.error();
    for (const auto& l : *links) {
        if (l.office.code == office->code && l.account.account_number == *number) {
            return storage_.in_transaction([&]() -> Status {
                if (Status s = storage_.delete_link(user->id, l.link_id); !s.ok()) return s;
                return audit(user->id, "admin_unlink",
                             "office " + l.office.code + " account " + *number);
            });
        }
    }
    return Status::NotFound("account " + *number + " of office " + office->code +
                            " is not linked to " + user->email);
}

Result<BillingAccountReport> Support::billing_account(std::string_view office_code,
                                                      std::string_view account_number) {
    auto number = account_number_of(account_number);
    if (!number) return number.error();
    auto office = office_of(office_code);
    if (!office) return office.error();
    auto found = storage_.find_billing_account(office->code, *number);
    if (!found) return found.error();
    if (!*found) {
        return Status::NotFound("no billing account " + *number + " in office " + office->code);
    }
    BillingAccountReport r;
    r.account = std::move(**found);
    r.office = std::move(*office);
    r.expected_amount = cabinet_->expected_amount(r.account);
    return r;
}

Status Support::unlock_account(std::string_view office_code, std::string_view account_number) {
    auto found = billing_account(office_code, account_number);
    if (!found) return found.error();
    const BillingAccount& a = found->account;
    if (Status s = counters_.clear(key_link_account(a.office_code, a.account_number)); !s.ok()) {
        return s;
    }
    return audit(std::nullopt, "admin_unlock_account",
                 "office " + a.office_code + " account " + a.account_number);
}

}  // namespace lkk
