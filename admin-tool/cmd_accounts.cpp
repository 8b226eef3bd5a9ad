// accounts unlink EMAIL OFFICE ACCOUNT | accounts unlock OFFICE ACCOUNT: a linked account
// that should not be in a cabinet, and a billing account locked by failed link attempts.
#include <iostream>
#include <memory>

#include "commands.h"
#include "lkk/rules.h"

namespace lkk::admin {

namespace {

struct AccountArgs {
    std::string email;
    std::string office;
    std::string account;
};

Result<std::string> account_argument(AdminContext& ctx, const std::string& text) {
    auto number = rules::normalize_account_number(text);
    if (!number.ok()) {
        return ctx.usage("account '" + text +
                         "': " + std::string(rules::message(number.error()).en));
    }
    return number.value();
}

Status require_office(AdminContext& ctx, const std::string& code) {
    auto office = ctx.storage().find_office(code);
    if (!office.ok()) return office.error();
    if (!office->has_value()) {
        return Status::NotFound("office " + code + " not found: see `lkk-admin offices list`");
    }
    return Status::Ok();
}

Status unlink(AdminContext& ctx, const AccountArgs& a) {
    auto email = ctx.email_argument(a.email);
    if (!email.ok()) return email.error();
    auto number = account_argument(ctx, a.account);
    if (!number.ok()) return number.error();
    if (Status s = require_office(ctx, a.office); !s.ok()) return s;
    Status s = ctx.cabinet().admin_unlink(*email, a.office, *number);
    if (s.code() == StatusCode::not_found) {
        return Status::NotFound(
            "account " + *number + " of office " + a.office + " is not linked to " + *email +
            " (or there is no such cabinet): see `lkk-admin users show " + *email + "`");
    }
    if (!s.ok()) return s;
    if (ctx.json) {
        ctx.print_json(
            {{"email", *email}, {"office", a.office}, {"account", *number}, {"unlinked", true}});
    } else {
        std::cout << "account " << *number << " of office " << a.office << " unlinked from "
                  << *email << "\n";
    }
    return Status::Ok();
}

Status unlock(AdminContext& ctx, const AccountArgs& a) {
    auto number = account_argument(ctx, a.account);
    if (!number.ok()) return number.error();
    if (Status s = require_office(ctx, a.office); !s.ok()) return s;
    if (Status s = ctx.cabinet().admin_unlock_account(a.office, *number); !s.ok()) return s;
    if (ctx.json) {
        ctx.print_json({{"office", a.office}, {"account", *number}, {"unlocked", true}});
    } else {
        std::cout << "account " << *number << " of office " << a.office
                  << ": failed link attempts cleared; subscribers may link it again now\n";
    }
    return Status::Ok();
}

}  // namespace

void add_accounts_commands(CLI::App& app, AdminContext& ctx) {
    auto* group = app.add_subcommand("accounts", "personal accounts linked to cabinets");
    group->require_subcommand(1);

    auto ua = std::make_shared<AccountArgs>();
    auto* un = group->add_subcommand("unlink", "remove an account from a cabinet's registry");
    un->add_option("EMAIL", ua->email, "the cabinet's e-mail")->required();
    un->add_option("OFFICE", ua->office, "office code")->required();
    un->add_option("ACCOUNT", ua->account, "account number")->required();
    un->callback([&ctx, ua] { ctx.run([&ctx, ua] { return unlink(ctx, *ua); }); });

    auto la = std::make_shared<AccountArgs>();
    auto* lk = group->add_subcommand("unlock", "clear the failed link attempts of an account");
    lk->add_option("OFFICE", la->office, "office code")->required();
    lk->add_option("ACCOUNT", la->account, "account number")->required();
    lk->callback([&ctx, la] { ctx.run([&ctx, la] { return unlock(ctx, *la); }); });
}

}  // namespace lkk::admin
