// stats: how the portal is used, at a glance (COUNT queries: cheap on any size).
#include <iostream>

#include "commands.h"
#include "table.h"

namespace lkk::admin {

namespace {

Status stats(AdminContext& ctx) {
    auto s = ctx.support().stats();
    if (!s.ok()) return s.error();
    const UserCounts& u = s->users;
    const MailCounts& m = s->outbox;
    if (ctx.json) {
        ctx.print_json(
            {{"users",
              {{"pending", u.pending},
               {"active", u.active},
               {"blocked", u.blocked},
               {"deleted", u.deleted}}},
             {"users_total", u.total()},
             {"links", s->links},
             {"billing_accounts", s->billing_accounts},
             {"offices", s->offices},
             {"outbox", {{"pending", m.pending}, {"failed", m.failed}, {"sent", m.sent}}}});
        return Status::Ok();
    }
    Table t({"WHAT", "COUNT"});
    t.add({"users", std::to_string(u.total())});
    t.add({"  active", std::to_string(u.active)});
    t.add({"  blocked", std::to_string(u.blocked)});
    t.add({"  deleted", std::to_string(u.deleted)});
    t.add({"  pending", std::to_string(u.pending)});
    t.add({"linked accounts", std::to_string(s->links)});
    t.add({"billing accounts", std::to_string(s->billing_accounts)});
    t.add({"offices", std::to_string(s->offices)});
    t.add({"mails pending", std::to_string(m.pending)});
    t.add({"mails failed", std::to_string(m.failed)});
    t.add({"mails sent", std::to_string(m.sent)});
    t.print(std::cout);
    if (m.failed > 0) {
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
