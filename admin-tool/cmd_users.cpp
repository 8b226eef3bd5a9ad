// users find | show | confirm | resend | reset-password | unlock | logout | block | unblock |
// delete: what support staff do when a subscriber writes to the support mailbox.
// The operations are the Support service's (the portal's rules, audited there as
// "admin_<name>" with the OS user and host); this file parses and prints.
#include <iostream>
#include <memory>

#include "commands.h"
#include "table.h"

namespace lkk::admin {

namespace {

struct UserArgs {
    std::string text;  // EMAIL, or TEXT for find
    bool print_link = false;
    int limit = 50;
};

Status no_such_user(const std::string& email) {
    return Status::NotFound("no cabinet with e-mail " + email +
                            ": look it up with `lkk-admin users find PART-OF-EMAIL`");
}

// Support answers not_found for an unknown e-mail; everything else keeps its message.
Status explain(const Status& s, const std::string& email) {
    if (s.code() == StatusCode::not_found) return no_such_user(email);
    return s;
}

nlohmann::json user_json(const User& u) {
    return {{"id", u.id},
            {"email", u.email},
            {"status", std::string(user_status_name(u.status))},
            {"created_at", format_time(u.created_at)},
            {"confirmed_at",
             u.confirmed_at ? nlohmann::json(format_time(*u.confirmed_at)) : nlohmann::json()}};
}

Status find(AdminContext& ctx, const UserArgs& a) {
    auto users = ctx.support().find_users(a.text, a.limit);
    if (!users.ok()) return users.error();
    if (ctx.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& u : users.value()) out.push_back(user_json(u));
        ctx.print_json(out);
        return Status::Ok();
    }
    if (users->empty()) {
        std::cout << "no cabinet's e-mail contains '" << a.text << "'\n";
        return Status::Ok();
    }
    Table t({"ID", "EMAIL", "STATUS", "CREATED (UTC)", "CONFIRMED (UTC)"});
    for (const auto& u : users.value()) {
        t.add({std::to_string(u.id), u.email, std::string(user_status_name(u.status)),
               format_time(u.created_at), u.confirmed_at ? format_time(*u.confirmed_at) : "-"});
    }
    t.print(std::cout);
    if (static_cast<int>(users->size()) == a.limit) {
        std::cout << "(first " << a.limit << " shown: narrow the search or raise --limit)\n";
    }
    return Status::Ok();
}

Status show(AdminContext& ctx, const UserArgs& a) {
    auto email = ctx.email_argument(a.text);
    if (!email.ok()) return email.error();
    auto report = ctx.support().show_user(*email);
    if (!report.ok()) return explain(report.error(), *email);
    const User& user = report->user;
    const std::vector<LinkedAccount>& links = report->links;
    const LockInfo& locks = report->locks;
    const std::vector<AuditEvent>& events = report->recent;

    if (ctx.json) {
        nlohmann::json j = user_json(user);
        nlohmann::json jl = nlohmann::json::array();
        for (const auto& l : links) {
            jl.push_back({{"link_id", l.link_id},
                          {"office", l.account.office_code},
                          {"account", l.account.account_number},
                          {"surname", l.account.surname},
                          {"linked_at", format_time(l.linked_at)}});
        }
        j["links"] = jl;
        j["locks"] = {{"login_failures", locks.login_failures},
                      {"login_locked", locks.login_locked},
                      {"login_locks", locks.login_locks},
                      {"link_failures", locks.link_failures}};
        nlohmann::json ja = nlohmann::json::array();
        for (const auto& e : events) {
            ja.push_back(audit_event_json(e));
        }
        j["audit"] = ja;
        ctx.print_json(j);
        return Status::Ok();
    }
    print_fields(
        std::cout,
        {{"user", std::to_string(user.id) + "  " + user.email},
         {"status", std::string(user_status_name(user.status))},
         {"created", format_time(user.created_at) + " UTC"},
         {"confirmed", user.confirmed_at ? format_time(*user.confirmed_at) + " UTC" : "not yet"},
         {"login failures",
          std::to_string(locks.login_failures) + (locks.login_locked ? " (LOCKED: `lkk-admin users "
                                                                       "unlock` lifts it)"
                                                                     : "")},
         {"link failures", std::to_string(locks.link_failures)}});
    std::cout << "\nlinked accounts:\n";
    if (links.empty()) {
        std::cout << "  none\n";
    } else {
        Table t({"  OFFICE", "ACCOUNT", "SURNAME", "LINKED (UTC)"});
        for (const auto& l : links) {
            t.add({"  " + l.account.office_code, l.account.account_number, l.account.surname,
                   format_time(l.linked_at)});
        }
        t.print(std::cout);
    }
    std::cout << "\nrecent audit events:\n";
    if (events.empty()) {
        std::cout << "  none\n";
    } else {
        Table t({"  AT (UTC)", "EVENT", "BY", "DETAIL"});
        for (const auto& e : events) {
            t.add({"  " + format_time(e.at), e.event, describe_actor(e.actor),
                   e.detail.empty() ? "-" : e.detail});
        }
        t.print(std::cout);
    }
    return Status::Ok();
}

// The shape shared by the one-line operations: normalise the e-mail, call Support, say what
// happened in a sentence (or a small JSON object with the cabinet's status after it).
using SupportOp = Result<User> (Support::*)(std::string_view);

void add_simple(CLI::App& group, AdminContext& ctx, const std::string& name,
                const std::string& help, SupportOp op, std::string done) {
    auto args = std::make_shared<UserArgs>();
    auto* cmd = group.add_subcommand(name, help);
    cmd->add_option("EMAIL", args->text, "the cabinet's e-mail")->required();
    cmd->callback([&ctx, args, op, name, done] {
        ctx.run([&ctx, args, op, name, done]() -> Status {
            auto email = ctx.email_argument(args->text);
            if (!email.ok()) return email.error();
            auto user = (ctx.support().*op)(*email);
            if (!user.ok()) return explain(user.error(), *email);
            if (ctx.json) {
                ctx.print_json({{"email", *email},
                                {"done", name},
                                {"status", std::string(user_status_name(user->status))}});
            } else {
                std::cout << *email << ": " << done << "\n";
            }
            return Status::Ok();
        });
    });
}

Status reset_password(AdminContext& ctx, const UserArgs& a) {
    auto email = ctx.email_argument(a.text);
    if (!email.ok()) return email.error();
    auto link = ctx.support().reset_password(*email, !a.print_link);
    if (!link.ok()) return explain(link.error(), *email);
    const auto valid_minutes = ctx.settings().tokens.reset_ttl / 60;
    if (ctx.json) {
        nlohmann::json j = {
            {"email", *email}, {"mailed", !a.print_link}, {"valid_minutes", valid_minutes}};
        if (a.print_link) j["link"] = *link;
        ctx.print_json(j);
    } else if (a.print_link) {
        // The link alone on stdout, so `$(lkk-admin users reset-password X --print-link)` works.
        std::cout << *link << "\n";
        std::cerr << "give this link to " << *email << " only: it sets a new password once and "
                  << "expires in " << valid_minutes << " min; no mail was sent\n";
    } else {
        std::cout << *email << ": a password reset mail is queued (the portal sends it within "
                  << "seconds; `lkk-admin outbox flush` sends it now); the link expires in "
                  << valid_minutes << " min\n";
    }
    return Status::Ok();
}

Status remove_user(AdminContext& ctx, const UserArgs& a) {
    auto email = ctx.email_argument(a.text);
    if (!email.ok()) return email.error();
    auto user = ctx.support().delete_user(*email);
    if (!user.ok()) return explain(user.error(), *email);
    if (ctx.json) {
        ctx.print_json({{"email", *email}, {"user_id", user->id}, {"status", "deleted"}});
    } else {
        std::cout << *email << ": deleted; the e-mail, password, consent details and linked "
                  << "accounts are erased; the audit trail keeps only user id " << user->id << "\n";
    }
    return Status::Ok();
}

}  // namespace

