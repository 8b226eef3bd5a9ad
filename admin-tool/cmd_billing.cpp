// billing import FILE | billing show OFFICE ACCOUNT: the billing data subscribers' link
// attempts are checked against (SPEC 3, 7).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "commands.h"
#include "lkk/billing_import.h"
#include "table.h"

namespace lkk::admin {

namespace {

struct ImportArgs {
    std::string file;
    std::string office;
    std::string encoding = "utf-8";
    bool dry_run = false;
    bool skip_bad = false;
};

struct ShowArgs {
    std::string office;
    std::string account;
};

// A progress bar on stderr, redrawn in place: only for a person watching a terminal, never
// into a pipe or a log file.
class ProgressBar {
  public:
    explicit ProgressBar(uint64_t total_bytes) : total_(total_bytes) {}
    void draw(const BillingImportProgress& p) {
        const double rate = p.seconds > 0 ? static_cast<double>(p.rows) / p.seconds : 0;
        constexpr int kWidth = 30;
        if (total_ > 0) {
            const double done =
                std::min(1.0, static_cast<double>(p.bytes) / static_cast<double>(total_));
            const int filled = static_cast<int>(done * kWidth);
            std::fprintf(stderr, "\r[%s%s] %3d%%  %lld rows  %.0f rows/s ",
                         std::string(static_cast<size_t>(filled), '#').c_str(),
                         std::string(static_cast<size_t>(kWidth - filled), '.').c_str(),
                         static_cast<int>(done * 100), static_cast<long long>(p.rows), rate);
        } else {
            std::fprintf(stderr, "\r%lld rows  %.0f rows/s ", static_cast<long long>(p.rows), rate);
        }
        std::fflush(stderr);
        drawn_ = true;
    }
    void finish() {
        if (drawn_) std::fputc('\n', stderr);
    }

  private:
    uint64_t total_;
    bool drawn_ = false;
};

nlohmann::json report_json(const BillingImportReport& r, const ImportArgs& a) {
    nlohmann::json bad = nlohmann::json::array();
    for (const auto& b : r.bad_lines) bad.push_back({{"line", b.line}, {"error", b.error}});
    return {{"file", a.file},           {"rows", r.rows},       {"inserted", r.inserted},
            {"updated", r.updated},     {"bad", r.bad},         {"bad_lines", bad},
            {"committed", r.committed}, {"dry_run", a.dry_run}, {"seconds", r.seconds}};
}

Status import(AdminContext& ctx, const ImportArgs& a) {
    auto encoding = parse_text_encoding(a.encoding);
    if (!encoding.ok()) return ctx.usage(encoding.error().message());

    std::ifstream file;
    std::istream* in = &std::cin;
    uint64_t size = 0;
    if (a.file != "-") {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(a.file, ec)) {
            return Status::NotFound("file " + a.file + " not found (or not a file)");
        }
        size = std::filesystem::file_size(a.file, ec);
        file.open(a.file, std::ios::binary);
        if (!file) return Status::Unavailable("cannot open " + a.file + " for reading");
        in = &file;
    }

    BillingImportOptions options;
    options.encoding = encoding.value();
    options.office = a.office;
    options.dry_run = a.dry_run;
    options.skip_bad = a.skip_bad;

    ProgressBar bar(size);
    std::function<void(const BillingImportProgress&)> progress;
    if (isatty(STDERR_FILENO) != 0)
        progress = [&bar](const BillingImportProgress& p) { bar.draw(p); };
    auto result = ctx.support().import_billing(*in, options, a.file, progress);
    bar.finish();
    if (!result.ok()) {
        if (result.error().code() == StatusCode::invalid_argument) {
            return Status::Invalid(a.file + ": " + result.error().message());
        }
        return result.error();
    }
    const BillingImportReport& r = result.value();

    if (ctx.json) {
        ctx.print_json(report_json(r, a));
    } else {
        for (const auto& b : r.bad_lines) {
            std::cerr << a.file << ": line " << b.line << ": " << b.error << "\n";
        }
        if (r.bad > static_cast<int64_t>(r.bad_lines.size())) {
            std::cerr << "... and " << (r.bad - static_cast<int64_t>(r.bad_lines.size()))
                      << " more bad lines\n";
        }
        const double rate = r.seconds > 0 ? static_cast<double>(r.rows) / r.seconds : 0;
        char timing[64];
        std::snprintf(timing, sizeof timing, "%.2f s, %.0f rows/s", r.seconds, rate);
        std::cout << "rows: " << r.rows << "  inserted: " << r.inserted
                  << "  updated: " << r.updated << "  bad: " << r.bad << "  (" << timing << ")\n";
        if (a.dry_run) {
            std::cout << "dry run: nothing was changed\n";
        } else if (!r.committed) {
            std::cout << "nothing was imported: fix the lines above and run the import again "
                         "(or add --skip-bad to import the good lines only)\n";
        } else if (r.bad > 0) {
            std::cout << "imported the good lines; the bad lines above were skipped\n";
        }
    }
    if (r.bad > 0 && !a.skip_bad) {
        // The report was printed; the exit code tells a script the file was not taken.
        return Status::Invalid(std::to_string(r.bad) + " bad line(s) in " + a.file +
                               (a.dry_run ? "" : ": nothing imported"));
    }
    return Status::Ok();
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

    auto ia = std::make_shared<ImportArgs>();
    auto* imp = group->add_subcommand(
        "import", "import a billing CSV file (all or nothing; upserts by office + account)");
    imp->add_option("FILE", ia->file,
                    "CSV with a header: office;account;surname;last_payment;"
                    "last_payment_date[;address][;balance] ('-' = stdin)")
        ->required();
    imp->add_option("--office", ia->office, "office code for a file without an office column");
    imp->add_option("--encoding", ia->encoding, "utf-8 (default) or cp1251 (Windows files)");
    imp->add_flag("--dry-run", ia->dry_run, "check the file and report, change nothing");
    imp->add_flag("--skip-bad", ia->skip_bad, "import the good lines even when some are bad");
    imp->callback([&ctx, ia] { ctx.run([&ctx, ia] { return import(ctx, *ia); }); });

    auto sa = std::make_shared<ShowArgs>();
    auto* sh = group->add_subcommand("show", "show one billing account");
    sh->add_option("OFFICE", sa->office, "office code")->required();
    sh->add_option("ACCOUNT", sa->account, "account number")->required();
    sh->callback([&ctx, sa] { ctx.run([&ctx, sa] { return show(ctx, *sa); }); });
}

}  // namespace lkk::admin
