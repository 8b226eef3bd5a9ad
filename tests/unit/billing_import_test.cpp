// The billing CSV reader: what support staff feed it from real billing exports.
#include "lkk/billing_import.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace lkk {
namespace {

struct ReadResult {
    Status header;
    char delimiter = 0;
    std::vector<BillingRecord> records;
};

ReadResult read_all(const std::string& text, TextEncoding encoding = TextEncoding::utf8,
                    const std::string& office = "") {
    std::istringstream in(text);
    BillingCsvReader reader(in, encoding, office);
    ReadResult r;
    r.header = reader.read_header();
    if (!r.header.ok()) return r;
    r.delimiter = reader.delimiter();
    BillingRecord rec;
    while (reader.next(rec)) r.records.push_back(rec);
    return r;
}

const std::string kHeader = "office;account;surname;last_payment;last_payment_date\n";

TEST(BillingCsvReader, SemicolonFileWithDecimalComma) {
    auto r = read_all(kHeader + "SIM;12-345 67;Иванов;1 234,50;2026-03-15\n");
    ASSERT_TRUE(r.header.ok()) << r.header.message();
    EXPECT_EQ(r.delimiter, ';');
    ASSERT_EQ(r.records.size(), 1u);
    const auto& rec = r.records[0];
    ASSERT_TRUE(rec.ok()) << rec.error;
    EXPECT_EQ(rec.line, 2);
    EXPECT_EQ(rec.account.office_code, "SIM");
    EXPECT_EQ(rec.account.account_number, "1234567");
    EXPECT_EQ(rec.account.surname, "Иванов");
    EXPECT_EQ(rec.account.surname_key, "иванов");
    EXPECT_EQ(rec.account.last_payment, 123450);
    EXPECT_EQ(rec.account.last_payment_date, "2026-03-15");
    EXPECT_FALSE(rec.account.balance.has_value());
}

TEST(BillingCsvReader, CommaFileWithQuotedDecimalComma) {
    auto r = read_all(
        "account,surname,last_payment,last_payment_date,office,address,balance\r\n"
        "100,Петрова-Водкина,\"1234,5\",15.03.2026,KRM,\"ул. Ленина, 1, кв. "
        "\"\"5\"\"\",-10.25\r\n");
    ASSERT_TRUE(r.header.ok()) << r.header.message();
    EXPECT_EQ(r.delimiter, ',');
    ASSERT_EQ(r.records.size(), 1u);
    const auto& a = r.records[0].account;
    ASSERT_TRUE(r.records[0].ok()) << r.records[0].error;
    EXPECT_EQ(a.office_code, "KRM");
    EXPECT_EQ(a.surname_key, "петрова-водкина");
    EXPECT_EQ(a.last_payment, 123450);
    EXPECT_EQ(a.last_payment_date, "2026-03-15");
    EXPECT_EQ(a.address, "ул. Ленина, 1, кв. \"5\"");
    ASSERT_TRUE(a.balance.has_value());
    EXPECT_EQ(*a.balance, -1025);
}

TEST(BillingCsvReader, Utf8BomIsSkipped) {
    auto r = read_all("\xEF\xBB\xBF" + kHeader + "SIM;1;Ёлкина;0;\n");
    ASSERT_TRUE(r.header.ok()) << r.header.message();
    ASSERT_EQ(r.records.size(), 1u);
    ASSERT_TRUE(r.records[0].ok()) << r.records[0].error;
    EXPECT_EQ(r.records[0].account.surname, "Ёлкина");
    EXPECT_EQ(r.records[0].account.surname_key, "елкина");
}

TEST(BillingCsvReader, Cp1251IsConvertedToUtf8) {
    // "Ёлкина" in Windows-1251.
    const std::string surname = "\xA8\xEB\xEA\xE8\xED\xE0";
    auto r = read_all(kHeader + "SIM;77;" + surname + ";100;01.02.2026\n", TextEncoding::cp1251);
    ASSERT_TRUE(r.header.ok()) << r.header.message();
    ASSERT_EQ(r.records.size(), 1u);
    ASSERT_TRUE(r.records[0].ok()) << r.records[0].error;
    EXPECT_EQ(r.records[0].account.surname, "Ёлкина");
    EXPECT_EQ(r.records[0].account.surname_key, "елкина");
    EXPECT_EQ(r.records[0].account.last_payment, 10000);
}

TEST(BillingCsvReader, Cp1251ReadAsUtf8SaysWhichEncodingToUse) {
    auto r = read_all(kHeader + "SIM;77;\xA8\xEB\xEA\xE8\xED\xE0;100;01.02.2026\n");
    ASSERT_TRUE(r.header.ok());
    ASSERT_EQ(r.records.size(), 1u);
    EXPECT_FALSE(r.records[0].ok());
    EXPECT_NE(r.records[0].error.find("--encoding cp1251"), std::string::npos)
        << r.records[0].error;
}

TEST(BillingCsvReader, BadLinesCarryTheirPhysicalLineNumbers) {
    std::string text = kHeader;
    text += "SIM;1;Иванов;10;2026-01-01\n";       // 2
    text += "\n";                                 // 3 blank: skipped, still counted
    text += "SIM;2;Петров;10;2026-01-01\n";       // 4
    text += "SIM;3;Сидоров;12,345;2026-01-01\n";  // 5 three decimals
    text += "SIM;4;Кузнецов;5;2026-02-30\n";      // 6 no such date
    text += "SIM;5;Смирнов;abc;2026-01-01\n";     // 7 bad amount
    text += "SIM;6;Попов;10\n";                   // 8 too few fields
    text += "SIM;7;Волков;10;\n";                 // 9 amount without date
    text += "SIM;8;\"Орлов;10;2026-01-01\n";      // 10 unclosed quote
    text += "SIM;;Белов;10;2026-01-01\n";         // 11 no account
    text += "SIM;9;;10;2026-01-01\n";             // 12 no surname
    text += "SIM;10;Зайцев;0;\n";                 // 13 never paid: fine
    auto r = read_all(text);
    ASSERT_TRUE(r.header.ok());
    std::vector<int64_t> bad;
    for (const auto& rec : r.records) {
        if (!rec.ok()) bad.push_back(rec.line);
    }
    EXPECT_EQ(bad, (std::vector<int64_t>{5, 6, 7, 8, 9, 10, 11, 12}));
    ASSERT_EQ(r.records.size(), 11u);
    EXPECT_EQ(r.records[2].line, 5);
    EXPECT_EQ(r.records[2].error.rfind("last_payment: ", 0), 0u) << r.records[2].error;
    EXPECT_EQ(r.records[3].error.rfind("last_payment_date: ", 0), 0u) << r.records[3].error;
    EXPECT_EQ(r.records[4].error.rfind("last_payment: ", 0), 0u) << r.records[4].error;
    EXPECT_NE(r.records[4].error.find("abc"), std::string::npos) << r.records[4].error;
    EXPECT_EQ(r.records[5].error.rfind("expected 5 fields", 0), 0u) << r.records[5].error;
    EXPECT_EQ(r.records[6].error.rfind("last_payment_date: ", 0), 0u) << r.records[6].error;
    EXPECT_EQ(r.records[8].error.rfind("account: ", 0), 0u) << r.records[8].error;
    EXPECT_EQ(r.records[9].error.rfind("surname: ", 0), 0u) << r.records[9].error;
    EXPECT_TRUE(r.records[10].ok()) << r.records[10].error;
    EXPECT_EQ(r.records[10].account.last_payment, 0);
    EXPECT_EQ(r.records[10].account.last_payment_date, "");
}

TEST(BillingCsvReader, HeaderProblemsAreNamed) {
    EXPECT_NE(read_all("").header.message().find("empty"), std::string::npos);
    auto unknown = read_all("office;account;surname;last_payment;paid_on\n");
    EXPECT_FALSE(unknown.header.ok());
    EXPECT_NE(unknown.header.message().find("unknown column 'paid_on'"), std::string::npos)
        << unknown.header.message();
    auto twice = read_all("office;account;account;surname;last_payment;last_payment_date\n");
    EXPECT_NE(twice.header.message().find("twice"), std::string::npos);
    auto no_office = read_all("account;surname;last_payment;last_payment_date\n");
    EXPECT_NE(no_office.header.message().find("--office"), std::string::npos);
    EXPECT_EQ(no_office.header.message().rfind("line 1: ", 0), 0u);
}

TEST(BillingCsvReader, TrailingDelimiterFromSpreadsheetsIsIgnored) {
    auto r = read_all(
        "office;account;surname;last_payment;last_payment_date;\n"
        "SIM;1;Ли;0;;\n");
    ASSERT_TRUE(r.header.ok()) << r.header.message();
    ASSERT_EQ(r.records.size(), 1u);
    EXPECT_TRUE(r.records[0].ok()) << r.records[0].error;
}

TEST(BillingCsvReader, DefaultOfficeFillsAMissingColumn) {
    auto r = read_all("Account;Surname;Last_Payment;Last_Payment_Date\n5;Ким;1;2026-01-01\n",
                      TextEncoding::utf8, "SIM");
    ASSERT_TRUE(r.header.ok()) << r.header.message();
    ASSERT_EQ(r.records.size(), 1u);
    EXPECT_EQ(r.records[0].account.office_code, "SIM");
}

TEST(BillingCsvReader, DefaultOfficeDoesNotSilentlyOverrideAnotherOffice) {
    auto r = read_all(kHeader + ";1;Ким;1;2026-01-01\nKRM;2;Ли;1;2026-01-01\n", TextEncoding::utf8,
                      "SIM");
    ASSERT_EQ(r.records.size(), 2u);
    EXPECT_TRUE(r.records[0].ok());
    EXPECT_EQ(r.records[0].account.office_code, "SIM");
    EXPECT_FALSE(r.records[1].ok());
}

TEST(SplitCsvLine, QuotesAndEmptyFields) {
    auto f = split_csv_line("a;\"b;c\";;\"d\"\"e\"", ';');
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f.value(), (std::vector<std::string>{"a", "b;c", "", "d\"e"}));
    EXPECT_EQ(split_csv_line("a;", ';').value(), (std::vector<std::string>{"a", ""}));
    EXPECT_FALSE(split_csv_line("\"ab\"c;d", ';').ok());
    EXPECT_FALSE(split_csv_line("\"ab", ';').ok());
}

