// outbox list | retry ID | flush: the mails the portal queued (confirmation, reset, ...).
#include <iostream>
#include <memory>
#include <optional>

#include "commands.h"
#include "table.h"

namespace lkk::admin {

namespace {

struct OutboxArgs {
    int limit = 50;
    std::string state;  // "", pending, sent, failed
    int64_t id = 0;
};

// When the mail goes out (or went): what support staff ask first when a subscriber says the
// mail never came.
std::string next_try(const OutboxEntry& e) {
    switch (e.mail.state) {
        case MailState::sent:
            return "sent " + format_time(e.mail.sent_at);
        case MailState::failed:
            return "given up";
        case MailState::pending:
            break;
    }
    const int64_t in = e.next_attempt_in.value_or(0);
    if (in <= 0) return "now";
    return "in " + format_duration(in) + " (" + format_time(e.mail.next_attempt_at) + ")";
}

Status list(AdminContext& ctx, const OutboxArgs& a) {
    std::optional<MailState> state;
    if (a.state == "pending") {
        state = MailState::pending;
    } else if (a.state == "sent") {
        state = MailState::sent;
    } else if (a.state == "failed") {
        state = MailState::failed;
    } else if (!a.state.empty()) {
        return ctx.usage("--state " + a.state + ": use pending, sent or failed");
    }
    auto shown = ctx.support().outbox(a.limit, state);
    if (!shown.ok()) return shown.error();
    if (ctx.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& e : *shown) {
            const OutboxMail& m = e.mail;
            out.push_back(
                {{"id", m.id},
                 {"recipient", m.recipient},
                 {"subject", m.subject},
                 {"state", std::string(mail_state_name(m.state))},
                 {"attempts", m.attempts},
                 {"created_at", format_time(m.created_at)},
                 {"age_seconds", e.age},
                 {"next_attempt_at", m.state == MailState::pending
                                         ? nlohmann::json(format_time(m.next_attempt_at))
                                         : nlohmann::json()},
                 {"next_attempt_in_seconds",
                  e.next_attempt_in ? nlohmann::json(*e.next_attempt_in) : nlohmann::json()},
                 {"sent_at", format_time(m.sent_at)},
                 {"last_error", m.last_error}});
        }
        ctx.print_json(out);
        return Status::Ok();
    }
    if (shown->empty()) {
        std::cout << "no mails" << (a.state.empty() ? "" : " in state " + a.state) << "\n";
        return Status::Ok();
    }
    Table t({"ID", "STATE", "TRIES", "AGE", "NEXT TRY", "TO", "SUBJECT", "LAST ERROR"});
    for (const auto& e : *shown) {
        const OutboxMail& m = e.mail;
        t.add({std::to_string(m.id), std::string(mail_state_name(m.state)),
               std::to_string(m.attempts), format_duration(e.age), next_try(e), m.recipient,
               m.subject, m.last_error.empty() ? "-" : m.last_error});
    }
    t.print(std::cout);
    return Status::Ok();
}

Status retry(AdminContext& ctx, const OutboxArgs& a) {
    Status s = ctx.support().retry_mail(a.id);
    if (s.code() == StatusCode::not_found) {
        return Status::NotFound(s.message() + ": see `lkk-admin outbox list`");
    }
    if (!s.ok()) return s;
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
    auto r = ctx.support().flush_outbox();
    if (!r.ok()) return r.error();
    const MailCounts& left = r->after;
    if (ctx.json) {
        ctx.print_json({{"sent", r->sent}, {"pending", left.pending}, {"failed", left.failed}});
    } else {
        std::cout << "sent: " << r->sent << "  still pending: " << left.pending
                  << "  failed: " << left.failed << "\n";
        if (left.pending > 0) {
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
