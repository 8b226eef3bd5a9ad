// One round of outbox delivery, run by the module's background timer (and lkk-admin outbox
// flush). The outbox row is the source of truth: a mail leaves the outbox only once the
// transport accepted it, and a failure only moves its next attempt further away.
#include <chrono>
#include <exception>
#include <string>
#include <vector>

#include "lkk/log.h"
#include "lkk/mailer.h"
#include "lkk/metrics.h"

namespace lkk {

namespace {

// Worst case of one SMTP send (libcurl's total timeout) plus a margin for marking the row.
constexpr int64_t kSendBudgetSeconds = 35;

// A Mailer that throws must not stop the round nor escape into nginx.
Status send_guarded(Mailer& mailer, const OutboxMail& mail) {
    try {
        return mailer.send(mail);
    } catch (const std::exception& e) {
        return Status::Internal(std::string("mailer threw: ") + e.what());
    } catch (...) {
        return Status::Internal("mailer threw");
    }
}

// Fills in the content of the mail's attachments. not_found and invalid_argument mean the
// mail can never be completed (its caller gives it up); anything else may pass.
Status render_attachments(const AttachmentRenderer& render, OutboxMail& mail) {
    for (MailAttachment& a : mail.attachments) {
        if (!a.content.empty()) continue;
        if (!render) return Status::Unavailable("no renderer for attachment " + a.source);
        Result<std::string> content = Status::Internal("attachment renderer threw");
        try {
            content = render(a);
        } catch (...) {
        }
        if (!content) {
            return Status(content.error().code(),
                          "attachment " + a.source + ": " + content.error().message());
        }
        a.content = std::move(content.value());
    }
    return Status::Ok();
}

}  // namespace

DeliveryPolicy delivery_policy(const Settings& settings) {
    DeliveryPolicy policy;
    policy.max_age = settings.mail.max_age;
    return policy;
}

int64_t mail_expiry(const DeliveryPolicy& policy, const OutboxMail& mail) {
    return mail.expires_at ? *mail.expires_at : mail.created_at + policy.max_age;
}

int64_t outbox_backoff(const DeliveryPolicy& policy, int attempts) {
    const int64_t cap = policy.max_backoff > 0 ? policy.max_backoff : 0;
    int64_t delay = policy.base_backoff > 0 ? policy.base_backoff : 1;
    for (int i = 0; i < attempts && delay < cap; ++i) delay *= 2;
    return delay < cap ? delay : cap;
}

int deliver_outbox(Storage& storage, Mailer& mailer, int64_t now, const DeliveryPolicy& policy,
                   const AttachmentRenderer& render) noexcept {
    int sent = 0;
    try {
        Result<std::vector<OutboxMail>> claimed =
            storage.claim_due_mails(now, policy.batch, policy.lease);
        if (!claimed) return 0;
        const auto started = std::chrono::steady_clock::now();
        bool first = true;
        // Failures are recorded after the round, so that a delivery that succeeded (the
        // server is back) makes the mails that failed before this round due, not these.
        struct Failure {
            const OutboxMail* mail;
            Status status;
            bool give_up;
        };
        std::vector<Failure> failures;
        for (OutboxMail& mail : *claimed) {
            // Past the lease another host may claim these same rows: leave the rest to be
            // claimed again when the lease ends, rather than risk sending a mail twice.
            const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::steady_clock::now() - started)
                                     .count();
            if (!first && elapsed + kSendBudgetSeconds > policy.lease) break;
            first = false;

            if (now >= mail_expiry(policy, mail)) {
                // Its link no longer works, or it waited max_age: sending it now only confuses.
                failures.push_back(
                    {&mail, Status::Invalid("expired before it could be sent"), true});
                continue;
            }
            if (Status rendered = render_attachments(render, mail); !rendered.ok()) {
                const bool never = rendered.code() == StatusCode::not_found ||
                                   rendered.code() == StatusCode::invalid_argument;
                failures.push_back({&mail, rendered, never});
                continue;
            }
            const Status st = send_guarded(mailer, mail);
            if (st.ok()) {
                ++sent;
                metrics::count_mail(metrics::MailResult::sent);
                // When this fails the lease expires and the mail goes out again: a duplicate
                // is better than a lost confirmation link.
                (void)storage.mark_mail_sent(mail.id, now);
                continue;
            }
            // A mail that can never be built (a bad address) is not retried.
            failures.push_back({&mail, st, st.code() == StatusCode::invalid_argument});
        }
        if (sent > 0) (void)storage.expedite_waiting_mails(now);
        for (const Failure& f : failures) {
            const OutboxMail& mail = *f.mail;
            metrics::count_mail(f.give_up ? metrics::MailResult::given_up
                                          : metrics::MailResult::failed);
            (void)storage.mark_mail_failed(mail.id, f.status.message(),
                                           now + outbox_backoff(policy, mail.attempts), f.give_up);
            log(f.give_up ? LogLevel::error : LogLevel::warn,
                "mail " + std::to_string(mail.id) + (f.give_up ? " given up" : " not sent yet") +
                    " (attempt " + std::to_string(mail.attempts + 1) + "): " + f.status.message());
        }
    } catch (...) {
        // Storage implementations do not throw; this only keeps the noexcept promise.
    }
    return sent;
}

}  // namespace lkk