TEST(ParseSignedKopecks, SignsAndMagnitude) {
    EXPECT_EQ(parse_signed_kopecks("-1 234,56").value(), -123456);
    EXPECT_EQ(parse_signed_kopecks("+7.5").value(), 750);
    EXPECT_EQ(parse_signed_kopecks("0").value(), 0);
    EXPECT_FALSE(parse_signed_kopecks("--1").ok());
    EXPECT_FALSE(parse_signed_kopecks("-").ok());
    EXPECT_FALSE(parse_signed_kopecks("1,234").ok());
}

TEST(ParseBillingDate, BothFormsAndTheCalendar) {
    EXPECT_EQ(parse_billing_date("2024-02-29").value(), "2024-02-29");
    EXPECT_EQ(parse_billing_date("29.02.2024").value(), "2024-02-29");
    EXPECT_FALSE(parse_billing_date("29.02.2023").ok());
    EXPECT_FALSE(parse_billing_date("2023-13-01").ok());
    EXPECT_FALSE(parse_billing_date("2023-1-01").ok());
    EXPECT_FALSE(parse_billing_date("01/02/2023").ok());
}

TEST(ParseTextEncoding, Names) {
    EXPECT_EQ(parse_text_encoding("UTF-8").value(), TextEncoding::utf8);
    EXPECT_EQ(parse_text_encoding("cp1251").value(), TextEncoding::cp1251);
    EXPECT_EQ(parse_text_encoding("windows-1251").value(), TextEncoding::cp1251);
    EXPECT_FALSE(parse_text_encoding("koi8-r").ok());
}

}  // namespace
}  // namespace lkk

