// The statements and payments files' line parsers (lkk-admin statements import, payments
// import; SPEC 10). Reading the table is CsvTableReader's job and the import loop
// csv::run_import's, as for the billing and meters files.
#include <string>

#include "lkk/readings.h"
#include "lkk/rules.h"
#include "lkk/statements.h"

namespace lkk {

namespace {

using csv::quoted;

const CsvColumns& statement_columns() {
    static const CsvColumns columns = {
        {"office", "account", "period", "opening_balance", "accrued", "paid", "closing_balance",
         "consumption", "tariff"},
        {"account", "period", "opening_balance", "accrued", "paid", "closing_balance"}};
    return columns;
}

const CsvColumns& payment_columns() {
    static const CsvColumns columns = {
        {"office", "account", "payment_id", "date", "amount", "channel"},
        {"account", "payment_id", "date", "amount"}};
    return columns;
}

Status office_column_or_option(const CsvTableReader& table, const std::string& default_office) {
    if (!table.has_column("office") && default_office.empty()) {
        return Status::Invalid(
            "line 1: column 'office' is missing; add it, or give the office with --office CODE");
    }
    return Status::Ok();
}

// The office and the normalised account number of a line; "" or the line's error.
std::string account_of_line(const CsvTableReader& table, const CsvLine& line,
                            const std::string& default_office, std::string& office,
                            std::string& account) {
    if (std::string e = csv::office_of_line(table.field(line, "office"), default_office, office);
        !e.empty()) {
        return e;
    }
    const std::string typed = table.field(line, "account");
    auto number = rules::normalize_account_number(typed);
    if (!number.ok()) {
        return "account: " + std::string(rules::message(number.error()).en) + quoted(typed);
    }
    account = number.value();
    return "";
}

// A required signed amount ("opening_balance: ...").
std::string amount_field(const std::string& column, const std::string& text, Kopecks& into) {
    if (text.empty()) return column + ": empty; give the amount in roubles (0 when none)";
    auto parsed = money::parse(text);
    if (!parsed.ok()) {
        return column + ": " + std::string(rules::message(parsed.error()).en) + quoted(text);
    }
    into = parsed.value();
    return "";
}

// Text that ends up on the bill or in its QR code: no '|', bounded.
std::string text_field(const std::string& column, const std::string& text, size_t max) {
    if (text.find('|') != std::string::npos) {
        return column + ": '|' is not allowed (it separates the fields of the payment QR code)" +
               quoted(text);
    }
    if (text.size() > max) return column + ": longer than " + std::to_string(max) + " bytes";
    return "";
}

}  // namespace

namespace statements {

Result<std::string> parse_period(const std::string& text) {
    const bool shape = text.size() == 7 && text[4] == '-' &&
                       std::isdigit(static_cast<unsigned char>(text[0])) != 0 &&
                       std::isdigit(static_cast<unsigned char>(text[1])) != 0 &&
                       std::isdigit(static_cast<unsigned char>(text[2])) != 0 &&
                       std::isdigit(static_cast<unsigned char>(text[3])) != 0 &&
                       std::isdigit(static_cast<unsigned char>(text[5])) != 0 &&
                       std::isdigit(static_cast<unsigned char>(text[6])) != 0;
    const int month = shape ? (text[5] - '0') * 10 + (text[6] - '0') : 0;
    if (!shape || month < 1 || month > 12 || text.substr(0, 4) < "1900") {
        return Status::Invalid("write the month as YYYY-MM, e.g. 2026-04");
    }
    return text;
}

}  // namespace statements

// ---- statements ----

StatementCsvReader::StatementCsvReader(std::istream& in, TextEncoding encoding,
                                       std::string default_office)
    : table_(in, encoding, statement_columns()), default_office_(csv::trim(default_office)) {}

Status StatementCsvReader::read_header() {
    if (Status s = table_.read_header(); !s.ok()) return s;
    return office_column_or_option(table_, default_office_);
}

bool StatementCsvReader::next(StatementRecord& record) {
    CsvLine line;
    if (!table_.next(line)) return false;
    record = StatementRecord{};
    record.line = line.line;
    record.error = line.error.empty() ? parse_record(line, record.row) : line.error;
    return true;
}

std::string StatementCsvReader::parse_record(const CsvLine& line, StatementRow& row) const {
    auto field = [&](const char* name) { return table_.field(line, name); };
    if (std::string e =
            account_of_line(table_, line, default_office_, row.office_code, row.account_number);
        !e.empty()) {
        return e;
    }
    Statement& s = row.statement;
    const std::string period = field("period");
    auto parsed = statements::parse_period(period);
    if (!parsed.ok()) return "period: " + parsed.error().message() + quoted(period);
    s.period = parsed.value();
    for (auto [column, into] :
         {std::pair{"opening_balance", &s.opening_balance}, std::pair{"accrued", &s.accrued},
          std::pair{"paid", &s.paid}, std::pair{"closing_balance", &s.closing_balance}}) {
        if (std::string e = amount_field(column, field(column), *into); !e.empty()) return e;
    }
    const std::string consumption = field("consumption");
    if (!consumption.empty()) {
        auto m3 = readings::parse_value(consumption, 3);
        if (!m3.ok()) {
            return "consumption: " + std::string(readings::message(m3.error()).en) +
                   quoted(consumption);
        }
        s.consumption = m3.value();
    }
    const std::string tariff = field("tariff");
    if (!tariff.empty()) {
        auto kopecks = rules::parse_amount_kopecks(tariff);
        if (!kopecks.ok()) {
            return "tariff: " + std::string(rules::message(kopecks.error()).en) + quoted(tariff);
        }
        s.tariff = kopecks.value();
    }
    return "";
}

// ---- payments ----

PaymentCsvReader::PaymentCsvReader(std::istream& in, TextEncoding encoding,
                                   std::string default_office)
    : table_(in, encoding, payment_columns()), default_office_(csv::trim(default_office)) {}

Status PaymentCsvReader::read_header() {
    if (Status s = table_.read_header(); !s.ok()) return s;
    return office_column_or_option(table_, default_office_);
}

bool PaymentCsvReader::next(PaymentRecord& record) {
    CsvLine line;
    if (!table_.next(line)) return false;
    record = PaymentRecord{};
    record.line = line.line;
    record.error = line.error.empty() ? parse_record(line, record.row) : line.error;
    return true;
}

std::string PaymentCsvReader::parse_record(const CsvLine& line, PaymentRow& row) const {
    auto field = [&](const char* name) { return table_.field(line, name); };
    if (std::string e =
            account_of_line(table_, line, default_office_, row.office_code, row.account_number);
        !e.empty()) {
        return e;
    }
    Payment& p = row.payment;
    p.payment_id = field("payment_id");
    if (p.payment_id.empty()) return "payment_id: empty; give billing's id of the payment";
    if (std::string e = text_field("payment_id", p.payment_id, statements::kMaxPaymentIdLength);
        !e.empty()) {
        return e;
    }
    const std::string date = field("date");
    auto day = parse_billing_date(date);
    if (!day.ok()) return "date: " + day.error().message() + quoted(date);
    p.date = day.value();
    if (std::string e = amount_field("amount", field("amount"), p.amount); !e.empty()) return e;
    p.channel = field("channel");
    return text_field("channel", p.channel, statements::kMaxChannelLength);
}

}  // namespace lkk
