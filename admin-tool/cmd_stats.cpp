// stats: how the portal is used, at a glance.
#include <iostream>
#include <map>

#include "commands.h"
#include "table.h"

namespace lkk::admin {

namespace {

// Storage offers no aggregate queries, so users and mails are tallied from their listings;
// the cap keeps memory bounded on a huge installation (the figure then says "at least").
constexpr int kTallyCap = 1'000'000;

Status stats(AdminContext& ctx) {
    auto users = ctx.storage().search_users("", kTallyCap);
    if (!users.ok()) return users.error();
    std::map<std::string, int64_t> by_status = {
        {"pending", 0}, {"active", 0}, {"blocked", 0}, {"deleted", 0}};
    for (const auto& u : users.value()) ++by_status[std::string(user_status_name(u.status))];
    auto links = ctx.storage().count_links();
    if (!links.ok()) return links.error();
    auto accounts = ctx.storage().count_billing_accounts();
    if (!accounts.ok()) return accounts.error();
    auto offices = ctx.storage().list_offices();
    if (!offices.ok()) return offices.error();
    auto mails = ctx.storage().list_outbox(kTallyCap);
    if (!mails.ok()) return mails.error();
    int64_t pending = 0;
    int64_t failed = 0;
    int64_t sent = 0;
    for (const auto& m : mails.value()) {
        if (m.state == MailState::pending) ++pending;
        if (m.state == MailState::failed) ++failed;
        if (m.state == MailState::sent) ++sent;
    }
    const auto user_total = static_cast<int64_t>(users->size());
    if (ctx.json) {
        ctx.print_json({{"users", by_status},
                        {"users_total", user_total},
                        {"links", links.value()},
                        {"billing_accounts", accounts.value()},
                        {"offices", offices->size()},
                        {"outbox", {{"pending", pending}, {"failed", failed}, {"sent", sent}}}});
        return Status::Ok();
    }
    Table t({"WHAT", "COUNT"});
    t.add({"users", std::to_string(user_total)});
    for (const auto& [status, n] : by_status) t.add({"  " + status, std::to_string(n)});
    t.add({"linked accounts", std::to_string(links.value())});
    t.add({"billing accounts", std::to_string(accounts.value())});
    t.add({"offices", std::to_string(offices->size())});
    t.add({"mails pending", std::to_string(pending)});
    t.add({"mails failed", std::to_string(failed)});
    t.add({"mails sent", std::to_string(sent)});
    t.print(std::cout);
    if (failed > 0) {
        std::cout << "failed mails: see `lkk-admin outbox list --state failed`, then "
                     "`lkk-admin outbox retry ID`\n";
    }
    return Status::Ok();
}

}  // namespace

void add_stats_command(CLI::App& app, AdminContext& ctx) {
    app.add_subcommand("stats", "users by status, links, billing accounts, outbox")
        ->callback([&ctx] { ctx.run([&ctx] { return stats(ctx); }); });
}

}  // namespace lkk::admin