// ---- the importer, against a real SQLite file ----

namespace lkk {
namespace {

class BillingImport : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = ::testing::TempDir() + "lkk_billing_import_" +
               std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name();
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        auto s = open_storage("sqlite:" + dir_ + "/lkk.db");
        ASSERT_TRUE(s.ok()) << s.error().message();
        storage_ = std::move(s.value());
        ASSERT_TRUE(storage_->insert_office({"SIM", "Симферопольское УЭГХ", "+7", ""}).ok());
        ASSERT_TRUE(storage_->insert_office({"KRC", "Керченское УЭГХ", "+7", ""}).ok());
    }
    void TearDown() override {
        storage_.reset();
        std::filesystem::remove_all(dir_);
    }
    Result<BillingImportReport> run(const std::string& text, BillingImportOptions o = {}) {
        std::istringstream in(text);
        return import_billing_csv(*storage_, in, o);
    }
    int64_t count() { return storage_->count_billing_accounts().value(); }

    std::string dir_;
    std::unique_ptr<Storage> storage_;
};

std::string many_rows(int n, int bad_at = -1) {
    std::string text = kHeader;
    for (int i = 1; i <= n; ++i) {
        text += (i == bad_at ? "NOPE;" : (i % 2 ? "SIM;" : "KRC;")) + std::to_string(i) +
                ";Иванов;10,50;2026-01-0" + std::to_string(1 + i % 9) + "\n";
    }
    return text;
}

