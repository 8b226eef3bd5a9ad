// Meter readings, the monthly chore (SPEC 9): the rules as pure functions (parsing a typed
// value, the window of days, rollover and confirmation), and the Readings service that the
// pages, the API and lkk-admin call. It knows nothing of HTTP; every operation is
// thread-safe and blocking (database): call it from the thread pool. Nothing throws.
//
// Values are thousandths of a cubic metre in int64 (kMilli per m³), exact for every
// readings.decimals from 0 to 3. A period is the month "YYYY-MM" in portal.time_zone.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lkk/cabinet.h"
#include "lkk/clock.h"
#include "lkk/csv_import.h"
#include "lkk/locale.h"
#include "lkk/meter_store.h"
#include "lkk/settings.h"
#include "lkk/status.h"
#include "lkk/storage.h"

namespace lkk {

namespace readings {

inline constexpr int64_t kMilli = 1000;  // thousandths of m³ per m³
inline constexpr int kMaxDigits = 9;     // a dial of more digits is not a gas meter
inline constexpr int kHistoryMonths = 36;
inline constexpr int kVerificationWarnDays = 60;

// ---- the typed value ----

enum class ValueError {
    empty,
    sign,                // '-' or '+'
    invalid_char,        // letters or other signs
    several_separators,  // "1.2.3"
    too_many_decimals,   // more decimals than readings.decimals allows
    missing_digits,      // ",5" or "12,"
    too_large,           // more integer digits than any dial has
};
Message message(ValueError error);
std::string_view error_code(ValueError error);
// The message with the allowed number of decimals said where it matters.
std::string format_message(ValueError error, Locale locale, int decimals);

// "12345", "12345,6", "12 345.678": dot or comma, spaces (also NBSP and thin spaces)
// ignored, at most `decimals` decimals. Exact: thousandths, never through floating point.
Result<int64_t, ValueError> parse_value(std::string_view input, int decimals);

// Thousandths as a person reads them, with the decimal separator given: at least `decimals`
// decimals, more only when the value has them (a utility import with 3 decimals).
std::string format_value(int64_t milli, int decimals, char separator = ',');

// ---- the window of days ----

int days_in_month(int year, int month);
// "YYYY-MM"; months out of range carry into the year (month 0 is December before).
std::string period_of(int year, int month);
// The period `months` months before `period` ("2026-01", 1 -> "2025-12").
std::string period_before(const std::string& period, int months);
// "YYYY-MM-DD".
std::string iso_date(const CivilDate& d);
// "DD.MM.YYYY", as Russian text writes a date.
std::string dotted_date(const CivilDate& d);
// "MM.YYYY" of a period "YYYY-MM" (anything else is answered as it is).
std::string dotted_month(const std::string& period);

struct Window {
    bool open = false;
    CivilDate today;     // in portal.time_zone
    std::string period;  // the month a reading submitted today belongs to
    CivilDate start;     // this month's window (days clamped to the month's length)
    CivilDate end;
    CivilDate next_start;  // when it opens next (start when not yet, else next month's)
};

// The window at a moment: days start_day..end_day of the current month in time_zone,
// inclusive; a day past the month's end means its last day (31 in February: the 28th/29th).
Window window_at(int64_t now, const std::string& time_zone, int start_day, int end_day);

// ---- a new value against the last one ----

enum class Verdict {
    ok,               // store it
    below_last,       // a form error: less than the last reading, and no plausible rollover
    too_many_digits,  // a form error: the dial has fewer digits
    rollover,         // the dial passed 10^digits: store with a confirmation
    big,              // more than max_monthly_m3: store with a confirmation
};

struct Check {
    Verdict verdict = Verdict::ok;
    std::optional<int64_t> consumption;  // thousandths; none without a last reading
    bool needs_confirmation() const {
        return verdict == Verdict::rollover || verdict == Verdict::big;
    }
    bool refused() const {
        return verdict == Verdict::below_last || verdict == Verdict::too_many_digits;
    }
};

// Below the last reading is a rollover when the dial passing 10^digits explains it with no
// more than max_monthly_m3 consumed; otherwise it is a mistake (below_last).
Check check_value(int64_t value, std::optional<int64_t> last, int digits, int64_t max_monthly_m3);

// Consumption between two readings of one dial (a rollover when the later one is smaller).
int64_t consumption_between(int64_t earlier, int64_t later, int digits);

// ---- поверка ----

enum class Verification { unknown, ok, due_soon, overdue };
// due_soon: within kVerificationWarnDays days from today (inclusive); overdue: before today.
Verification verification_state(const std::string& due_iso, const CivilDate& today);

}  // namespace readings

// ---- the service ----

struct MeterView {
    Meter meter;
    std::optional<Reading> last;        // newest reading before the current period
    std::optional<Reading> this_month;  // the reading of the current period, when given
    readings::Verification verification = readings::Verification::unknown;
};

struct HistoryRow {
    std::string period;
    Reading reading;
    std::optional<int64_t> consumption;  // against the previous reading; none for the first
};

struct MeterHistory {
    Meter meter;
    std::vector<HistoryRow> rows;  // oldest first, at most kHistoryMonths
};

struct AccountMeters {
    LinkedAccount account;
    readings::Window window;
    std::vector<MeterView> meters;
};

enum class SubmitOutcome {
    ok,                  // 303 / 200
    form_error,          // 400 / 422: see errors
    needs_confirmation,  // 422 needs_confirmation: see check (the implied consumption)
    window_closed,       // 409: see window.next_start
    not_found,           // 404: not this cabinet's account, or no such meter
    unavailable,         // 503
    internal,            // 500
};
std::string_view submit_outcome_code(SubmitOutcome outcome);

struct SubmitReply {
    SubmitOutcome outcome = SubmitOutcome::ok;
    std::vector<FieldError> errors;  // fields "meter", "value"
    readings::Check check;
    readings::Window window;
    std::optional<Meter> meter;
    std::optional<Reading> last;      // what the value was compared with
    std::optional<Reading> stored;    // ok: the reading now kept
    std::optional<Reading> replaced;  // ok: this month's earlier reading it replaced
    Status status;                    // unavailable / internal: for the error log
    bool ok() const { return outcome == SubmitOutcome::ok; }
};

// One data line of a meters file.
struct MeterRecord {
    int64_t line = 0;
    MeterRow row;
    std::string error;
    bool ok() const { return error.empty(); }
};

// The meters file (SPEC 9): office, account, meter, last_reading, last_reading_date, and
// optionally name, model, digits (default 5) and verification_due. Same conventions as the
// billing file (lkk/csv_import.h).
class MeterCsvReader {
  public:
    MeterCsvReader(std::istream& in, TextEncoding encoding, std::string default_office = "");
    Status read_header();
    bool next(MeterRecord& record);
    uint64_t bytes_read() const { return table_.bytes_read(); }

