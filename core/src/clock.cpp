// The system clock and the calendar year in the portal's time zone (ICU).
#include "lkk/clock.h"

#include <unicode/gregocal.h>
#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include <chrono>
#include <memory>
#include <string>

namespace lkk {

int64_t SystemClock::now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

int64_t SystemClock::now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Clock& system_clock() {
    static SystemClock clock;
    return clock;
}

namespace {

// Gregorian explicitly: a default Calendar for some ICU default locales is not Gregorian,
// and the billing year and the readings window are the civil ones. nullptr if ICU fails.
std::unique_ptr<icu::GregorianCalendar> make_calendar(const std::string& time_zone) {
    std::unique_ptr<icu::TimeZone> tz(
        icu::TimeZone::createTimeZone(icu::UnicodeString::fromUTF8(time_zone)));
    if (!tz || *tz == icu::TimeZone::getUnknown()) {
        tz.reset(icu::TimeZone::getGMT()->clone());
    }
    UErrorCode status = U_ZERO_ERROR;
    auto calendar = std::make_unique<icu::GregorianCalendar>(tz.release(), status);  // adopts
    return U_SUCCESS(status) ? std::move(calendar) : nullptr;
}

}  // namespace

CivilDate local_date(int64_t unix_seconds, const std::string& time_zone) {
    // Making the zone from ICU's data is most of the cost (some 45,000 instructions, on every
    // account page): each thread keeps the calendar of the zone it was last asked for. A
    // Calendar is not for two threads at once.
    thread_local std::string zone;
    thread_local std::unique_ptr<icu::GregorianCalendar> kept;
    if (!kept || zone != time_zone) {
        kept = make_calendar(time_zone);
        zone = time_zone;
    }
    UErrorCode status = kept ? U_ZERO_ERROR : U_INTERNAL_PROGRAM_ERROR;
    if (U_SUCCESS(status)) {
        kept->setTime(static_cast<UDate>(unix_seconds) * 1000.0, status);
    }
    CivilDate d;
    if (U_SUCCESS(status)) {
        d.year = kept->get(UCAL_EXTENDED_YEAR, status);
        d.month = kept->get(UCAL_MONTH, status) + 1;
        d.day = kept->get(UCAL_DATE, status);
    }
    if (U_FAILURE(status)) {
        // Cannot happen with a GMT fallback; answer the UTC date computed by hand
        // (Howard Hinnant's civil_from_days).
        const int64_t z =
            (unix_seconds >= 0 ? unix_seconds : unix_seconds - 86399) / 86400 + 719468;
        const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        const int64_t doe = z - era * 146097;
        const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        const int64_t mp = (5 * doy + 2) / 153;
        d.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
        d.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
        d.year = static_cast<int>(yoe + era * 400 + (d.month <= 2 ? 1 : 0));
    }
    return d;
}

int calendar_year(int64_t unix_seconds, const std::string& time_zone) {
    return local_date(unix_seconds, time_zone).year;
}

// Howard Hinnant's days_from_civil.
int64_t utc_midnight(const CivilDate& date) {
    int64_t y = date.year;
    int64_t m = date.month;
    // Months out of range carry into the year, so callers may ask for month 13 or 0.
    y += (m - 1 >= 0 ? (m - 1) / 12 : (m - 12) / 12);
    m = ((m - 1) % 12 + 12) % 12 + 1;
    y -= m <= 2 ? 1 : 0;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + date.day - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (era * 146097 + doe - 719468) * 86400;
}

int64_t utc_new_year(int year) {
    return utc_midnight({year, 1, 1});
}

}  // namespace lkk
