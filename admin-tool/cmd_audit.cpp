// audit [--since DURATION] [--user EMAIL] [--action NAME]: the audit log, newest first, one
// row at a time as the Support service reads it (a long log never sits in memory, and the
// first rows show at once). Argument parsing and printing only.
#include <iostream>
#include <memory>

#include "commands.h"
#include "table.h"

namespace lkk::admin {

namespace {

struct AuditArgs {
    CLI::Option* since_option = nullptr;  // given at all (--since "" is a mistake too)
    std::string since;
    std::string user;
    std::string action;
};

// Pads a cell to width characters (Cyrillic counts one), with two spaces after it: the
// columns line up without holding every row to measure them.
std::string cell(const std::string& text, size_t width) {
    const size_t w = display_width(text);
    return text + std::string(w < width ? width - w : 0, ' ') + "  ";
}

Status audit(AdminContext& ctx, const AuditArgs& a) {
    AuditQuery query;
    if (a.since_option->count() > 0) {
        auto seconds = parse_duration(a.since);
        if (!seconds.ok() || *seconds <= 0) {
            return ctx.usage("--since '" + a.since +
                             "' is not a duration: use a number with s, m, h or d, like 30m, "
                             "24h or 7d");
        }
        query.within = *seconds;
    }
    if (!a.user.empty()) {
        auto email = ctx.email_argument(a.user);
        if (!email.ok()) return email.error();
        query.email = *email;
    }
    query.event = a.action;

    bool any = false;
    const auto print = [&](const AuditEvent& e) -> Status {
        if (ctx.json) {
            if (!any) ctx.begin_json_array();
            ctx.json_element(audit_event_json(e));
        } else {
            if (!any) {
                std::cout << cell("AT (UTC)", 19) << cell("EVENT", 20) << cell("USER", 7)
                          << cell("BY", 34) << "DETAIL\n";
            }
            std::cout << cell(format_time(e.at), 19) << cell(e.event, 20)
                      << cell(e.user_id ? std::to_string(*e.user_id) : "-", 7)
                      << cell(describe_actor(e.actor), 34) << (e.detail.empty() ? "-" : e.detail)
                      << "\n";
        }
        any = true;
        return Status::Ok();
    };
    Status s = ctx.support().read_audit(query, print);
    if (!s.ok()) {
        if (s.code() == StatusCode::not_found) {
            return Status::NotFound(s.message() +
                                    ": look it up with `lkk-admin users find PART-OF-EMAIL`");
        }
        return ctx.argument_error(s);
    }
    if (ctx.json) {
        if (!any) ctx.begin_json_array();
        ctx.end_json_array();
    } else if (!any) {
        std::cout << "no audit rows match\n";
    }
    return Status::Ok();
}

}  // namespace

void add_audit_command(CLI::App& app, AdminContext& ctx) {
    auto args = std::make_shared<AuditArgs>();
    auto* cmd = app.add_subcommand(
        "audit", "the audit log, newest first (every change, login and admin action)");
    args->since_option =
        cmd->add_option("--since", args->since, "only the last DURATION: 30m, 24h, 7d, 1h30m");
    cmd->add_option("--user", args->user, "only rows about the cabinet with this e-mail");
    cmd->add_option("--action", args->action,
                    "only this event: login_fail, link_ok, admin_block, ...");
    cmd->callback([&ctx, args] { ctx.run([&ctx, args] { return audit(ctx, *args); }); });
}

}  // namespace lkk::admin