  private:
    std::string parse_record(const CsvLine& line, MeterRow& row) const;

    CsvTableReader table_;
    std::string default_office_;
};

class Readings {
  public:
    // All references must outlive the service. The meter side is found in storage
    // (meter_store_of); a backend without one answers unavailable.
    Readings(const Settings& settings, Storage& storage, Clock& clock);

    // The window now.
    readings::Window window();

    // The account of a registry row of this cabinet with its meters; not_found for another
    // cabinet's row.
    Result<AccountMeters> account(int64_t user_id, int64_t link_id);
    // The last kHistoryMonths months of every meter of the account.
    Result<std::vector<MeterHistory>> history(const AccountMeters& account);

    // SPEC 9's submission: the window, exact parsing, the last reading, rollover and big
    // consumption (stored only when confirm), one reading per month (a second replaces the
    // first), audited as "reading" with the replaced value.
    SubmitReply submit(int64_t user_id, int64_t link_id, std::string_view meter_serial,
                       std::string_view value, bool confirm, const RequestContext& ctx);

    // ---- support (lkk-admin) ----
    Result<CsvImportReport> import_meters(
        std::istream& in, const CsvImportOptions& options,
        const std::function<void(const CsvImportProgress&)>& progress = {});
    // The meters of one account with their newest reading.
    Result<std::vector<MeterRow>> list_meters(const std::string& office,
                                              const std::string& account_number);
    Status remove_meter(const std::string& office, const std::string& account_number,
                        const std::string& serial);
    Status export_readings(const ReadingExportFilter& filter,
                           const std::function<void(const ReadingExportRow&)>& on_row);

  private:
    Result<MeterStore*> meters();
    Result<BillingAccount> billing_account(const std::string& office,
                                           const std::string& account_number);

    const Settings& settings_;
    Storage& storage_;
    Clock& clock_;
};

}  // namespace lkk
