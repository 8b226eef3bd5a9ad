// Billing import (SPEC section 7): the utility's billing export, a CSV file, into the
// billing accounts that subscribers link against.
//
// The file follows the conventions of every support-staff import (lkk/csv_import.h): streamed,
// ';' or ',', UTF-8 with an optional BOM or cp1251, all or nothing, bad lines by number.
// The header names the columns (office, account, surname, last_payment, last_payment_date,
// optional address and balance) in any order ("line 7: last_payment: ...").
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lkk/csv_import.h"
#include "lkk/money.h"  // parse_signed_kopecks for the balance column
#include "lkk/status.h"
#include "lkk/storage.h"

namespace lkk {

// One data line of the file: a valid account, or the reason the line is bad.
struct BillingRecord {
    int64_t line = 0;        // 1-based physical line number in the file (the header is line 1)
    BillingAccount account;  // office_code, account_number, surname(+key), payment, address...
    std::string error;       // empty when the line is good, else "last_payment: ..."
    bool ok() const { return error.empty(); }
};

// The streaming CSV reader. It checks each line on its own (format, amounts, dates,
// normalised account number and surname); whether the office exists is the importer's job.
class BillingCsvReader {
  public:
    // default_office fills the office of lines whose file has no office column or an empty
    // office field (lkk-admin billing import --office).
    BillingCsvReader(std::istream& in, TextEncoding encoding, std::string default_office = "");

    // Reads the header: detects the delimiter, maps the columns. Invalid when the file is
    // empty, a required column is missing, or a column is unknown or repeated.
    Status read_header();
    // Reads the next non-blank data line into record. Answers false at the end of the file.
    bool next(BillingRecord& record);

    char delimiter() const { return table_.delimiter(); }
    // Raw bytes consumed so far (for a progress bar against the file size).
    uint64_t bytes_read() const { return table_.bytes_read(); }

  private:
    std::string parse_record(const CsvLine& line, BillingRecord& record) const;

    CsvTableReader table_;
    std::string default_office_;
};

// The billing import's options, progress and report are those of every CSV import.
using BillingImportOptions = CsvImportOptions;
using BillingImportProgress = CsvImportProgress;
using BillingImportReport = CsvImportReport;

// Imports a billing file into storage, all or nothing, in one transaction: upsert by office +
// account number. When any line is bad (and not skip_bad) or on a dry run, nothing changes
// and the report says so (committed = false), yet every line is still checked so the person
// sees all the bad lines at once. Errors: a bad header (Invalid, naming line 1), storage
// failures. progress, when set, is called about five times a second.
Result<BillingImportReport> import_billing_csv(
    Storage& storage, std::istream& in, const BillingImportOptions& options,
    const std::function<void(const BillingImportProgress&)>& progress = {});

}  // namespace lkk
