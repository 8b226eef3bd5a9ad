// What the CSV import commands share (billing import, meters import): their options, the
// progress bar on a terminal, the report (bad lines by number, counts, --json) and the exit
// code. The import itself (and its audit row) is the Support service's.
#pragma once

#include <functional>
#include <istream>
#include <string>

#include <CLI/CLI.hpp>

#include "admin_context.h"
#include "lkk/csv_import.h"

namespace lkk::admin {

struct CsvImportArgs {
    std::string file;
    std::string office;
    std::string encoding = "utf-8";
    bool dry_run = false;
    bool skip_bad = false;
};

// Adds FILE, --office, --encoding, --dry-run and --skip-bad to an import command.
void add_csv_import_options(CLI::App* command, CsvImportArgs& args, const std::string& file_help);

// A Support import (it audits): the stream, the options, the file's name for the audit row,
// the progress callback.
using CsvImporter =
    std::function<Result<CsvImportReport>(std::istream&, const CsvImportOptions&, std::string_view,
                                          const std::function<void(const CsvImportProgress&)>&)>;

// Opens the file ('-' is stdin), runs importer with a progress bar when stderr is a terminal,
// prints the report. Fails (exit 1) when lines were bad and not skipped.
Status run_csv_import(AdminContext& ctx, const CsvImportArgs& args, const CsvImporter& importer);

}  // namespace lkk::admin
