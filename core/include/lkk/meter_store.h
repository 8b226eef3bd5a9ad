// Where meters and their readings are kept (SPEC 9): an interface of its own beside Storage,
// implemented by the SQL backends (the same object as Storage: find it with
// meter_store_of(storage)). Same rules as Storage: thread-safe, never throws, errors as
// Status, joins the caller's Storage::in_transaction on this thread.
//
// Reading values are thousandths of a cubic metre in int64 (exact for any readings.decimals
// from 0 to 3); a period is the month "YYYY-MM"; times are Unix seconds (UTC).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lkk/status.h"
#include "lkk/storage.h"

namespace lkk {

struct Meter {
    int64_t id = 0;
    int64_t billing_account_id = 0;
    std::string serial;  // unique within the account
    std::string name;    // "Счётчик в кухне"; may be empty
    std::string model;
    int digits = 5;                // integer digits on the dial: it rolls over at 10^digits
    std::string verification_due;  // поверка date "YYYY-MM-DD", empty when unknown
};

enum class ReadingSource { subscriber, utility };
std::string_view reading_source_name(ReadingSource s);  // "subscriber" | "utility"

struct Reading {
    int64_t id = 0;
    int64_t meter_id = 0;
    std::string period;  // "YYYY-MM"
    int64_t value = 0;   // thousandths of m³
    ReadingSource source = ReadingSource::subscriber;
    int64_t submitted_at = 0;
    std::optional<int64_t> user_id;  // who submitted it (subscriber readings)
};

// A meter with its account's keys, as the import writes it and `meters list` shows it.
struct MeterRow {
    std::string office_code;
    std::string account_number;
    Meter meter;
    std::optional<Reading> last;  // import: the utility's last reading; list: the newest one
};

// One line of `readings export`.
struct ReadingExportRow {
    std::string office_code;
    std::string account_number;
    std::string serial;
    Reading reading;
};

struct ReadingExportFilter {
    std::string period;  // "YYYY-MM", empty: every period
    std::string office;  // office code, empty: every office
};

class MeterStore {
  public:
    virtual ~MeterStore() = default;

    // Upserts meters by (billing account, serial), each with its `last` reading (upserted by
    // meter and period) when given. The account must exist: not_found names it otherwise.
    // Runs inside the caller's transaction (the import's).
    virtual Status upsert_meters(const std::vector<MeterRow>& rows) = 0;
    virtual Result<int64_t> count_meters() = 0;
    // The meters of one billing account, ordered by serial.
    virtual Result<std::vector<Meter>> meters_of_account(int64_t billing_account_id) = 0;
    // Removes a meter and its readings; not_found when the account has no such meter.
    virtual Status remove_meter(int64_t billing_account_id, const std::string& serial) = 0;

    // Inserts the reading of its meter and period, or replaces the one already there.
    virtual Status put_reading(const Reading& reading) = 0;
    // The newest reading of a meter in a period before `before_period` (every period when
    // empty).
    virtual Result<std::optional<Reading>> last_reading(int64_t meter_id,
                                                        const std::string& before_period) = 0;
    // Readings of a meter from `from_period` on (inclusive), oldest first.
    virtual Result<std::vector<Reading>> readings_of(int64_t meter_id,
                                                     const std::string& from_period) = 0;
    // Every reading matching the filter, ordered by office, account, meter, period; rows are
    // streamed to on_row so an export of millions never sits in memory.
    virtual Status export_readings(const ReadingExportFilter& filter,
                                   const std::function<void(const ReadingExportRow&)>& on_row) = 0;
};

// The meter side of a storage backend, or nullptr when it has none.
inline MeterStore* meter_store_of(Storage& storage) {
    return dynamic_cast<MeterStore*>(&storage);
}

}  // namespace lkk
