// billing import FILE | billing show OFFICE ACCOUNT: the billing data subscribers' link
// attempts are checked against (SPEC 3, 7).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "commands.h"
#include "csv_import_cmd.h"
#include "lkk/billing_import.h"
#include "table.h"

namespace lkk::admin {

namespace {

struct ShowArgs {
    std::string office;
    std::string account;
};

Status import(AdminContext& ctx, const CsvImportArgs& a) {
    return run_csv_import(
        ctx, a,
        [&ctx](std::istream& in, const CsvImportOptions& options, std::string_view source,
               const std::function<void(const CsvImportProgress&)>& progress) {
            return ctx.support().import_billing(in, options, source, progress);
        });
}

Status show(AdminContext& ctx, const ShowArgs& a) {
    auto report = ctx.support().billing_account(a.office, a.account);
    if (!report.ok()) {
        if (report.error().code() == StatusCode::not_found) {
            return Status::NotFound(report.error().message() +
                                    ": see `lkk-admin offices list`; billing data come with "
                                    "`lkk-admin billing import FILE`");
        }
        return ctx.argument_error(report.error());
    }
    const BillingAccount& b = report->account;
    const int64_t expected = report->expected_amount;
    if (ctx.json) {
        nlohmann::json j = {{"id", b.id},
                            {"office", b.office_code},
                            {"account", b.account_number},
                            {"surname", b.surname},
                            {"surname_key", b.surname_key},
                            {"last_payment", format_rub(b.last_payment)},
                            {"last_payment_kopecks", b.last_payment},
                            {"last_payment_date", b.last_payment_date},
                            {"address", b.address},
                            {"expected_amount", format_rub(expected)},
                            {"expected_amount_kopecks", expected}};
        j["balance"] = b.balance ? nlohmann::json(format_rub(*b.balance)) : nlohmann::json();
        ctx.print_json(j);
        return Status::Ok();
    }
    print_fields(
        std::cout,
        {{"office", b.office_code + " (" + report->office.name + ")"},
         {"account", b.account_number},
         {"surname", b.surname + " (compared as \"" + b.surname_key + "\")"},
         {"last payment",
          format_rub(b.last_payment) +
              (b.last_payment_date.empty() ? " (never paid)" : " on " + b.last_payment_date)},
         {"address", b.address.empty() ? "-" : b.address},
         {"balance", b.balance ? format_rub(*b.balance) : "-"},
         {"amount to type", format_rub(expected) + " (the last payment when made this "
                                                   "year, else 0)"}});
    return Status::Ok();
}

}  // namespace

void add_billing_commands(CLI::App& app, AdminContext& ctx) {
    auto* group =
        app.add_subcommand("billing", "billing data that account links are checked against");
    group->require_subcommand(1);

    auto ia = std::make_shared<CsvImportArgs>();
    auto* imp = group->add_subcommand(
        "import", "import a billing CSV file (all or nothing; upserts by office + account)");
    add_csv_import_options(imp, *ia,
                           "CSV with a header: office;account;surname;last_payment;"
                           "last_payment_date[;address][;balance] ('-' = stdin)");
    imp->callback([&ctx, ia] { ctx.run([&ctx, ia] { return import(ctx, *ia); }); });

    auto sa = std::make_shared<ShowArgs>();
    auto* sh = group->add_subcommand("show", "show one billing account");
    sh->add_option("OFFICE", sa->office, "office code")->required();
    sh->add_option("ACCOUNT", sa->account, "account number")->required();
    sh->callback([&ctx, sa] { ctx.run([&ctx, sa] { return show(ctx, *sa); }); });
}

}  // namespace lkk::admin