void add_users_commands(CLI::App& app, AdminContext& ctx) {
    auto* group = app.add_subcommand("users", "subscribers' cabinets");
    group->require_subcommand(1);

    auto fa = std::make_shared<UserArgs>();
    auto* find_cmd = group->add_subcommand("find", "find cabinets whose e-mail contains TEXT");
    find_cmd->add_option("TEXT", fa->text, "part of the e-mail")->required();
    find_cmd->add_option("--limit", fa->limit, "at most this many (default 50)")
        ->check(CLI::Range(1, 100000));
    find_cmd->callback([&ctx, fa] { ctx.run([&ctx, fa] { return find(ctx, *fa); }); });

    auto sa = std::make_shared<UserArgs>();
    auto* show_cmd = group->add_subcommand(
        "show", "status, linked accounts, locks and recent audit of one cabinet");
    show_cmd->add_option("EMAIL", sa->text, "the cabinet's e-mail")->required();
    show_cmd->callback([&ctx, sa] { ctx.run([&ctx, sa] { return show(ctx, *sa); }); });

    add_simple(*group, ctx, "confirm", "confirm a cabinet whose confirmation mail never arrived",
               &Support::confirm_user, "confirmed; the subscriber can log in now");
    add_simple(*group, ctx, "resend", "send a fresh confirmation link",
               &Support::resend_confirmation,
               "a new confirmation mail is queued (the portal sends it within seconds; "
               "`lkk-admin outbox flush` sends it now)");
    add_simple(*group, ctx, "unlock", "lift the login lock and the link failure count",
               &Support::unlock_user,
               "login and link locks cleared; the subscriber may try again now");
    add_simple(*group, ctx, "logout", "end every session of the cabinet", &Support::logout_user,
               "every session ended; the next page they open asks them to log in");
    add_simple(*group, ctx, "block", "stop the cabinet from logging in (ends its sessions)",
               &Support::block_user,
               "blocked: cannot log in, sessions ended (`lkk-admin users unblock` undoes it)");
    add_simple(*group, ctx, "unblock", "let a blocked cabinet log in again", &Support::unblock_user,
               "unblocked; the subscriber can log in again");

    auto ra = std::make_shared<UserArgs>();
    auto* reset_cmd = group->add_subcommand(
        "reset-password", "mail a password reset link (or print it with --print-link)");
    reset_cmd->add_option("EMAIL", ra->text, "the cabinet's e-mail")->required();
    reset_cmd->add_flag("--print-link", ra->print_link,
                        "print the link instead of mailing it (it works once)");
    reset_cmd->callback([&ctx, ra] { ctx.run([&ctx, ra] { return reset_password(ctx, *ra); }); });

    auto da = std::make_shared<UserArgs>();
    auto* delete_cmd = group->add_subcommand(
        "delete", "erase the cabinet's personal data (keeps an anonymised audit trail)");
    delete_cmd->add_option("EMAIL", da->text, "the cabinet's e-mail")->required();
    delete_cmd->callback([&ctx, da] { ctx.run([&ctx, da] { return remove_user(ctx, *da); }); });
}

}  // namespace lkk::admin
