// statements import FILE | payments import FILE: the monthly statements and the payments of
// billing accounts that subscribers see as their balance and history (SPEC 10). Argument
// parsing and printing only; the work is the Statements service's.
#include <memory>

#include "commands.h"
#include "csv_import_cmd.h"

namespace lkk::admin {

namespace {

Status import_statements(AdminContext& ctx, const CsvImportArgs& a) {
    return run_csv_import(
        ctx, a,
        [&ctx](std::istream& in, const CsvImportOptions& options, std::string_view source,
               const std::function<void(const CsvImportProgress&)>& progress) {
            return ctx.support().import_statements(in, options, source, progress);
        });
}

Status import_payments(AdminContext& ctx, const CsvImportArgs& a) {
    return run_csv_import(
        ctx, a,
        [&ctx](std::istream& in, const CsvImportOptions& options, std::string_view source,
               const std::function<void(const CsvImportProgress&)>& progress) {
            return ctx.support().import_payments(in, options, source, progress);
        });
}

}  // namespace

void add_money_commands(CLI::App& app, AdminContext& ctx) {
    auto* statements = app.add_subcommand("statements", "monthly statements of billing accounts");
    statements->require_subcommand(1);
    auto sa = std::make_shared<CsvImportArgs>();
    auto* si = statements->add_subcommand(
        "import", "import a statements CSV file (all or nothing; upserts by account + period)");
    add_csv_import_options(si, *sa,
                           "CSV with a header: office;account;period;opening_balance;accrued;"
                           "paid;closing_balance[;consumption][;tariff] ('-' = stdin)");
    si->callback([&ctx, sa] { ctx.run([&ctx, sa] { return import_statements(ctx, *sa); }); });

    auto* payments = app.add_subcommand("payments", "payments of billing accounts");
    payments->require_subcommand(1);
    auto pa = std::make_shared<CsvImportArgs>();
    auto* pi = payments->add_subcommand(
        "import", "import a payments CSV file (all or nothing; upserts by office + payment_id)");
    add_csv_import_options(pi, *pa,
                           "CSV with a header: office;account;payment_id;date;amount[;channel] "
                           "('-' = stdin)");
    pi->callback([&ctx, pa] { ctx.run([&ctx, pa] { return import_payments(ctx, *pa); }); });
}

}  // namespace lkk::admin
