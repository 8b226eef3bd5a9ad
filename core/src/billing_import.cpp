// Billing import: the billing file's line parser and the all-or-nothing importer.
// See lkk/billing_import.h for the file format; the reading and the import loop are those of
// every CSV import (csv_import.cpp, csv_pipeline.h).
#include "lkk/billing_import.h"

#include "csv_pipeline.h"
#include "lkk/rules.h"

namespace lkk {

namespace {

using csv::quoted;

const CsvColumns& billing_columns() {
    static const CsvColumns columns = {
        {"office", "account", "surname", "last_payment", "last_payment_date", "address", "balance"},
        {"account", "surname", "last_payment", "last_payment_date"}};
    return columns;
}

std::string rule_error(std::string_view column, rules::RuleError error, const std::string& value) {
    return std::string(column) + ": " + std::string(rules::message(error).en) + quoted(value);
}

}  // namespace

BillingCsvReader::BillingCsvReader(std::istream& in, TextEncoding encoding,
                                   std::string default_office)
    : table_(in, encoding, billing_columns()), default_office_(csv::trim(default_office)) {}

Status BillingCsvReader::read_header() {
    if (Status s = table_.read_header(); !s.ok()) return s;
    if (!table_.has_column("office") && default_office_.empty()) {
        return Status::Invalid(
            "line 1: column 'office' is missing; add it, or give the office with --office CODE");
    }
    return Status::Ok();
}

bool BillingCsvReader::next(BillingRecord& record) {
    CsvLine line;
    if (!table_.next(line)) return false;
    record = BillingRecord{};
    record.line = line.line;
    record.error = line.error.empty() ? parse_record(line, record) : line.error;
    return true;
}

// Checks one data line; answers the reason it is bad, or "" with record.account filled.
std::string BillingCsvReader::parse_record(const CsvLine& line, BillingRecord& record) const {
    auto field = [&](const char* name) { return table_.field(line, name); };
    BillingAccount& a = record.account;

    if (std::string e = csv::office_of_line(field("office"), default_office_, a.office_code);
        !e.empty()) {
        return e;
    }

    const std::string account = field("account");
    auto number = rules::normalize_account_number(account);
    if (!number.ok()) return rule_error("account", number.error(), account);
    a.account_number = number.value();

    a.surname = field("surname");
    auto key = rules::normalize_surname(a.surname);
    if (!key.ok()) return rule_error("surname", key.error(), a.surname);
    a.surname_key = key.value();

    const std::string payment = field("last_payment");
    if (payment.empty()) {
        a.last_payment = 0;
    } else {
        auto kopecks = rules::parse_amount_kopecks(payment);
        if (!kopecks.ok()) return rule_error("last_payment", kopecks.error(), payment);
        a.last_payment = kopecks.value();
    }

    const std::string date = field("last_payment_date");
    if (date.empty()) {
        if (a.last_payment != 0) {
            return "last_payment_date: empty while last_payment is " +
                   rules::format_kopecks(a.last_payment, '.', "") +
                   "; give the payment date, or 0 as the amount when nothing was ever paid";
        }
    } else {
        auto parsed = parse_billing_date(date);
        if (!parsed.ok()) return "last_payment_date: " + parsed.error().message() + quoted(date);
        a.last_payment_date = parsed.value();
    }

    a.address = field("address");
    const std::string balance = field("balance");
    if (!balance.empty()) {
        auto kopecks = parse_signed_kopecks(balance);
        if (!kopecks.ok()) return "balance: " + kopecks.error().message() + quoted(balance);
        a.balance = kopecks.value();
    }
    return "";
}

Result<BillingImportReport> import_billing_csv(
    Storage& storage, std::istream& in, const BillingImportOptions& options,
    const std::function<void(const BillingImportProgress&)>& progress) {
    csv::OfficeCodes offices;
    if (Status s = offices.load(storage); !s.ok()) return s;
    if (!options.office.empty() && offices.find(options.office) == nullptr) {
        return Status::NotFound("office " + options.office +
                                " not found: see `lkk-admin offices list`");
    }
    BillingCsvReader reader(in, options.encoding, options.office);
    if (Status s = reader.read_header(); !s.ok()) return s;
    csv::ImportSteps<BillingRecord> steps;
    steps.resolve = [&offices](BillingRecord& r) {
        r.error = offices.resolve(r.account.office_code);
    };
    steps.store = [&storage](std::vector<BillingRecord>& records) {
        std::vector<BillingAccount> accounts;
        accounts.reserve(records.size());
        for (auto& r : records) accounts.push_back(std::move(r.account));
        return storage.upsert_billing_accounts(accounts);
    };
    steps.count = [&storage] { return storage.count_billing_accounts(); };
    return csv::run_import(storage, reader, in, options, steps, progress);
}

}  // namespace lkk
