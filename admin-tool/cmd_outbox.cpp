// outbox list | retry ID | flush: the mails the portal queued (confirmation, reset, ...).
#include <iostream>
#include <memory>

#include "commands.h"
#include "lkk/mailer.h"
#include "table.h"

namespace lkk::admin {

namespace {

struct OutboxArgs {
    int limit = 50;
    std::string state;  // "", pending, sent, failed
    int64_t id = 0;
};

Status list(AdminContext& ctx, const OutboxArgs& a) {
    if (!a.state.empty() && a.state != "pending" && a.state != "sent" && a.state != "failed") {
        return ctx.usage("--state " + a.state + ": use pending, sent or failed");
    }
    // The filter is applied to the newest mails, so read more than shown when filtering.
    auto mails = ctx.storage().list_outbox(a.state.empty() ? a.limit : a.limit * 20);
    if (!mails.ok()) return mails.error();
    std::vector<OutboxMail> shown;
    for (auto& m : mails.value()) {
        if (!a.state.empty() && mail_state_name(m.state) != a.state) continue;
        if (static_cast<int>(shown.size()) >= a.limit) break;
        shown.push_back(std::move(m));
    }
    if (ctx.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& m : shown) {
            out.push_back({{"id", m.id},
                           {"recipient", m.recipient},
                           {"subject", m.subject},
                           {"state", std::string(mail_state_name(m.state))},
                           {"attempts", m.attempts},
                           {"created_at", format_time(m.created_at)},
                           {"next_attempt_at", format_time(m.next_attempt_at)},
                           {"sent_at", format_time(m.sent_at)},
                           {"last_error", m.last_error}});
        }
        ctx.print_json(out);
        return Status::Ok();
    }
    if (shown.empty()) {
        std::cout << "no mails" << (a.state.empty() ? "" : " in state " + a.state) << "\n";
        return Status::Ok();
    }
    Table t({"ID", "STATE", "TRIES", "CREATED (UTC)", "NEXT TRY / SENT", "TO", "SUBJECT",
             "LAST ERROR"});
    for (const auto& m : shown) {
        t.add({std::to_string(m.id), std::string(mail_state_name(m.state)), std::to_string(m.attempts),
               format_time(m.created_at),
               m.state == MailState::sent ? format_time(m.sent_at) : format_time(m.next_attempt_at),
               m.recipient, m.subject, m.last_error.empty() ? "-" : m.last_error});
    }
    t.print(std::cout);
    return Status::Ok();
}

Status retry(AdminContext& ctx, const OutboxArgs& a) {
    Status s = ctx.storage().retry_mail(a.id, ctx.now());
    if (s.code() == StatusCode::not_found) {
        return Status::NotFound("no mail " + std::to_string(a.id) +
                                " in the outbox: see `lkk-admin outbox list`");
    }
    if (s.code() == StatusCode::conflict) {
        return Status::Conflict("mail " + std::to_string(a.id) +
                                " was already sent; it is not sent twice");
    }
    if (!s.ok()) return s;
    if (Status au = ctx.audit("admin_outbox_retry", "mail " + std::to_string(a.id)); !au.ok()) {
        return au;
    }
    if (ctx.json) {
        ctx.print_json({{"id", a.id}, {"state", "pending"}});
    } else {
        std::cout << "mail " << a.id << " is due again: the portal sends it within seconds "
                  << "(`lkk-admin outbox flush` sends it now)\n";
    }
    return Status::Ok();
}

// Delivers every due mail now, with the same rules as the portal's timer (claims with a
// lease, so a running portal never sends the same mail twice).
Status flush(AdminContext& ctx) {
    auto mailer = open_mailer(ctx.settings().mail.url, ctx.settings().mail.from);
    if (!mailer.ok()) {
        return Status(mailer.error().code(), "cannot open mail " +
                                                 without_password(ctx.settings().mail.url) + ": " +
                                                 mailer.error().message());
    }
    DeliveryPolicy policy;
    policy.max_attempts = ctx.settings().mail.max_attempts;
    int sent = 0;
    for (int round = 0; round < 10000; ++round) {
        const int n = deliver_outbox(ctx.storage(), *mailer.value(), ctx.now(), policy);
        sent += n;
        if (n == 0) break;
    }
    int pending = 0;
    int failed = 0;
    auto mails = ctx.storage().list_outbox(100000);
    if (!mails.ok()) return mails.error();
    for (const auto& m : mails.value()) {
        if (m.state == MailState::pending) ++pending;
        if (m.state == MailState::failed) ++failed;
    }
    if (Status s = ctx.audit("admin_outbox_flush", std::to_string(sent) + " sent"); !s.ok()) {
        return s;
    }
    if (ctx.json) {
        ctx.print_json({{"sent", sent}, {"pending", pending}, {"failed", failed}});
    } else {
        std::cout << "sent: " << sent << "  still pending: " << pending << "  failed: " << failed
                  << "\n";
        if (pending > 0) {
            std::cout << "pending mails wait for their next try (see `lkk-admin outbox list "
                         "--state pending`: LAST ERROR says why)\n";
        }
    }
    return Status::Ok();
}

}  // namespace

void add_outbox_commands(CLI::App& app, AdminContext& ctx) {
    auto* group = app.add_subcommand("outbox", "mails queued by the portal");
    group->require_subcommand(1);

    auto la = std::make_shared<OutboxArgs>();
    auto* ls = group->add_subcommand("list", "the newest mails");
    ls->add_option("--limit", la->limit, "at most this many (default 50)")
        ->check(CLI::Range(1, 100000));
    ls->add_option("--state", la->state, "only pending, sent or failed mails");
    ls->callback([&ctx, la] { ctx.run([&ctx, la] { return list(ctx, *la); }); });

    auto ra = std::make_shared<OutboxArgs>();
    auto* rt = group->add_subcommand("retry", "send a failed or waiting mail again, now");
    rt->add_option("ID", ra->id, "mail id from `outbox list`")->required();
    rt->callback([&ctx, ra] { ctx.run([&ctx, ra] { return retry(ctx, *ra); }); });

    group->add_subcommand("flush", "deliver every due mail now")->callback([&ctx] {
        ctx.run([&ctx] { return flush(ctx); });
    });
}

}  // namespace lkk::admin
