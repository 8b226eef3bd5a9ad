// The statements and payments files and the Statements service (SPEC 10) on SQLite: what
// support staff import and what a subscriber's account page gets from it.
#include "lkk/statements.h"

#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "lkk/clock.h"
#include "temp_dir.h"

namespace lkk {
namespace {

int64_t utc(int y, int m, int d) {
    return utc_midnight({y, m, d}) + 9 * 3600;
}

template <class Reader, class Record>
std::vector<Record> read_all(const std::string& text, Status* header = nullptr) {
    std::istringstream in(text);
    Reader reader(in, TextEncoding::utf8, "");
    Status h = reader.read_header();
    if (header != nullptr) *header = h;
    std::vector<Record> out;
    if (!h.ok()) return out;
    Record r;
    while (reader.next(r)) out.push_back(r);
    return out;
}

TEST(StatementCsvReader, ParsesSignedAmountsConsumptionAndTariff) {
    auto rows = read_all<StatementCsvReader, StatementRecord>(
        "office;account;period;opening_balance;accrued;paid;closing_balance;consumption;tariff\n"
        "SIM;100-200;2026-04;1 000,50;734,40;1000;734,90;102,5;7,16\n"
        "SIM;100200;2026-03;-50;0;0;-50;;\n");
    ASSERT_EQ(rows.size(), 2u);
    ASSERT_TRUE(rows[0].ok()) << rows[0].error;
    const Statement& s = rows[0].row.statement;
    EXPECT_EQ(rows[0].row.account_number, "100200");
    EXPECT_EQ(s.period, "2026-04");
    EXPECT_EQ(s.opening_balance, 100050);
    EXPECT_EQ(s.accrued, 73440);
    EXPECT_EQ(s.paid, 100000);
    EXPECT_EQ(s.closing_balance, 73490);
    EXPECT_EQ(s.consumption, 102500);  // thousandths of m³
    EXPECT_EQ(s.tariff, 716);
    ASSERT_TRUE(rows[1].ok()) << rows[1].error;
    EXPECT_EQ(rows[1].row.statement.closing_balance, -5000);
    EXPECT_FALSE(rows[1].row.statement.consumption.has_value());
    EXPECT_FALSE(rows[1].row.statement.tariff.has_value());
}

TEST(StatementCsvReader, BadLinesSayWhichColumn) {
    const std::string header =
        "office;account;period;opening_balance;accrued;paid;closing_balance;consumption\n";
    auto rows = read_all<StatementCsvReader, StatementRecord>(header +
                                                              "SIM;1;2026-13;0;0;0;0;\n"
                                                              "SIM;1;04.2026;0;0;0;0;\n"
                                                              "SIM;1;2026-04;0;1,234;0;0;\n"
                                                              "SIM;1;2026-04;0;0;;0;\n"
                                                              "SIM;1;2026-04;0;0;0;0;-5\n"
                                                              "SIM;;2026-04;0;0;0;0;\n");
    ASSERT_EQ(rows.size(), 6u);
    EXPECT_EQ(rows[0].error.rfind("period: ", 0), 0u) << rows[0].error;
    EXPECT_EQ(rows[1].error.rfind("period: ", 0), 0u) << rows[1].error;
    EXPECT_EQ(rows[2].error.rfind("accrued: ", 0), 0u) << rows[2].error;
    EXPECT_EQ(rows[3].error.rfind("paid: empty", 0), 0u) << rows[3].error;
    EXPECT_EQ(rows[4].error.rfind("consumption: ", 0), 0u) << rows[4].error;
    EXPECT_EQ(rows[5].error.rfind("account: ", 0), 0u) << rows[5].error;
    EXPECT_EQ(rows[5].line, 7);

    Status missing;
    read_all<StatementCsvReader, StatementRecord>("office;account;period;accrued\n", &missing);
    EXPECT_FALSE(missing.ok());
    EXPECT_NE(missing.message().find("opening_balance"), std::string::npos) << missing.message();
}

TEST(PaymentCsvReader, ParsesAndRefusesTheQrSeparator) {
    auto rows = read_all<PaymentCsvReader, PaymentRecord>(
        "office,account,payment_id,date,amount,channel\n"
        "SIM,100200,P-1,15.04.2026,\"1 000,00\",Почта России\n"
        "SIM,100200,P|2,2026-04-16,10,\n"
        "SIM,100200,P-3,2026-04-16,10,Банк|Онлайн\n"
        "SIM,100200,,2026-04-16,10,\n"
        "SIM,100200,P-5,2026-02-30,10,\n");
    ASSERT_EQ(rows.size(), 5u);
    ASSERT_TRUE(rows[0].ok()) << rows[0].error;
    EXPECT_EQ(rows[0].row.payment.payment_id, "P-1");
    EXPECT_EQ(rows[0].row.payment.date, "2026-04-15");
    EXPECT_EQ(rows[0].row.payment.amount, 100000);
    EXPECT_EQ(rows[0].row.payment.channel, "Почта России");
    EXPECT_EQ(rows[1].error.rfind("payment_id: '|'", 0), 0u) << rows[1].error;
    EXPECT_EQ(rows[2].error.rfind("channel: '|'", 0), 0u) << rows[2].error;
    EXPECT_EQ(rows[3].error.rfind("payment_id: empty", 0), 0u) << rows[3].error;
    EXPECT_EQ(rows[4].error.rfind("date: ", 0), 0u) << rows[4].error;
}

// ---- the service on SQLite ----

class StatementsService : public ::testing::Test {
  protected:
    void SetUp() override {
        auto opened = open_storage("sqlite:" + dir_.path() + "/lkk.db");
        ASSERT_TRUE(opened.ok()) << opened.error().message();
        st_ = std::move(opened.value());
        ASSERT_TRUE(st_->insert_office({"SIM", "Симферопольское УЭГХ", "+7 1", ""}).ok());
        for (const char* number : {"100200", "100300"}) {
            BillingAccount a;
            a.office_code = "SIM";
            a.account_number = number;
            a.surname = "Иванов";
            a.surname_key = "иванов";
            ASSERT_TRUE(st_->upsert_billing_account(a).ok());
        }
        auto user = st_->insert_user("ivan@example.org", "h", 1);
        ASSERT_TRUE(user.ok());
        user_ = *user;
        auto other = st_->insert_user("other@example.org", "h", 1);
        ASSERT_TRUE(other.ok());
        other_ = *other;
        auto acc = st_->find_billing_account("SIM", "100200");
        ASSERT_TRUE(acc.ok() && acc->has_value());
        auto link = st_->insert_link(user_, (*acc)->id, 1);
        ASSERT_TRUE(link.ok());
        link_ = *link;
        svc_ = std::make_unique<Statements>(*st_, clock_);
    }

