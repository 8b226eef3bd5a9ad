// Billing import (SPEC section 7): the utility's billing export, a CSV file, into the
// billing accounts that subscribers link against.
//
// The file is read as a stream, one line at a time, so a file of millions of rows never sits
// in memory. The header names the columns (office, account, surname, last_payment,
// last_payment_date, optional address and balance) in any order; the delimiter (';' or ',')
// is taken from the header line; a UTF-8 BOM is skipped; Windows files (cp1251) are
// converted line by line through ICU. Every bad line is reported with its number and the
// reason, in words a support person can act on ("line 7: last_payment: ...").
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lkk/status.h"
#include "lkk/storage.h"

namespace lkk {

enum class TextEncoding { utf8, cp1251 };

// "utf-8"/"utf8" or "cp1251"/"windows-1251" (case-insensitive).
Result<TextEncoding> parse_text_encoding(const std::string& name);

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
    ~BillingCsvReader();
    BillingCsvReader(const BillingCsvReader&) = delete;
    BillingCsvReader& operator=(const BillingCsvReader&) = delete;

    // Reads the header: detects the delimiter, maps the columns. Invalid when the file is
    // empty, a required column is missing, or a column is unknown or repeated.
    Status read_header();
    // Reads the next non-blank data line into record. Answers false at the end of the file.
    bool next(BillingRecord& record);

    char delimiter() const { return delimiter_; }
    // Raw bytes consumed so far (for a progress bar against the file size).
    uint64_t bytes_read() const { return bytes_read_; }

  private:
    bool read_line(std::string& line);
    std::string parse_record(const std::string& line, BillingRecord& record);

    std::istream& in_;
    TextEncoding encoding_;
    std::string default_office_;
    char delimiter_ = ';';
    int64_t line_number_ = 0;
    uint64_t bytes_read_ = 0;
    std::map<std::string, size_t> columns_;  // column name -> field index
    size_t column_count_ = 0;
    struct Converter;
    std::unique_ptr<Converter> converter_;  // cp1251 -> UTF-8, only for cp1251
};

// Splits one CSV line: fields separated by delimiter, a field may be in double quotes with
// "" standing for one quote. Fields are not trimmed. Invalid on an unclosed quote or text
// after a closing quote.
Result<std::vector<std::string>> split_csv_line(const std::string& line, char delimiter);

// A signed amount of roubles as exact kopecks: the magnitude by rules::parse_amount_kopecks,
// with an optional leading '-' (a debt) or '+'.
Result<int64_t> parse_signed_kopecks(const std::string& text);

// "YYYY-MM-DD" or "DD.MM.YYYY" as "YYYY-MM-DD"; Invalid for anything else or a day that
// does not exist in the calendar.
Result<std::string> parse_billing_date(const std::string& text);

struct BillingImportOptions {
    TextEncoding encoding = TextEncoding::utf8;
    std::string office;              // fills a missing office column (--office)
    bool dry_run = false;            // check everything, change nothing
    bool skip_bad = false;           // import the good lines even when some are bad
    size_t max_reported_bad = 1000;  // bad lines kept in the report; the rest only counted
};

struct BillingImportProgress {
    int64_t rows = 0;    // data lines read so far
    uint64_t bytes = 0;  // raw bytes read so far
    double seconds = 0;  // since the import started
};

struct BillingImportReport {
    int64_t rows = 0;                      // data lines read (good + bad)
    int64_t inserted = 0;                  // accounts that did not exist before
    int64_t updated = 0;                   // accounts that existed and were overwritten
    int64_t bad = 0;                       // bad lines
    std::vector<BillingRecord> bad_lines;  // the first max_reported_bad bad lines
    bool committed = false;  // false: nothing changed (dry run, or bad lines without skip_bad)
    double seconds = 0;
};

// Imports a billing file into storage, all or nothing, in one transaction: upsert by office +
// account number. When any line is bad (and not skip_bad) or on a dry run, nothing changes
// and the report says so (committed = false), yet every line is still checked so the person
// sees all the bad lines at once. Errors: a bad header (Invalid, naming line 1), storage
// failures. progress, when set, is called about five times a second.
Result<BillingImportReport> import_billing_csv(
    Storage& storage, std::istream& in, const BillingImportOptions& options,
    const std::function<void(const BillingImportProgress&)>& progress = {});

}  // namespace lkk