TEST_F(BillingImport, ImportsManyRowsInBatchesAndCountsInsertedAndUpdated) {
    auto r = run(many_rows(2000));
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_TRUE(r->committed);
    EXPECT_EQ(r->rows, 2000);
    EXPECT_EQ(r->inserted, 2000);
    EXPECT_EQ(r->updated, 0);
    EXPECT_EQ(count(), 2000);
    auto again = run(many_rows(2100));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->inserted, 100);
    EXPECT_EQ(again->updated, 2000);
    auto one = storage_->find_billing_account("KRC", "1000");
    ASSERT_TRUE(one.ok() && one->has_value());
    EXPECT_EQ((*one)->last_payment, 1050);
    EXPECT_EQ((*one)->surname_key, "иванов");
}

TEST_F(BillingImport, TheSameAccountTwiceInOneFileKeepsTheLaterLine) {
    // Line 65 repeats account 40: rows 33-64 of the file go to storage in one statement.
    std::string text = many_rows(63);
    text += "KRC;40;Петрова-Водкина;77;2026-05-05\n";
    auto r = run(text);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->inserted, 63);
    EXPECT_EQ(r->updated, 1);
    auto a = storage_->find_billing_account("KRC", "40");
    ASSERT_TRUE(a.ok() && a->has_value());
    EXPECT_EQ((*a)->surname, "Петрова-Водкина");
    EXPECT_EQ((*a)->last_payment, 7700);
    EXPECT_EQ((*a)->last_payment_date, "2026-05-05");
}

TEST_F(BillingImport, OneBadLineDeepInTheFileKeepsEverythingOut) {
    auto r = run(many_rows(3000, 2500));
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_FALSE(r->committed);
    EXPECT_EQ(r->rows, 3000);
    EXPECT_EQ(r->bad, 1);
    ASSERT_EQ(r->bad_lines.size(), 1u);
    EXPECT_EQ(r->bad_lines[0].line, 2501);  // the header is line 1
    EXPECT_NE(r->bad_lines[0].error.find("NOPE not found"), std::string::npos);
    EXPECT_EQ(r->inserted, 0);
    EXPECT_EQ(count(), 0);
}

TEST_F(BillingImport, SkipBadImportsTheRest) {
    BillingImportOptions o;
    o.skip_bad = true;
    auto r = run(many_rows(1000, 10), o);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->committed);
    EXPECT_EQ(r->bad, 1);
    EXPECT_EQ(r->inserted, 999);
    EXPECT_EQ(count(), 999);
}

TEST_F(BillingImport, DryRunReportsButChangesNothing) {
    BillingImportOptions o;
    o.dry_run = true;
    auto r = run(many_rows(700), o);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->committed);
    EXPECT_EQ(r->inserted, 700);  // what would happen
    EXPECT_EQ(count(), 0);
}

TEST_F(BillingImport, OfficeCodesMatchIgnoringCaseAndUnknownOptionIsRefused) {
    auto r = run(kHeader + "sim;1;Ли;0;\n");
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->committed);
    EXPECT_TRUE(storage_->find_billing_account("SIM", "1").value().has_value());
    BillingImportOptions o;
    o.office = "NOPE";
    auto refused = run("account;surname;last_payment;last_payment_date\n1;Ли;0;\n", o);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code(), StatusCode::not_found);
}

TEST_F(BillingImport, BadHeaderIsAnErrorNamingLineOne) {
    auto r = run("office;account\n");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message().rfind("line 1: ", 0), 0u) << r.error().message();
}

TEST_F(BillingImport, ProgressIsReportedAndEndsAtTheLastRow) {
    std::vector<BillingImportProgress> seen;
    std::istringstream in(many_rows(1500));
    auto r = import_billing_csv(*storage_, in, {},
                                [&seen](const BillingImportProgress& p) { seen.push_back(p); });
    ASSERT_TRUE(r.ok());
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.back().rows, 1500);
    EXPECT_GT(seen.back().bytes, 1500u * 20);
}

}  // namespace
}  // namespace lkk