    Result<CsvImportReport> statements(const std::string& text) {
        std::istringstream in(text);
        return svc_->import_statements(in, {});
    }
    Result<CsvImportReport> payments(const std::string& text) {
        std::istringstream in(text);
        return svc_->import_payments(in, {});
    }

    test::TempDir dir_;
    ManualClock clock_{utc(2026, 5, 20)};
    std::unique_ptr<Storage> st_;
    std::unique_ptr<Statements> svc_;
    int64_t user_ = 0;
    int64_t other_ = 0;
    int64_t link_ = 0;
};

const char* kStatementsHeader =
    "office;account;period;opening_balance;accrued;paid;closing_balance;consumption\n";

TEST_F(StatementsService, ImportUpsertsAndAReimportChangesNothing) {
    const std::string file = std::string(kStatementsHeader) +
                             "SIM;100200;2026-03;0;500;0;500;70\n"
                             "SIM;100200;2026-04;500;734,40;500;734,40;102,5\n"
                             "SIM;100300;2026-04;0;0;100;-100;\n";
    auto first = statements(file);
    ASSERT_TRUE(first.ok()) << first.error().message();
    EXPECT_TRUE(first->committed);
    EXPECT_EQ(first->inserted, 3);
    clock_.set(utc(2026, 6, 1));
    auto again = statements(file);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->inserted, 0);
    EXPECT_EQ(again->updated, 3);
    auto acc = svc_->account(user_, link_);
    ASSERT_TRUE(acc.ok()) << acc.error().message();
    ASSERT_TRUE(acc->latest.has_value());
    EXPECT_EQ(acc->latest->period, "2026-04");
    EXPECT_EQ(acc->latest->closing_balance, 73440);
    EXPECT_EQ(acc->latest->imported_at, utc(2026, 5, 20)) << "a re-import keeps the first time";
    ASSERT_EQ(acc->history.size(), 2u);
    EXPECT_EQ(acc->history[0].period, "2026-03");
    EXPECT_EQ(acc->history[1].consumption, 102500);

