// The Bills service (SPEC 10, and the bill_by_email mail of SPEC 11): a month of a registry row
// gathered from the stores (the office and its requisites, the statement, the meters'
// readings) into bill::BillFacts, which lkk/bill.h words, encodes and prints. It knows nothing
// of HTTP; every operation is thread-safe and blocking (database): call it from the thread
// pool or lkk-admin. Nothing throws.
#pragma once

#include <cstdint>
#include <string>

#include "lkk/bill.h"
#include "lkk/clock.h"
#include "lkk/locale.h"
#include "lkk/notification_store.h"
#include "lkk/settings.h"
#include "lkk/statements.h"
#include "lkk/status.h"
#include "lkk/storage.h"
#include "lkk/templates.h"

namespace lkk {

// What one round of bill mails did (Bills::mail_new_bills).
struct BillMailReport {
    int64_t enqueued = 0;      // written to the outbox now
    int64_t already_sent = 0;  // mailed before (a re-import, another host)
    int64_t failed = 0;        // this cabinet's mail could not be written (logged)
};

class Bills {
  public:
    // All references must outlive the service.
    Bills(const Settings& settings, Storage& storage, Clock& clock);

    // The bill of a month ("YYYY-MM") of a registry row of this cabinet. not_found for
    // another cabinet's row (or an unlinked one), a malformed month, a month without a
    // statement, and an office whose payment requisites are not set.
    Result<bill::BillFacts> facts(int64_t user_id, int64_t link_id, const std::string& period);

    // The same bill as a PDF (bill::render_pdf) in the portal's language.
    Result<std::string> pdf(int64_t user_id, int64_t link_id, const std::string& period,
                            Locale locale);

    // ---- the bill by mail (SPEC 10, 11; bills_mail.cpp) ----
    // After a statements import: the bill of each account's newest month imported at or
    // after `imported_since` goes to every active cabinet that has the account linked and
    // bill_by_email on, through Notifications::enqueue_once (kind bill, item "OFFICE/ACCOUNT",
    // the month): once per user, account and month, whichever host or re-import tries again,
    // with the RFC 8058 unsubscribe headers. The mail carries the PDF as an attachment source
    // that render_attachment() turns into the PDF when the outbox sends it.
    Result<BillMailReport> mail_new_bills(int64_t imported_since);
    // The outbox's AttachmentRenderer for bills ("bill/<user>/<link>/<YYYY-MM>"): the PDF from
    // the stores as they are now. not_found when the account was unlinked or its office lost
    // its requisites since; invalid_argument for a source that is not a bill's.
    Result<std::string> render_attachment(const MailAttachment& attachment, Locale locale);

  private:
    Result<bill::BillFacts> facts_of(const AccountMonth& month);
    Result<OutboxMail> bill_mail(const TemplateSet& templates, const BillRecipient& recipient,
                                 const std::string& unsubscribe_link);

    const Settings& settings_;
    Storage& storage_;
    Clock& clock_;
    Statements statements_;
};

}  // namespace lkk
