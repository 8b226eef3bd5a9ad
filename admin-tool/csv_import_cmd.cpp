// The CSV import commands' shared frame: see csv_import_cmd.h.
#include "csv_import_cmd.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace lkk::admin {

namespace {

// A progress bar on stderr, redrawn in place: only for a person watching a terminal, never
// into a pipe or a log file.
class ProgressBar {
  public:
    explicit ProgressBar(uint64_t total_bytes) : total_(total_bytes) {}
    void draw(const CsvImportProgress& p) {
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

nlohmann::json report_json(const CsvImportReport& r, const CsvImportArgs& a) {
    nlohmann::json bad = nlohmann::json::array();
    for (const auto& b : r.bad_lines) bad.push_back({{"line", b.line}, {"error", b.error}});
    return {{"file", a.file},           {"rows", r.rows},       {"inserted", r.inserted},
            {"updated", r.updated},     {"bad", r.bad},         {"bad_lines", bad},
            {"committed", r.committed}, {"dry_run", a.dry_run}, {"seconds", r.seconds},
            {"mails", r.mails}};
}

}  // namespace

void add_csv_import_options(CLI::App* command, CsvImportArgs& args, const std::string& file_help) {
    command->add_option("FILE", args.file, file_help)->required();
    command->add_option("--office", args.office, "office code for a file without an office column");
    command->add_option("--encoding", args.encoding, "utf-8 (default) or cp1251 (Windows files)");
    command->add_flag("--dry-run", args.dry_run, "check the file and report, change nothing");
    command->add_flag("--skip-bad", args.skip_bad, "import the good lines even when some are bad");
}

Status run_csv_import(AdminContext& ctx, const CsvImportArgs& a, const CsvImporter& importer) {
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

    CsvImportOptions options;
    options.encoding = encoding.value();
    options.office = a.office;
    options.dry_run = a.dry_run;
    options.skip_bad = a.skip_bad;

    ProgressBar bar(size);
    std::function<void(const CsvImportProgress&)> progress;
    if (isatty(STDERR_FILENO) != 0) progress = [&bar](const CsvImportProgress& p) { bar.draw(p); };
    auto result = importer(*in, options, a.file, progress);
    bar.finish();
    if (!result.ok()) {
        if (result.error().code() == StatusCode::invalid_argument) {
            return Status::Invalid(a.file + ": " + result.error().message());
        }
        return result.error();
    }
    const CsvImportReport& r = result.value();

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
        if (r.mails > 0) std::cout << "mails queued: " << r.mails << "\n";
    }
    if (r.bad > 0 && !a.skip_bad) {
        // The report was printed; the exit code tells a script the file was not taken.
        return Status::Invalid(std::to_string(r.bad) + " bad line(s) in " + a.file +
                               (a.dry_run ? "" : ": nothing imported"));
    }
    return Status::Ok();
}

}  // namespace lkk::admin
