// Support work on money (SPEC 10): lkk-admin statements import and payments import. The
// Statements service does the work; this file adds the support actor's audit rows.
#include "lkk/bills.h"
#include "lkk/statements.h"
#include "lkk/support.h"

namespace lkk {

Result<CsvImportReport> Support::import_statements(
    std::istream& in, const CsvImportOptions& options, std::string_view source,
    const std::function<void(const CsvImportProgress&)>& progress) {
    const int64_t started = clock_.now();
    auto report = audited_import("admin_statements_import", source, options.dry_run,
                                 statements_->import_statements(in, options, progress));
    if (!report || !report->committed) return report;
    auto mailed = bills_->mail_new_bills(started);
    if (!mailed) {
        return Status(mailed.error().code(),
                      "the statements are imported, but their bill mails could not be queued: " +
                          mailed.error().message());
    }
    report->mails = mailed->enqueued;
    return report;
}

Result<CsvImportReport> Support::import_payments(
    std::istream& in, const CsvImportOptions& options, std::string_view source,
    const std::function<void(const CsvImportProgress&)>& progress) {
    return audited_import("admin_payments_import", source, options.dry_run,
                          statements_->import_payments(in, options, progress));
}

}  // namespace lkk
