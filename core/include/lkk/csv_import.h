// What every support-staff CSV import shares (billing accounts, meters): the streaming table
// reader and the shape of an import's options, progress and report.
//
// The file is read as a stream, one line at a time, so a file of millions of rows never sits
// in memory. The header names the columns in any order (ASCII case ignored); the delimiter
// (';' or ',') is whichever separates more column names in the header; a UTF-8 BOM is
// skipped; Windows files (cp1251) are converted line by line through ICU. Every bad line is
// reported with its physical line number (the header is line 1) and the reason, in words a
// support person can act on. An import is all or nothing: one transaction, rolled back when
// any line is bad (unless skip_bad) or on a dry run, yet every line is still checked so the
// person sees all the bad lines at once.
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lkk/status.h"

namespace lkk {

enum class TextEncoding { utf8, cp1251 };

// "utf-8"/"utf8" or "cp1251"/"windows-1251" (case-insensitive).
Result<TextEncoding> parse_text_encoding(const std::string& name);

// Splits one CSV line: fields separated by delimiter, a field may be in double quotes with
// "" standing for one quote. Fields are not trimmed. Invalid on an unclosed quote or text
// after a closing quote.
Result<std::vector<std::string>> split_csv_line(const std::string& line, char delimiter);

// "YYYY-MM-DD" or "DD.MM.YYYY" as "YYYY-MM-DD"; Invalid for anything else or a day that
// does not exist in the calendar.
Result<std::string> parse_billing_date(const std::string& text);

// Which columns a file may have; the required ones must be in its header.
struct CsvColumns {
    std::vector<std::string> known;     // every column name, in the order the help lists them
    std::vector<std::string> required;  // a subset of known
};

// One non-blank data line, split into fields.
struct CsvLine {
    int64_t line = 0;                 // 1-based physical line number
    std::vector<std::string> fields;  // as in the file (not trimmed)
    std::string error;                // empty, or why the line cannot be read at all
};

// The streaming reader of a CSV table with a header. Checks per line: valid UTF-8, quoting,
// the number of fields, no control characters in a field of a known column.
class CsvTableReader {
  public:
    CsvTableReader(std::istream& in, TextEncoding encoding, CsvColumns columns);
    ~CsvTableReader();
    CsvTableReader(const CsvTableReader&) = delete;
    CsvTableReader& operator=(const CsvTableReader&) = delete;

    // Reads the header: detects the delimiter, maps the columns. Invalid ("line 1: ...")
    // when the file is empty, a required column is missing, or a column is unknown or
    // repeated. An empty column name (a trailing delimiter) is carried along and ignored.
    Status read_header();
    // Reads the next non-blank data line. Answers false at the end of the file.
    bool next(CsvLine& line);

    bool has_column(std::string_view name) const;
    // The field of a column in a line, ASCII blanks trimmed; "" when the file has no such
    // column.
    std::string field(const CsvLine& line, std::string_view name) const;

    char delimiter() const { return delimiter_; }
    // Raw bytes consumed so far (for a progress bar against the file size).
    uint64_t bytes_read() const { return bytes_read_; }

  private:
    bool read_line(std::string& line);

    std::istream& in_;
    CsvColumns spec_;
    char delimiter_ = ';';
    int64_t line_number_ = 0;
    uint64_t bytes_read_ = 0;
    std::map<std::string, size_t, std::less<>> columns_;  // column name -> field index
    size_t column_count_ = 0;
    struct Converter;
    std::unique_ptr<Converter> converter_;  // cp1251 -> UTF-8, only for cp1251
};

struct CsvImportOptions {
    TextEncoding encoding = TextEncoding::utf8;
    std::string office;              // fills a missing office column (--office)
    bool dry_run = false;            // check everything, change nothing
    bool skip_bad = false;           // import the good lines even when some are bad
    size_t max_reported_bad = 1000;  // bad lines kept in the report; the rest only counted
};

struct CsvImportProgress {
    int64_t rows = 0;    // data lines read so far
    uint64_t bytes = 0;  // raw bytes read so far
    double seconds = 0;  // since the import started
};

struct CsvBadLine {
    int64_t line = 0;
    std::string error;
};

struct CsvImportReport {
    int64_t rows = 0;                   // data lines read (good + bad)
    int64_t inserted = 0;               // rows that did not exist before
    int64_t updated = 0;                // rows that existed and were overwritten
    int64_t bad = 0;                    // bad lines
    std::vector<CsvBadLine> bad_lines;  // the first max_reported_bad bad lines
    bool committed = false;  // false: nothing changed (dry run, or bad lines without skip_bad)
    int64_t mails = 0;       // mails the import queued (a statements import's bills, SPEC 10)
    double seconds = 0;
};

// Text helpers the line parsers share.
namespace csv {
// Only ASCII blanks are cut, so that a surname's own characters are never touched.
std::string trim(std::string_view s);
std::string ascii_upper(std::string s);
// The value a person typed, quoted in an error so they find it in the file (" ('x')"); long
// values are left out rather than cut inside a UTF-8 sequence.
std::string quoted(const std::string& value);
// The office of a line: its own field, else default_office (--office); an error when both
// are empty or they differ. Answers "" with code set, or the line's error.
std::string office_of_line(const std::string& field, const std::string& default_office,
                           std::string& code);
}  // namespace csv

}  // namespace lkk
