// The memo of the last health check (lkk/health.h): what the event loop may answer /healthz
// from, and for how long.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>

#include "lkk/clock.h"
#include "lkk/health.h"

namespace lkk {
namespace {

// A clock that moves by milliseconds, for the edge of the second.
class MillisecondClock final : public Clock {
  public:
    explicit MillisecondClock(int64_t ms) : ms_(ms) {}
    int64_t now() override { return ms_.load() / 1000; }
    int64_t now_ms() override { return ms_.load(); }
    void advance_ms(int64_t ms) { ms_.fetch_add(ms); }

  private:
    std::atomic<int64_t> ms_;
};

class HealthMemoTest : public ::testing::Test {
  protected:
    MillisecondClock clock_{1'700'000'000'500};
    HealthMemo memo_{clock_};
};

TEST_F(HealthMemoTest, NothingBeforeTheFirstCheck) {
    EXPECT_FALSE(memo_.fresh());
}

TEST_F(HealthMemoTest, ACheckIsAnsweredForLessThanOneSecond) {
    memo_.remember(Health::ok);
    EXPECT_EQ(memo_.fresh(), Health::ok);
    clock_.advance_ms(999);
    EXPECT_EQ(memo_.fresh(), Health::ok);
    clock_.advance_ms(1);
    EXPECT_FALSE(memo_.fresh());  // a second old: the pool checks again
    memo_.remember(Health::ok);
    EXPECT_EQ(memo_.fresh(), Health::ok);
}

// A failure is remembered like a success: a 503 may outlive the recovery by a second, no more,
// and the next check replaces it.
TEST_F(HealthMemoTest, AFailedCheckIsRememberedTheSameWay) {
    for (Health down : {Health::storage_down, Health::sessions_down}) {
        memo_.remember(down);
        clock_.advance_ms(999);
        EXPECT_EQ(memo_.fresh(), down);
        clock_.advance_ms(1);
        EXPECT_FALSE(memo_.fresh());
    }
    memo_.remember(Health::sessions_down);
    memo_.remember(Health::ok);  // the backends are back
    EXPECT_EQ(memo_.fresh(), Health::ok);
}

// A clock set back behind the check (an NTP step) makes it stale, not fresh for longer.
TEST_F(HealthMemoTest, AClockThatWentBackMakesTheCheckStale) {
    memo_.remember(Health::ok);
    clock_.advance_ms(-1);
    EXPECT_FALSE(memo_.fresh());
}

// The tests' ManualClock moves by whole seconds (Clock::now_ms() is now() * 1000): the same
// rule, a second later the check is stale.
TEST(HealthMemo, WithTheManualClock) {
    ManualClock clock(1'700'000'000);
    HealthMemo memo(clock);
    memo.remember(Health::storage_down);
    EXPECT_EQ(memo.fresh(), Health::storage_down);
    clock.advance(1);
    EXPECT_FALSE(memo.fresh());
}

}  // namespace
}  // namespace lkk
