// The system clock and the calendar year in the portal's time zone (ICU).
#include "lkk/clock.h"

#include <unicode/gregocal.h>
#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include <chrono>
#include <memory>

namespace lkk {

int64_t SystemClock::now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Clock& system_clock() {
    static SystemClock clock;
    return clock;
}

// Gregorian explicitly: a default Calendar for some ICU default locales is not Gregorian,
// and the billing year is the civil one.
int calendar_year(int64_t unix_seconds, const std::string& time_zone) {
    std::unique_ptr<icu::TimeZone> tz(
        icu::TimeZone::createTimeZone(icu::UnicodeString::fromUTF8(time_zone)));
    if (!tz || *tz == icu::TimeZone::getUnknown()) {
        tz.reset(icu::TimeZone::getGMT()->clone());
    }
    UErrorCode status = U_ZERO_ERROR;
    icu::GregorianCalendar calendar(tz.release(), status);  // adopts the zone
    if (U_SUCCESS(status)) {
        calendar.setTime(static_cast<UDate>(unix_seconds) * 1000.0, status);
    }
    int32_t year = U_SUCCESS(status) ? calendar.get(UCAL_EXTENDED_YEAR, status) : 0;
    if (U_FAILURE(status)) {
        // Cannot happen with a GMT fallback; answer the UTC year computed by hand.
        int64_t days = unix_seconds / 86400;
        int y = 1970;
        while (days >= 0 && days >= utc_new_year(y + 1) / 86400) ++y;
        return y;
    }
    return year;
}

// Howard Hinnant's days_from_civil for 1 January.
int64_t utc_new_year(int year) {
    const int64_t y = static_cast<int64_t>(year) - 1;  // January counts in the previous era year
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = 306;  // 1 January is day 306 of a March-based year
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (era * 146097 + doe - 719468) * 86400;
}

}  // namespace lkk
