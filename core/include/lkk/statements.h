// Balances and history of billing accounts (SPEC 10): the monthly statements and payments
// that support staff import from billing, and what a subscriber sees of them. The Statements
// service knows nothing of HTTP; every operation is thread-safe and blocking (database): call
// it from the thread pool. Nothing throws.
//
// The files follow the conventions of every support-staff import (lkk/csv_import.h):
// streamed, ';' or ',', UTF-8 with an optional BOM or cp1251, all or nothing, bad lines by
// number, the office from a column or --office.
//   statements: office, account, period (YYYY-MM), opening_balance, accrued, paid,
//               closing_balance, and optionally consumption (m³) and tariff (roubles per m³);
//               upserted by office, account and period.
//   payments:   office, account, payment_id, date, amount, and optionally channel; upserted by
//               office and payment_id.
// Amounts are roubles with up to two decimals, a dot or a comma ("-1 234,56": a negative
// balance is an overpayment). Text may not hold '|' (it would break the bill's QR code).
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "lkk/clock.h"
#include "lkk/csv_import.h"
#include "lkk/money_store.h"
#include "lkk/status.h"
#include "lkk/storage.h"

namespace lkk {

namespace statements {

inline constexpr int kHistoryMonths = 36;  // the account page's table and chart
inline constexpr int kMaxPayments = 100;   // the account page's payments list
inline constexpr size_t kMaxPaymentIdLength = 64;
inline constexpr size_t kMaxChannelLength = 255;

// "YYYY-MM" with a month 01-12; Invalid otherwise.
Result<std::string> parse_period(const std::string& text);

}  // namespace statements

// One data line of a statements file / a payments file: a row, or the reason it is bad.
struct StatementRecord {
    int64_t line = 0;
    StatementRow row;
    std::string error;
    bool ok() const { return error.empty(); }
};

struct PaymentRecord {
    int64_t line = 0;
    PaymentRow row;
    std::string error;
    bool ok() const { return error.empty(); }
};

// The streaming line parsers; whether the office and the account exist is the importer's job.
class StatementCsvReader {
  public:
    StatementCsvReader(std::istream& in, TextEncoding encoding, std::string default_office = "");
    Status read_header();
    bool next(StatementRecord& record);
    uint64_t bytes_read() const { return table_.bytes_read(); }

  private:
    std::string parse_record(const CsvLine& line, StatementRow& row) const;

    CsvTableReader table_;
    std::string default_office_;
};

class PaymentCsvReader {
  public:
    PaymentCsvReader(std::istream& in, TextEncoding encoding, std::string default_office = "");
    Status read_header();
    bool next(PaymentRecord& record);
    uint64_t bytes_read() const { return table_.bytes_read(); }

  private:
    std::string parse_record(const CsvLine& line, PaymentRow& row) const;

    CsvTableReader table_;
    std::string default_office_;
};

// The money of one registry row: what the account page shows.
struct AccountMoney {
    LinkedAccount account;
    std::optional<Statement> latest;  // the newest statement
    // The statements of the kHistoryMonths months up to the newest one, oldest first.
    std::vector<Statement> history;
    // Of the same months (every month without statements), newest first, at most
    // kMaxPayments.
    std::vector<Payment> payments;
};

// One month of a registry row: what a bill is made of.
struct AccountMonth {
    LinkedAccount account;  // with its office and the office's requisites
    Statement statement;
};

class Statements {
  public:
    // All references must outlive the service. The money side is found in storage
    // (money_store_of); a backend without one answers unavailable.
    Statements(Storage& storage, Clock& clock);

    // ---- subscribers ----
    // The newest statement of each registry row, in the same order (nullopt: none imported).
    Result<std::vector<std::optional<Statement>>> latest_of(
        const std::vector<LinkedAccount>& accounts);
    // The money of a registry row of this cabinet; not_found for another cabinet's row.
    Result<AccountMoney> account(int64_t user_id, int64_t link_id);
    // The statement of one month ("YYYY-MM") of a registry row of this cabinet; not_found for
    // another cabinet's row, a malformed period or a month without a statement.
    Result<AccountMonth> month(int64_t user_id, int64_t link_id, const std::string& period);

    // ---- support (lkk-admin) ----
    // statements import / payments import: all or nothing, see the top of this file.
    Result<CsvImportReport> import_statements(
        std::istream& in, const CsvImportOptions& options,
        const std::function<void(const CsvImportProgress&)>& progress = {});
    Result<CsvImportReport> import_payments(
        std::istream& in, const CsvImportOptions& options,
        const std::function<void(const CsvImportProgress&)>& progress = {});

  private:
    Result<MoneyStore*> money();
    // The registry row of this cabinet; not_found for another cabinet's.
    Result<LinkedAccount> linked(int64_t user_id, int64_t link_id);

    Storage& storage_;
    Clock& clock_;
};

}  // namespace lkk
