// Where the money of billing accounts is kept (SPEC 10): monthly statements and payments, as
// billing exports them. An interface of its own beside Storage, implemented by the SQL
// backends (the same object as Storage: find it with money_store_of(storage)). Same rules as
// Storage: thread-safe, never throws, errors as Status, joins the caller's
// Storage::in_transaction on this thread.
//
// Amounts are kopecks (lkk/money.h): a positive balance is a debt, a negative one an
// overpayment. Consumption is thousandths of a cubic metre (as readings). A period is the
// month "YYYY-MM", a date "YYYY-MM-DD"; both sort as text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lkk/money.h"
#include "lkk/status.h"
#include "lkk/storage.h"

namespace lkk {

// One month of one billing account.
struct Statement {
    int64_t id = 0;
    int64_t billing_account_id = 0;
    std::string period;  // "YYYY-MM"
    Kopecks opening_balance = 0;
    Kopecks accrued = 0;  // charged for the month
    Kopecks paid = 0;     // received during the month
    Kopecks closing_balance = 0;
    std::optional<int64_t> consumption;  // thousandths of m³, when billing gives it
    std::optional<Kopecks> tariff;       // kopecks per m³, when billing gives it
    int64_t imported_at = 0;             // when the month first arrived (a re-import keeps it)
};

// One payment as billing received it; payment_id is unique within the office.
struct Payment {
    int64_t id = 0;
    int64_t billing_account_id = 0;
    std::string payment_id;  // billing's own id of the payment
    std::string date;        // "YYYY-MM-DD"
    Kopecks amount = 0;
    std::string channel;  // "Почта России", "Сбербанк Онлайн"...; may be empty
};

// A statement or payment with its account's keys, as the imports write them.
struct StatementRow {
    std::string office_code;
    std::string account_number;  // normalised (rules::normalize_account_number)
    Statement statement;         // billing_account_id and id are filled by the store
};

struct PaymentRow {
    std::string office_code;
    std::string account_number;
    Payment payment;
};

class MoneyStore {
  public:
    virtual ~MoneyStore() = default;

    // Upserts statements by (billing account, period): a new month is inserted with its
    // imported_at, an existing one gets the new figures and keeps its id and imported_at.
    // The account must exist: not_found names it otherwise. Runs inside the caller's
    // transaction (the import's).
    virtual Status upsert_statements(const std::vector<StatementRow>& rows) = 0;
    virtual Result<int64_t> count_statements() = 0;
    // Upserts payments by (office, payment_id); a payment may move to another account of the
    // same office when billing corrects it. not_found for an unknown account.
    virtual Status upsert_payments(const std::vector<PaymentRow>& rows) = 0;
    virtual Result<int64_t> count_payments() = 0;

    // The newest statement of an account (the greatest period), if any.
    virtual Result<std::optional<Statement>> latest_statement(int64_t billing_account_id) = 0;
    // The statement of one month, if imported.
    virtual Result<std::optional<Statement>> statement(int64_t billing_account_id,
                                                       const std::string& period) = 0;
    // The statements from from_period on (inclusive; "" for all), oldest first.
    virtual Result<std::vector<Statement>> statements_of(int64_t billing_account_id,
                                                         const std::string& from_period) = 0;
    // The payments from from_date on (inclusive; "" for all), newest first, at most limit.
    virtual Result<std::vector<Payment>> payments_of(int64_t billing_account_id,
                                                     const std::string& from_date, int limit) = 0;
};

// The money side of a storage backend, or nullptr when it has none.
inline MoneyStore* money_store_of(Storage& storage) {
    return dynamic_cast<MoneyStore*>(&storage);
}

}  // namespace lkk
