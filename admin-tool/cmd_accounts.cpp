// accounts unlink EMAIL OFFICE ACCOUNT | accounts unlock OFFICE ACCOUNT: a linked account
// that should not be in a cabinet, and a billing account locked by failed link attempts.
#include <iostream>
#include <memory>

#include "commands.h"

namespace lkk::admin {

namespace {

struct AccountArgs {
    std::string email;
    std::string office;
    std::string account;
};

Status unlink(AdminContext& ctx, const AccountArgs& a) {
    auto email = ctx.email_argument(a.email);
    if (!email.ok()) return email.error();
    Status s = ctx.support().unlink_account(*email, a.office, a.account);
    if (s.code() == StatusCode::not_found) {
        return Status::NotFound(s.message() + ": see `lkk-admin users show " + *email +
                                "` and `lkk-admin offices list`");
    }
    if (!s.ok()) return ctx.argument_error(s);
    if (ctx.json) {
        ctx.print_json(
            {{"email", *email}, {"office", a.office}, {"account", a.account}, {"unlinked", true}});
    } else {
        std::cout << "account " << a.account << " of office " << a.office << " unlinked from "
                  << *email << "\n";
    }
    return Status::Ok();
}

Status unlock(AdminContext& ctx, const AccountArgs& a) {
    Status s = ctx.support().unlock_account(a.office, a.account);
    if (s.code() == StatusCode::not_found) {
        return Status::NotFound(s.message() +
                                ": see `lkk-admin offices list` and "
                                "`lkk-admin billing show OFFICE ACCOUNT`");
    }
    if (!s.ok()) return ctx.argument_error(s);
    if (ctx.json) {
        ctx.print_json({{"office", a.office}, {"account", a.account}, {"unlocked", true}});
    } else {
        std::cout << "account " << a.account << " of office " << a.office
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
