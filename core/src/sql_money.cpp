// The SQL backends' queries for statements and payments (MoneyStore, SPEC 10). Every value is
// a bound parameter; the upserts, where SQLite and MySQL differ, are in SqlDialect.
#include <string>
#include <vector>

#include "sql_query.h"
#include "sql_storage.h"

namespace lkk {

namespace {

using db::Connection;
using db::Row;

constexpr const char* kStatementColumns =
    "s.id, s.billing_account_id, s.period, s.opening_balance, s.accrued, s.paid, "
    "s.closing_balance, s.consumption, s.tariff, s.imported_at";

Statement read_statement(const Row& r) {
    Statement s;
    s.id = r.integer(0);
    s.billing_account_id = r.integer(1);
    s.period = r.text(2);
    s.opening_balance = r.integer(3);
    s.accrued = r.integer(4);
    s.paid = r.integer(5);
    s.closing_balance = r.integer(6);
    s.consumption = r.nullable(7);
    s.tariff = r.nullable(8);
    s.imported_at = r.integer(9);
    return s;
}

constexpr const char* kPaymentColumns =
    "p.id, p.billing_account_id, p.payment_id, p.paid_on, p.amount, p.channel";

Payment read_payment(const Row& r) {
    Payment p;
    p.id = r.integer(0);
    p.billing_account_id = r.integer(1);
    p.payment_id = r.text(2);
    p.date = r.text(3);
    p.amount = r.integer(4);
    p.channel = r.text(5);
    return p;
}

// The id of a billing account, or not_found naming it.
Result<int64_t> account_id(Connection& c, const std::string& office, const std::string& number) {
    auto id = db::find_one<int64_t>(
        c, "SELECT id FROM billing_accounts WHERE office_code = ? AND account_number = ?",
        {office, number}, [](const Row& r) { return r.integer(0); });
    if (!id) return id.error();
    if (!id->has_value()) {
        return Status::NotFound("no billing account " + number + " in office " + office);
    }
    return **id;
}

}  // namespace

// Called inside the import's transaction; the row id and imported_at survive an update.
Status SqlStorage::upsert_statements(const std::vector<StatementRow>& rows) {
    return with_connection([&](Connection& c) -> Status {
        for (const StatementRow& row : rows) {
            auto account = account_id(c, row.office_code, row.account_number);
            if (!account) return account.error();
            const Statement& s = row.statement;
            auto put = c.exec(
                "INSERT INTO statements (billing_account_id, period, opening_balance, accrued, "
                "paid, closing_balance, consumption, tariff, imported_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) " +
                    std::string(dialect_.upsert_statement),
                {*account, s.period, s.opening_balance, s.accrued, s.paid, s.closing_balance,
                 db::nullable(s.consumption), db::nullable(s.tariff), s.imported_at});
            if (!put) return put.error();
        }
        return Status::Ok();
    });
}

Result<int64_t> SqlStorage::count_statements() {
    return with_connection(
        [](Connection& c) { return db::scalar(c, "SELECT count(*) FROM statements", {}); });
}

Status SqlStorage::upsert_payments(const std::vector<PaymentRow>& rows) {
    return with_connection([&](Connection& c) -> Status {
        for (const PaymentRow& row : rows) {
            auto account = account_id(c, row.office_code, row.account_number);
            if (!account) return account.error();
            const Payment& p = row.payment;
            auto put = c.exec(
                "INSERT INTO payments (office_code, payment_id, billing_account_id, paid_on, "
                "amount, channel) VALUES (?, ?, ?, ?, ?, ?) " +
                    std::string(dialect_.upsert_payment),
                {row.office_code, p.payment_id, *account, p.date, p.amount, p.channel});
            if (!put) return put.error();
        }
        return Status::Ok();
    });
}

Result<int64_t> SqlStorage::count_payments() {
    return with_connection(
        [](Connection& c) { return db::scalar(c, "SELECT count(*) FROM payments", {}); });
}

Result<std::optional<Statement>> SqlStorage::latest_statement(int64_t billing_account_id) {
    return cache_.through(&db::ReadCache::Thread::statements, billing_account_id,
                          [&] { return fetch_latest_statement(billing_account_id); });
}

Result<std::optional<Statement>> SqlStorage::fetch_latest_statement(int64_t billing_account_id) {
    return with_connection([&](Connection& c) {
        return db::find_one<Statement>(c,
                                       std::string("SELECT ") + kStatementColumns +
                                           " FROM statements s WHERE s.billing_account_id = ? "
                                           "ORDER BY s.period DESC LIMIT 1",
                                       {billing_account_id}, read_statement);
    });
}

Result<std::optional<Statement>> SqlStorage::statement(int64_t billing_account_id,
                                                       const std::string& period) {
    return with_connection([&](Connection& c) {
        return db::find_one<Statement>(
            c,
            std::string("SELECT ") + kStatementColumns +
                " FROM statements s WHERE s.billing_account_id = ? AND s.period = ?",
            {billing_account_id, period}, read_statement);
    });
}

Result<std::vector<Statement>> SqlStorage::statements_of(int64_t billing_account_id,
                                                         const std::string& from_period) {
    return cache_.through(
        &db::ReadCache::Thread::histories, {billing_account_id, from_period}, [&] {
            return with_connection([&](Connection& c) {
                return db::find_all<Statement>(
                    c,
                    std::string("SELECT ") + kStatementColumns +
                        " FROM statements s WHERE s.billing_account_id = ? AND s.period >= ? "
                        "ORDER BY s.period",
                    {billing_account_id, from_period}, read_statement);
            });
        });
}

Result<std::vector<Payment>> SqlStorage::payments_of(int64_t billing_account_id,
                                                     const std::string& from_date, int limit) {
    return cache_.through(
        &db::ReadCache::Thread::payments, {billing_account_id, from_date, limit}, [&] {
            return with_connection([&](Connection& c) {
                return db::find_all<Payment>(
                    c,
                    std::string("SELECT ") + kPaymentColumns +
                        " FROM payments p WHERE p.billing_account_id = ? AND p.paid_on >= ? "
                        "ORDER BY p.paid_on DESC, p.id DESC LIMIT ?",
                    {billing_account_id, from_date, int64_t{limit}}, read_payment);
            });
        });
}

}  // namespace lkk
