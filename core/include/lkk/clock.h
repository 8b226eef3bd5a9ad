// Time as a replaceable dependency (the LevelDB Env habit): tokens expire, sessions idle out,
// throttle windows close and "the current calendar year" decides the expected payment, so a
// test must be able to move time without sleeping.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace lkk {

class Clock {
  public:
    virtual ~Clock() = default;
    // Unix seconds, UTC.
    virtual int64_t now() = 0;
    // Unix milliseconds, for what a second is too coarse for (the health check's memo); a
    // clock that only knows seconds answers now() * 1000.
    virtual int64_t now_ms() { return now() * 1000; }
};

// The operating system's wall clock.
class SystemClock final : public Clock {
  public:
    int64_t now() override;
    int64_t now_ms() override;
};

// A clock that only moves when told to: for tests and for the admin tool's dry runs.
// Thread-safe, so concurrency tests can share one.
class ManualClock final : public Clock {
  public:
    explicit ManualClock(int64_t start) : now_(start) {}
    int64_t now() override { return now_.load(); }
    void set(int64_t t) { now_.store(t); }
    void advance(int64_t seconds) { now_.fetch_add(seconds); }

  private:
    std::atomic<int64_t> now_;
};

// The process-wide system clock (stateless, so sharing it is safe).
Clock& system_clock();

// The calendar year of a moment in an IANA time zone ("Europe/Simferopol"), through ICU:
// a payment made on 31 December at 23:30 local time belongs to that year even when UTC has
// already moved on. An unknown zone falls back to UTC rather than failing a request.
int calendar_year(int64_t unix_seconds, const std::string& time_zone);

// Unix seconds of midnight, 1 January of `year`, in UTC (for tests and fixtures).
int64_t utc_new_year(int year);

// A day of the civil (Gregorian) calendar.
struct CivilDate {
    int year = 1970;
    int month = 1;  // 1..12
    int day = 1;    // 1..31
    friend bool operator==(const CivilDate&, const CivilDate&) = default;
};

// The calendar day of a moment in an IANA time zone (ICU); an unknown zone falls back to UTC
// like calendar_year.
CivilDate local_date(int64_t unix_seconds, const std::string& time_zone);

// Unix seconds of midnight UTC of a civil date (month and day may be out of range: they
// carry over, as days_from_civil does).
int64_t utc_midnight(const CivilDate& date);

}  // namespace lkk
