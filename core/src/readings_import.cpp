// The meters file's line parser (lkk-admin meters import, SPEC 9). Reading the table is
// CsvTableReader's job and the import loop csv::run_import's, as for the billing file.
#include <string>

#include "lkk/readings.h"
#include "lkk/rules.h"

namespace lkk {

namespace {

using csv::quoted;

const CsvColumns& meter_columns() {
    static const CsvColumns columns = {
        {"office", "account", "meter", "last_reading", "last_reading_date", "name", "model",
         "digits", "verification_due"},
        {"account", "meter", "last_reading", "last_reading_date"}};
    return columns;
}

constexpr size_t kMaxSerialLength = 64;
constexpr size_t kMaxNameLength = 255;

}  // namespace

MeterCsvReader::MeterCsvReader(std::istream& in, TextEncoding encoding, std::string default_office)
    : table_(in, encoding, meter_columns()), default_office_(csv::trim(default_office)) {}

Status MeterCsvReader::read_header() {
    if (Status s = table_.read_header(); !s.ok()) return s;
    if (!table_.has_column("office") && default_office_.empty()) {
        return Status::Invalid(
            "line 1: column 'office' is missing; add it, or give the office with --office CODE");
    }
    return Status::Ok();
}

bool MeterCsvReader::next(MeterRecord& record) {
    CsvLine line;
    if (!table_.next(line)) return false;
    record = MeterRecord{};
    record.line = line.line;
    record.error = line.error.empty() ? parse_record(line, record.row) : line.error;
    return true;
}

// Checks one data line; answers the reason it is bad, or "" with row filled.
std::string MeterCsvReader::parse_record(const CsvLine& line, MeterRow& row) const {
    auto field = [&](const char* name) { return table_.field(line, name); };
    if (std::string e = csv::office_of_line(field("office"), default_office_, row.office_code);
        !e.empty()) {
        return e;
    }
    const std::string account = field("account");
    auto number = rules::normalize_account_number(account);
    if (!number.ok()) {
        return "account: " + std::string(rules::message(number.error()).en) + quoted(account);
    }
    row.account_number = number.value();

    Meter& m = row.meter;
    m.serial = field("meter");
    if (m.serial.empty()) return "meter: empty; give the meter's serial number";
    if (m.serial.size() > kMaxSerialLength) return "meter: longer than 64 characters";
    m.name = field("name");
    m.model = field("model");
    if (m.name.size() > kMaxNameLength || m.model.size() > kMaxNameLength) {
        return "name/model: longer than 255 characters";
    }
    const std::string digits = field("digits");
    if (!digits.empty()) {
        if (digits.size() != 1 || digits[0] < '1' || digits[0] > '9') {
            return "digits: must be a whole number from 1 to 9" + quoted(digits);
        }
        m.digits = digits[0] - '0';
    }
    const std::string due = field("verification_due");
    if (!due.empty()) {
        auto parsed = parse_billing_date(due);
        if (!parsed.ok()) return "verification_due: " + parsed.error().message() + quoted(due);
        m.verification_due = parsed.value();
    }

    const std::string value = field("last_reading");
    const std::string date = field("last_reading_date");
    if (value.empty() && date.empty()) return "";  // a new meter without a reading yet
    if (value.empty()) return "last_reading: empty while last_reading_date is given";
    if (date.empty()) return "last_reading_date: empty while last_reading is given";
    // The utility's own figures may carry up to 3 decimals whatever subscribers may type.
    auto parsed = readings::parse_value(value, 3);
    if (!parsed.ok()) {
        return "last_reading: " + std::string(readings::message(parsed.error()).en) + quoted(value);
    }
    if (readings::check_value(parsed.value(), std::nullopt, m.digits, 0).verdict ==
        readings::Verdict::too_many_digits) {
        return "last_reading: more than " + std::to_string(m.digits) +
               " digits before the comma (the digits column)" + quoted(value);
    }
    auto day = parse_billing_date(date);
    if (!day.ok()) return "last_reading_date: " + day.error().message() + quoted(date);
    Reading r;
    r.period = day.value().substr(0, 7);
    r.value = parsed.value();
    r.source = ReadingSource::utility;
    // Noon UTC keeps the date the same in every time zone a portal may run in.
    r.submitted_at =
        utc_midnight({std::stoi(day.value().substr(0, 4)), std::stoi(day.value().substr(5, 2)),
                      std::stoi(day.value().substr(8, 2))}) +
        12 * 3600;
    row.last = r;
    return "";
}

}  // namespace lkk
