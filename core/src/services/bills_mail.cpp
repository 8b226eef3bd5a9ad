// The bill by mail (SPEC 10 and 11): after a statements import, each new month's bill goes to
// the cabinets that asked for it (bill_by_email), through the notifications' one door
// (Notifications::enqueue_once: once per user, account and month across hosts and re-imports,
// with the RFC 8058 unsubscribe headers). The PDF itself is rendered when the outbox sends the
// mail (render_attachment), from the stores as they are then:
//   - the outbox keeps no blobs: a month's import for 100,000 subscribers would otherwise write
//     some 5 GB of PDF into the database (and every Galera node) only to delete it;
//   - the import stays an import: lkk-admin does not spend minutes rendering before it returns;
//     the renders are spread over the portal's delivery rounds in the thread pool;
//   - a bill corrected by a re-import before the mail leaves goes out corrected, and a bill of
//     an account unlinked in the meantime does not go out at all.
#include <charconv>
#include <utility>

#include "lkk/bills.h"
#include "lkk/log.h"
#include "lkk/notifications.h"
#include "lkk/readings.h"
#include "lkk/templates.h"

namespace lkk {

namespace {

constexpr int kRecipientsPerPage = 500;
constexpr std::string_view kBillSource = "bill/";

std::string bill_source(const BillRecipient& r) {
    return std::string(kBillSource) + std::to_string(r.user_id) + "/" + std::to_string(r.link_id) +
           "/" + r.period;
}

// "bill/<user>/<link>/<YYYY-MM>" back into its parts; false for anything else.
bool parse_bill_source(std::string_view s, int64_t& user_id, int64_t& link_id,
                       std::string& period) {
    if (s.substr(0, kBillSource.size()) != kBillSource) return false;
    s.remove_prefix(kBillSource.size());
    auto number = [&s](int64_t& out) {
        const size_t slash = s.find('/');
        if (slash == std::string_view::npos) return false;
        auto [end, ec] = std::from_chars(s.data(), s.data() + slash, out);
        if (ec != std::errc() || end != s.data() + slash || out <= 0) return false;
        s.remove_prefix(slash + 1);
        return true;
    };
    if (!number(user_id) || !number(link_id)) return false;
    period = std::string(s);
    return statements::parse_period(period).ok();
}

}  // namespace

Result<OutboxMail> Bills::bill_mail(const TemplateSet& templates, const BillRecipient& r,
                                    const std::string& unsubscribe_link) {
    TemplateData data(TemplateData::type::object);
    put(data, "month", readings::dotted_month(r.period));
    put(data, "account", r.account_number);
    put(data, "office", r.office_name);
    put(data, "bill_link",
        settings_.portal.link("/accounts/" + std::to_string(r.link_id) + "/bill/" + r.period));
    put(data, "settings_link", settings_.portal.link("/settings"));
    put(data, "unsubscribe_link", unsubscribe_link);
    put(data, "support_email", settings_.portal.support_email);
    auto text = templates.render_mail("mail_bill.txt", data);
    if (!text) return text.error();
    OutboxMail m;
    m.subject = text->subject;
    m.body_text = text->body;
    m.attachments.push_back(
        {bill_source(r), bill::pdf_file_name(r.account_number, r.period), "application/pdf", {}});
    return m;
}

Result<BillMailReport> Bills::mail_new_bills(int64_t imported_since) {
    NotificationStore* store = notification_store_of(storage_);
    if (store == nullptr) return Status::Unavailable("this storage keeps no notifications");
    auto templates =
        TemplateSet::load(parse_locale(settings_.portal.locale), settings_.portal.templates_dir);
    if (!templates) return templates.error();
    Notifications notifications(settings_, storage_, clock_, *templates);
    BillMailReport report;
    int64_t after = 0;
    for (;;) {
        auto due = store->bill_mails_due(imported_since, after, kRecipientsPerPage);
        if (!due) return due.error();
        for (const BillRecipient& r : *due) {
            after = r.link_id;
            NotificationKey key;
            key.user_id = r.user_id;
            key.kind = NotificationKind::bill;
            key.item = r.office_code + "/" + r.account_number;
            key.period = r.period;
            auto outcome = notifications.enqueue_once(
                key, [&](const std::string& link) { return bill_mail(*templates, r, link); });
            if (!outcome) {
                // The database is gone: the rest cannot go either. Anything else is this
                // cabinet's alone.
                if (outcome.error().code() == StatusCode::unavailable) return outcome.error();
                log(LogLevel::warn, "bill mail of " + key.item + " " + r.period + " to cabinet " +
                                        std::to_string(r.user_id) + ": " +
                                        outcome.error().message());
                ++report.failed;
                continue;
            }
            switch (*outcome) {
                case NotifyOutcome::enqueued:
                    ++report.enqueued;
                    break;
                case NotifyOutcome::already_sent:
                    ++report.already_sent;
                    break;
                case NotifyOutcome::not_wanted:
                    break;
            }
        }
        if (static_cast<int>(due->size()) < kRecipientsPerPage) break;
    }
    return report;
}

Result<std::string> Bills::render_attachment(const MailAttachment& attachment, Locale locale) {
    int64_t user_id = 0;
    int64_t link_id = 0;
    std::string period;
    if (!parse_bill_source(attachment.source, user_id, link_id, period)) {
        return Status::Invalid("unknown attachment source '" + attachment.source + "'");
    }
    return pdf(user_id, link_id, period, locale);
}

}  // namespace lkk
