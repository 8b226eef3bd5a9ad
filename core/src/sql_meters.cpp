// The SQL backends' queries for meters and readings (MeterStore, SPEC 9). Every value is a
// bound parameter; the statements where SQLite and MySQL differ (the upserts) are in
// SqlDialect.
#include <string>
#include <vector>

#include "sql_query.h"
#include "sql_storage.h"

namespace lkk {

namespace {

using db::Connection;
using db::Row;

constexpr const char* kMeterColumns =
    "m.id, m.billing_account_id, m.serial, m.name, m.model, m.digits, m.verification_due";

Meter read_meter(const Row& r, int first) {
    Meter m;
    m.id = r.integer(first);
    m.billing_account_id = r.integer(first + 1);
    m.serial = r.text(first + 2);
    m.name = r.text(first + 3);
    m.model = r.text(first + 4);
    m.digits = static_cast<int>(r.integer(first + 5));
    m.verification_due = r.text(first + 6);
    return m;
}

constexpr const char* kReadingColumns =
    "r.id, r.meter_id, r.period, r.value, r.source, r.submitted_at, r.user_id";

Reading read_reading(const Row& r, int first) {
    Reading x;
    x.id = r.integer(first);
    x.meter_id = r.integer(first + 1);
    x.period = r.text(first + 2);
    x.value = r.integer(first + 3);
    x.source = r.text(first + 4) == "utility" ? ReadingSource::utility : ReadingSource::subscriber;
    x.submitted_at = r.integer(first + 5);
    x.user_id = r.nullable(first + 6);
    return x;
}

}  // namespace

std::string_view reading_source_name(ReadingSource s) {
    return s == ReadingSource::utility ? "utility" : "subscriber";
}

// Per row: the account, the meter (upserted, its id survives so readings keep pointing at
// it), then the utility's reading of that month. Called inside the import's transaction.
Status SqlStorage::upsert_meters(const std::vector<MeterRow>& rows) {
    return with_connection([&](Connection& c) -> Status {
        for (const MeterRow& row : rows) {
            auto account = db::find_one<int64_t>(
                c, "SELECT id FROM billing_accounts WHERE office_code = ? AND account_number = ?",
                {row.office_code, row.account_number}, [](const Row& r) { return r.integer(0); });
            if (!account) return account.error();
            if (!account->has_value()) {
                return Status::NotFound("no billing account " + row.account_number + " in office " +
                                        row.office_code);
            }
            const Meter& m = row.meter;
            auto put = c.exec(
                "INSERT INTO meters (billing_account_id, serial, name, model, digits, "
                "verification_due) VALUES (?, ?, ?, ?, ?, ?) " +
                    std::string(dialect_.upsert_meter),
                {**account, m.serial, m.name, m.model, int64_t{m.digits}, m.verification_due});
            if (!put) return put.error();
            if (!row.last) continue;
            auto id =
                db::scalar(c, "SELECT id FROM meters WHERE billing_account_id = ? AND serial = ?",
                           {**account, m.serial});
            if (!id) return id.error();
            Reading r = *row.last;
            r.meter_id = *id;
            if (Status s = put_reading(r); !s.ok()) return s;
        }
        return Status::Ok();
    });
}

Result<int64_t> SqlStorage::count_meters() {
    return with_connection(
        [](Connection& c) { return db::scalar(c, "SELECT count(*) FROM meters", {}); });
}

Result<std::vector<Meter>> SqlStorage::meters_of_account(int64_t billing_account_id) {
    return cache_.through(&db::ReadCache::Thread::meters, billing_account_id, [&] {
        return with_connection([&](Connection& c) {
            return db::find_all<Meter>(
                c,
                std::string("SELECT ") + kMeterColumns +
                    " FROM meters m WHERE m.billing_account_id = ? ORDER BY m.serial",
                {billing_account_id}, [](const Row& r) { return read_meter(r, 0); });
        });
    });
}

Status SqlStorage::remove_meter(int64_t billing_account_id, const std::string& serial) {
    return in_transaction([&] {
        return with_connection([&](Connection& c) -> Status {
            auto id = db::find_one<int64_t>(
                c, "SELECT id FROM meters WHERE billing_account_id = ? AND serial = ?",
                {billing_account_id, serial}, [](const Row& r) { return r.integer(0); });
            if (!id) return id.error();
            if (!id->has_value()) return Status::NotFound("no meter " + serial);
            auto gone = c.exec("DELETE FROM readings WHERE meter_id = ?", {**id});
            if (!gone) return gone.error();
            return db::one_row(c.exec("DELETE FROM meters WHERE id = ?", {**id}),
                               "no meter " + serial);
        });
    });
}

Status SqlStorage::put_reading(const Reading& x) {
    return with_connection([&](Connection& c) -> Status {
        auto r = c.exec(
            "INSERT INTO readings (meter_id, period, value, source, submitted_at, user_id) "
            "VALUES (?, ?, ?, ?, ?, ?) " +
                std::string(dialect_.upsert_reading),
            {x.meter_id, x.period, x.value, reading_source_name(x.source), x.submitted_at,
             db::nullable(x.user_id)});
        return r ? Status::Ok() : r.error();
    });
}

Result<std::optional<Reading>> SqlStorage::last_reading(int64_t meter_id,
                                                        const std::string& before_period) {
    return with_connection([&](Connection& c) {
        // "9999-99" sorts after every real period: no bound.
        const std::string bound = before_period.empty() ? "9999-99" : before_period;
        return db::find_one<Reading>(c,
                                     std::string("SELECT ") + kReadingColumns +
                                         " FROM readings r WHERE r.meter_id = ? AND r.period < ? "
                                         "ORDER BY r.period DESC LIMIT 1",
                                     {meter_id, bound},
                                     [](const Row& r) { return read_reading(r, 0); });
    });
}

Result<std::vector<Reading>> SqlStorage::readings_of(int64_t meter_id,
                                                     const std::string& from_period) {
    return with_connection([&](Connection& c) {
        return db::find_all<Reading>(c,
                                     std::string("SELECT ") + kReadingColumns +
                                         " FROM readings r WHERE r.meter_id = ? AND r.period >= ? "
                                         "ORDER BY r.period",
                                     {meter_id, from_period},
                                     [](const Row& r) { return read_reading(r, 0); });
    });
}

// Empty filter values match everything ("? = ''"), so one statement serves every filter.
Status SqlStorage::export_readings(const ReadingExportFilter& filter,
                                   const std::function<void(const ReadingExportRow&)>& on_row) {
    return with_connection([&](Connection& c) {
        return c.query(
            std::string("SELECT b.office_code, b.account_number, m.serial, ") + kReadingColumns +
                " FROM readings r JOIN meters m ON m.id = r.meter_id "
                "JOIN billing_accounts b ON b.id = m.billing_account_id "
                "WHERE (? = '' OR r.period = ?) AND (? = '' OR b.office_code = ?) "
                "ORDER BY b.office_code, b.account_number, m.serial, r.period",
            {filter.period, filter.period, filter.office, filter.office}, [&](const Row& r) {
                ReadingExportRow row;
                row.office_code = r.text(0);
                row.account_number = r.text(1);
                row.serial = r.text(2);
                row.reading = read_reading(r, 3);
                on_row(row);
            });
    });
}

}  // namespace lkk