    // A corrected figure replaces the month's statement.
    auto fixed =
        statements(std::string(kStatementsHeader) + "SIM;100200;2026-04;500;700;500;700;100\n");
    ASSERT_TRUE(fixed.ok());
    EXPECT_EQ(fixed->updated, 1);
    EXPECT_EQ(svc_->account(user_, link_)->latest->closing_balance, 70000);
}

TEST_F(StatementsService, BadFileImportsNothingAndNamesEveryLine) {
    auto r = statements(std::string(kStatementsHeader) +
                        "SIM;100200;2026-04;0;0;0;0;\n"
                        "SIM;999999;2026-04;0;0;0;0;\n"
                        "XXX;100200;2026-04;0;0;0;0;\n"
                        "SIM;100200;2026-04;0;abc;0;0;\n");
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_FALSE(r->committed);
    ASSERT_EQ(r->bad, 3);
    EXPECT_EQ(r->bad_lines[0].line, 3);
    EXPECT_NE(r->bad_lines[0].error.find("no billing account 999999"), std::string::npos);
    EXPECT_EQ(r->bad_lines[1].line, 4);
    EXPECT_NE(r->bad_lines[1].error.find("office: XXX not found"), std::string::npos);
    EXPECT_EQ(r->bad_lines[2].line, 5);
    EXPECT_EQ(*money_store_of(*st_)->count_statements(), 0);
}

TEST_F(StatementsService, PaymentsUpsertByOfficeAndPaymentId) {
    const std::string file =
        "office;account;payment_id;date;amount;channel\n"
        "SIM;100200;A1;2026-04-10;500;Почта России\n"
        "SIM;100200;A2;2026-05-05;734,40;Сбербанк Онлайн\n"
        "SIM;100200;OLD;2020-01-05;10;\n";
    ASSERT_TRUE(statements(std::string(kStatementsHeader) + "SIM;100200;2026-04;0;0;0;0;\n").ok());
    auto first = payments(file);
    ASSERT_TRUE(first.ok()) << first.error().message();
    EXPECT_EQ(first->inserted, 3);
    auto again = payments(file);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->inserted, 0);
    EXPECT_EQ(*money_store_of(*st_)->count_payments(), 3);
    auto acc = svc_->account(user_, link_);
    ASSERT_TRUE(acc.ok());
    // Newest first, and only those of the history's 36 months.
    ASSERT_EQ(acc->payments.size(), 2u);
    EXPECT_EQ(acc->payments[0].payment_id, "A2");
    EXPECT_EQ(acc->payments[0].amount, 73440);
    EXPECT_EQ(acc->payments[1].channel, "Почта России");
}

TEST_F(StatementsService, OneMonthForTheBill) {
    ASSERT_TRUE(statements(std::string(kStatementsHeader) + "SIM;100200;2026-04;0;5;0;5;\n").ok());
    auto april = svc_->month(user_, link_, "2026-04");
    ASSERT_TRUE(april.ok()) << april.error().message();
    EXPECT_EQ(april->statement.closing_balance, 500);
    EXPECT_EQ(april->account.account.account_number, "100200");
    EXPECT_EQ(april->account.office.code, "SIM");
    for (const char* missing : {"2026-05", "2026-4", "../x", ""}) {
        EXPECT_EQ(svc_->month(user_, link_, missing).error().code(), StatusCode::not_found)
            << missing;
    }
    EXPECT_EQ(svc_->month(other_, link_, "2026-04").error().code(), StatusCode::not_found);
}

TEST_F(StatementsService, AnotherCabinetsAccountIsNotFound) {
    EXPECT_EQ(svc_->account(other_, link_).error().code(), StatusCode::not_found);
    auto none = svc_->account(user_, link_);
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->latest.has_value());
    EXPECT_TRUE(none->history.empty());
    auto links = st_->list_links(user_);
    ASSERT_TRUE(links.ok());
    auto latest = svc_->latest_of(*links);
    ASSERT_TRUE(latest.ok());
    ASSERT_EQ(latest->size(), 1u);
    EXPECT_FALSE((*latest)[0].has_value());
}

}  // namespace
}  // namespace lkk
