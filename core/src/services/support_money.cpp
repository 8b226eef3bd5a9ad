// Support work on money (SPEC 10): lkk-admin statements import and payments import. The
// Statements service does the work; this file adds the support actor's audit rows.
#include "lkk/statements.h"
#include "lkk/support.h"

namespace lkk {

Result<CsvImportReport> Support::import_statements(
    std::istream& in, const CsvImportOptions& options, std::string_view source,
    const std::function<void(const CsvImportProgress&)>& progress) {
    return audited_import("admin_statements_import", source, options.dry_run,
                          statements_->import_statements(in, options, progress));
}

Result<CsvImportReport> Support::import_payments(
    std::istream& in, const CsvImportOptions& options, std::string_view source,
    const std::function<void(const CsvImportProgress&)>& progress) {
    return audited_import("admin_payments_import", source, options.dry_run,
                          statements_->import_payments(in, options, progress));
}

}  // namespace lkk
