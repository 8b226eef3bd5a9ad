// The Statements service (SPEC 10): a subscriber's balance, history and payments, and the
// support side (statements import, payments import). The line parsers are in
// statements_import.cpp; the import loop is every CSV import's (csv_pipeline.h).
#include "lkk/statements.h"

#include <algorithm>
#include <string>

#include "csv_pipeline.h"
#include "lkk/readings.h"

namespace lkk {

Statements::Statements(Storage& storage, Clock& clock) : storage_(storage), clock_(clock) {}

Result<MoneyStore*> Statements::money() {
    MoneyStore* m = money_store_of(storage_);
    if (m == nullptr) return Status::Unavailable("this storage backend keeps no statements");
    return m;
}

// ---- subscribers ----

Result<std::vector<std::optional<Statement>>> Statements::latest_of(
    const std::vector<LinkedAccount>& accounts) {
    auto ms = money();
    if (!ms) return ms.error();
    std::vector<std::optional<Statement>> out;
    out.reserve(accounts.size());
    for (const LinkedAccount& l : accounts) {
        auto latest = (*ms)->latest_statement(l.account.id);
        if (!latest) return latest.error();
        out.push_back(std::move(latest.value()));
    }
    return out;
}

Result<LinkedAccount> Statements::linked(int64_t user_id, int64_t link_id) {
    auto links = storage_.list_links(user_id);
    if (!links) return links.error();
    auto it = std::find_if(links->begin(), links->end(),
                           [link_id](const LinkedAccount& l) { return l.link_id == link_id; });
    if (it == links->end()) return Status::NotFound("no such account in this cabinet");
    return std::move(*it);
}

Result<AccountMoney> Statements::account(int64_t user_id, int64_t link_id) {
    auto ms = money();
    if (!ms) return ms.error();
    auto l = linked(user_id, link_id);
    if (!l) return l.error();
    AccountMoney out;
    out.account = std::move(l.value());
    const int64_t id = out.account.account.id;
    auto latest = (*ms)->latest_statement(id);
    if (!latest) return latest.error();
    out.latest = std::move(latest.value());
    // The months up to the newest statement, whatever the delay of the last import; without
    // statements, the newest payments.
    std::string from;
    if (out.latest) {
        from = readings::period_before(out.latest->period, statements::kHistoryMonths - 1);
        auto history = (*ms)->statements_of(id, from);
        if (!history) return history.error();
        out.history = std::move(history.value());
        from += "-01";
    }
    auto payments = (*ms)->payments_of(id, from, statements::kMaxPayments);
    if (!payments) return payments.error();
    out.payments = std::move(payments.value());
    return out;
}

Result<AccountMonth> Statements::month(int64_t user_id, int64_t link_id,
                                       const std::string& period) {
    auto ms = money();
    if (!ms) return ms.error();
    if (!statements::parse_period(period).ok()) return Status::NotFound("no such month");
    auto l = linked(user_id, link_id);
    if (!l) return l.error();
    auto s = (*ms)->statement(l->account.id, period);
    if (!s) return s.error();
    if (!s->has_value()) return Status::NotFound("no statement for " + period);
    return AccountMonth{std::move(l.value()), std::move(**s)};
}

// ---- support ----

Result<CsvImportReport> Statements::import_statements(
    std::istream& in, const CsvImportOptions& options,
    const std::function<void(const CsvImportProgress&)>& progress) {
    auto ms = money();
    if (!ms) return ms.error();
    StatementCsvReader reader(in, options.encoding, options.office);
    const int64_t now = clock_.now();
    return csv::run_account_import<StatementRecord>(
        storage_, reader, in, options,
        [&ms, now](std::vector<StatementRow>& rows) {
            for (StatementRow& r : rows) r.statement.imported_at = now;
            return (*ms)->upsert_statements(rows);
        },
        [&ms] { return (*ms)->count_statements(); }, progress);
}

Result<CsvImportReport> Statements::import_payments(
    std::istream& in, const CsvImportOptions& options,
    const std::function<void(const CsvImportProgress&)>& progress) {
    auto ms = money();
    if (!ms) return ms.error();
    PaymentCsvReader reader(in, options.encoding, options.office);
    return csv::run_account_import<PaymentRecord>(
        storage_, reader, in, options,
        [&ms](std::vector<PaymentRow>& rows) { return (*ms)->upsert_payments(rows); },
        [&ms] { return (*ms)->count_payments(); }, progress);
}

}  // namespace lkk
