// Support work on meters and readings (SPEC 9): lkk-admin meters import | list | remove and
// readings export. The Readings service does the work; this file adds the support actor's
// audit rows and the office checks a command line needs.
#include "lkk/readings.h"
#include "lkk/support.h"

namespace lkk {

Result<CsvImportReport> Support::import_meters(
    std::istream& in, const CsvImportOptions& options, std::string_view source,
    const std::function<void(const CsvImportProgress&)>& progress) {
    return audited_import("admin_meters_import", source, options.dry_run,
                          readings_->import_meters(in, options, progress));
}

Result<std::vector<MeterRow>> Support::meters(std::string_view office_code,
                                              std::string_view account_number) {
    auto office = office_of(office_code);
    if (!office) return office.error();
    return readings_->list_meters(office->code, std::string(account_number));
}

Status Support::remove_meter(std::string_view office_code, std::string_view account_number,
                             std::string_view serial) {
    auto office = office_of(office_code);
    if (!office) return office.error();
    Status s = storage_.in_transaction([&]() -> Status {
        Status removed =
            readings_->remove_meter(office->code, std::string(account_number), std::string(serial));
        if (!removed.ok()) return removed;
        return audit(std::nullopt, "admin_meters_remove",
                     "office " + office->code + " account " + std::string(account_number) +
                         " meter " + std::string(serial));
    });
    return s;
}

Status Support::export_readings(const ReadingExportFilter& filter,
                                const std::function<void(const ReadingExportRow&)>& on_row) {
    if (!filter.office.empty()) {
        auto office = office_of(filter.office);
        if (!office) return office.error();
    }
    return readings_->export_readings(filter, on_row);
}

}  // namespace lkk
