// The rules of SPEC 9 as pure functions, and the Readings service on a real SQLite file:
// parsing, the window (last days of a month, a non-UTC zone, a year boundary), rollover,
// confirmation, replacing a month's reading, the поверка flag, the meters file.
#include "lkk/readings.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "temp_dir.h"

namespace lkk {
namespace {

using namespace readings;

// Unix seconds of a UTC wall-clock time.
int64_t utc(int y, int m, int d, int hh = 0, int mm = 0) {
    return utc_midnight({y, m, d}) + hh * 3600 + mm * 60;
}

TEST(ReadingValue, DotCommaAndSpacesAreExact) {
    EXPECT_EQ(parse_value("12345", 0).value(), 12345 * kMilli);
    EXPECT_EQ(parse_value(" 12 345 ", 0).value(), 12345 * kMilli);
    EXPECT_EQ(parse_value("12\u00A0345", 0).value(), 12345 * kMilli);
    EXPECT_EQ(parse_value("00042", 0).value(), 42 * kMilli);
    EXPECT_EQ(parse_value("123,4", 1).value(), 123400);
    EXPECT_EQ(parse_value("123.45", 2).value(), 123450);
    EXPECT_EQ(parse_value("0,001", 3).value(), 1);
    // 0.1 + 0.2 style trouble never happens: thousandths are counted, not computed.
    EXPECT_EQ(parse_value("99999,999", 3).value(), 99999999);
}

TEST(ReadingValue, MistakesAreNamed) {
    EXPECT_EQ(parse_value("", 0).error(), ValueError::empty);
    EXPECT_EQ(parse_value("   ", 0).error(), ValueError::empty);
    EXPECT_EQ(parse_value("-5", 0).error(), ValueError::sign);
    EXPECT_EQ(parse_value("+5", 0).error(), ValueError::sign);
    EXPECT_EQ(parse_value("12a", 0).error(), ValueError::invalid_char);
    EXPECT_EQ(parse_value("1e3", 0).error(), ValueError::invalid_char);
    EXPECT_EQ(parse_value("1.2.3", 3).error(), ValueError::several_separators);
    EXPECT_EQ(parse_value("1,2", 0).error(), ValueError::too_many_decimals);
    EXPECT_EQ(parse_value("1,234", 2).error(), ValueError::too_many_decimals);
    EXPECT_EQ(parse_value(",5", 1).error(), ValueError::missing_digits);
    EXPECT_EQ(parse_value("5,", 1).error(), ValueError::missing_digits);
    EXPECT_EQ(parse_value("1234567890", 0).error(), ValueError::too_large);
    EXPECT_NE(format_message(ValueError::too_many_decimals, Locale::ru, 0).find("целые"),
              std::string::npos);
    EXPECT_NE(format_message(ValueError::too_many_decimals, Locale::en, 2).find("2"),
              std::string::npos);
}

TEST(ReadingValue, FormattedWithTheConfiguredDecimals) {
    EXPECT_EQ(format_value(12345 * kMilli, 0), "12345");
    EXPECT_EQ(format_value(12345 * kMilli, 2), "12345,00");
    EXPECT_EQ(format_value(123400, 0), "123,4");  // more precision than configured stays
    EXPECT_EQ(format_value(1, 3, '.'), "0.001");
}

TEST(ReadingWindow, InsideAndOutsideTheDays) {
    const std::string tz = "UTC";
    auto w = window_at(utc(2026, 5, 15, 0, 0), tz, 15, 25);
    EXPECT_TRUE(w.open);
    EXPECT_EQ(w.period, "2026-05");
    EXPECT_TRUE(window_at(utc(2026, 5, 25, 23, 59), tz, 15, 25).open);
    auto before = window_at(utc(2026, 5, 14, 23, 59), tz, 15, 25);
    EXPECT_FALSE(before.open);
    EXPECT_EQ(iso_date(before.next_start), "2026-05-15");
    auto after = window_at(utc(2026, 5, 26), tz, 15, 25);
    EXPECT_FALSE(after.open);
    EXPECT_EQ(iso_date(after.next_start), "2026-06-15");
}

TEST(ReadingWindow, LastDaysOfAMonthAreClamped) {
    // A window "25..31" covers 25..28 in February and 25..30 in April.
    auto feb = window_at(utc(2026, 2, 28, 12), "UTC", 25, 31);
    EXPECT_TRUE(feb.open);
    EXPECT_EQ(iso_date(feb.end), "2026-02-28");
    auto leap = window_at(utc(2028, 2, 29, 12), "UTC", 25, 31);
    EXPECT_TRUE(leap.open);
    EXPECT_EQ(iso_date(leap.end), "2028-02-29");
    EXPECT_EQ(dotted_date(leap.end), "29.02.2028");
    EXPECT_EQ(dotted_month("2028-02"), "02.2028");
    EXPECT_TRUE(window_at(utc(2026, 4, 30, 12), "UTC", 25, 31).open);
    // A start day of 31 in a 30-day month opens on its last day.
    auto apr = window_at(utc(2026, 4, 29, 12), "UTC", 31, 31);
    EXPECT_FALSE(apr.open);
    EXPECT_EQ(iso_date(apr.next_start), "2026-04-30");
    // After the 25th of a 31-day month the next opening is next month's.
    auto jan = window_at(utc(2026, 1, 31, 12), "UTC", 1, 25);
    EXPECT_FALSE(jan.open);
    EXPECT_EQ(iso_date(jan.next_start), "2026-02-01");
}

TEST(ReadingWindow, ComputedInThePortalsTimeZone) {
    // 21:30 UTC on the 14th is already 00:30 on the 15th in Simferopol (UTC+3): open there,
    // still closed in UTC.
    const int64_t t = utc(2026, 5, 14, 21, 30);
    EXPECT_TRUE(window_at(t, "Europe/Simferopol", 15, 25).open);
    EXPECT_FALSE(window_at(t, "UTC", 15, 25).open);
    // And it closes there at local midnight after the 25th.
    EXPECT_FALSE(window_at(utc(2026, 5, 25, 21, 30), "Europe/Simferopol", 15, 25).open);
    EXPECT_TRUE(window_at(utc(2026, 5, 25, 21, 30), "UTC", 15, 25).open);
    // New York is behind UTC: 02:00 UTC on the 15th is still the 14th there.
    EXPECT_FALSE(window_at(utc(2026, 5, 15, 2, 0), "America/New_York", 15, 25).open);
}

TEST(ReadingWindow, AcrossTheYearBoundary) {
    // 31 December 22:00 UTC is 1 January 01:00 in Simferopol: the period is the new year's.
    auto w = window_at(utc(2026, 12, 31, 22, 0), "Europe/Simferopol", 1, 25);
    EXPECT_TRUE(w.open);
    EXPECT_EQ(w.period, "2027-01");
    auto dec = window_at(utc(2026, 12, 28, 12), "UTC", 15, 25);
    EXPECT_FALSE(dec.open);
    EXPECT_EQ(iso_date(dec.next_start), "2027-01-15");
    EXPECT_EQ(period_before("2027-01", 1), "2026-12");
    EXPECT_EQ(period_before("2027-01", 35), "2024-02");
    EXPECT_EQ(period_of(2026, 13), "2027-01");
}

TEST(ReadingWindow, FollowsAManualClock) {
    ManualClock clock(utc(2026, 5, 10));
    const auto open_now = [&clock] {
        return window_at(clock.now(), "Europe/Simferopol", 15, 25).open;
    };
    EXPECT_FALSE(open_now());
    clock.set(utc(2026, 5, 14, 21, 0));  // local midnight of the 15th
    EXPECT_TRUE(open_now());
    clock.advance(11 * 24 * 3600);  // 26th, local
    EXPECT_FALSE(open_now());
}

TEST(ReadingCheck, BelowLastIsAMistakeUnlessTheDialRolledOver) {
    const int64_t max = 500;
    auto ok = check_value(1200 * kMilli, 1000 * kMilli, 5, max);
    EXPECT_EQ(ok.verdict, Verdict::ok);
    EXPECT_EQ(*ok.consumption, 200 * kMilli);
    EXPECT_EQ(check_value(1000 * kMilli, 1000 * kMilli, 5, max).verdict, Verdict::ok);
    EXPECT_EQ(check_value(999 * kMilli, 1000 * kMilli, 5, max).verdict, Verdict::below_last);
    // 99950 -> 30 on a 5-digit dial: 80 m³ through 100000.
    auto roll = check_value(30 * kMilli, 99950 * kMilli, 5, max);
    EXPECT_EQ(roll.verdict, Verdict::rollover);
    EXPECT_EQ(*roll.consumption, 80 * kMilli);
    EXPECT_TRUE(roll.needs_confirmation());
    // A wrap implying more than max_monthly_m3 is not believable: a typing mistake.
    EXPECT_EQ(check_value(30 * kMilli, 90000 * kMilli, 5, max).verdict, Verdict::below_last);
    EXPECT_EQ(consumption_between(99950 * kMilli, 30 * kMilli, 5), 80 * kMilli);
}

TEST(ReadingCheck, BigConsumptionNeedsAConfirmation) {
    auto exactly = check_value(1500 * kMilli, 1000 * kMilli, 5, 500);
    EXPECT_EQ(exactly.verdict, Verdict::ok);
    auto big = check_value(1501 * kMilli, 1000 * kMilli, 5, 500);
    EXPECT_EQ(big.verdict, Verdict::big);
    EXPECT_EQ(*big.consumption, 501 * kMilli);
    EXPECT_TRUE(big.needs_confirmation());
    // No last reading: nothing to compare, only the dial's size.
    EXPECT_EQ(check_value(77 * kMilli, std::nullopt, 5, 500).verdict, Verdict::ok);
    EXPECT_EQ(check_value(100000 * kMilli, std::nullopt, 5, 500).verdict, Verdict::too_many_digits);
    EXPECT_EQ(check_value(100000 * kMilli, std::nullopt, 6, 500).verdict, Verdict::ok);
}

TEST(ReadingVerification, FlaggedWithinSixtyDaysOrPast) {
    const CivilDate today{2026, 5, 20};
    EXPECT_EQ(verification_state("", today), Verification::unknown);
    EXPECT_EQ(verification_state("2026-05-19", today), Verification::overdue);
    EXPECT_EQ(verification_state("2026-05-20", today), Verification::due_soon);
    EXPECT_EQ(verification_state("2026-07-19", today), Verification::due_soon);  // 60 days
    EXPECT_EQ(verification_state("2026-07-20", today), Verification::ok);        // 61 days
}

// ---- the service on SQLite ----

class ReadingsService : public ::testing::Test {
  protected:
    void SetUp() override {
        settings_.portal.time_zone = "Europe/Simferopol";
        auto opened = open_storage("sqlite:" + dir_.path() + "/lkk.db");
        ASSERT_TRUE(opened.ok()) << opened.error().message();
        st_ = std::move(opened.value());
        ASSERT_TRUE(st_->insert_office({"SIM", "Симферопольское УЭГХ", "+7 1", ""}).ok());
        BillingAccount a;
        a.office_code = "SIM";
        a.account_number = "100200";
        a.surname = "Иванов";
        a.surname_key = "иванов";
        ASSERT_TRUE(st_->upsert_billing_account(a).ok());
        auto user = st_->insert_user("ivan@example.org", "h", 1);
        ASSERT_TRUE(user.ok());
        user_ = *user;
        auto other = st_->insert_user("other@example.org", "h", 1);
        ASSERT_TRUE(other.ok());
        other_ = *other;
        auto acc = st_->find_billing_account("SIM", "100200");
        ASSERT_TRUE(acc.ok() && acc->has_value());
        auto link = st_->insert_link(user_, (*acc)->id, 1);
        ASSERT_TRUE(link.ok());
        link_ = *link;
        svc_ = std::make_unique<Readings>(settings_, *st_, clock_);
        std::istringstream csv(
            "office;account;meter;last_reading;last_reading_date;name;digits;verification_due\n"
            "SIM;100200;A-1;1000;15.04.2026;Кухня;5;2026-06-30\n"
            "SIM;100200;B-2;99950;2026-04-20;Котёл;5;\n");
        auto report = svc_->import_meters(csv, {});
        ASSERT_TRUE(report.ok()) << report.error().message();
        ASSERT_TRUE(report->committed);
        ASSERT_EQ(report->inserted, 2);
    }

    SubmitReply submit(const std::string& meter, const std::string& value, bool confirm = false) {
        return svc_->submit(user_, link_, meter, value, confirm, RequestContext{"127.0.0.1", "t"});
    }

    test::TempDir dir_;
    Settings settings_;
    ManualClock clock_{utc(2026, 5, 20, 9)};
    std::unique_ptr<Storage> st_;
    std::unique_ptr<Readings> svc_;
    int64_t user_ = 0;
    int64_t other_ = 0;
    int64_t link_ = 0;
};

TEST_F(ReadingsService, AccountListsMetersWithLastReadingAndVerification) {
    auto acc = svc_->account(user_, link_);
    ASSERT_TRUE(acc.ok()) << acc.error().message();
    ASSERT_EQ(acc->meters.size(), 2u);
    EXPECT_EQ(acc->meters[0].meter.serial, "A-1");
    EXPECT_EQ(acc->meters[0].meter.name, "Кухня");
    ASSERT_TRUE(acc->meters[0].last.has_value());
    EXPECT_EQ(acc->meters[0].last->value, 1000 * kMilli);
    EXPECT_EQ(acc->meters[0].last->source, ReadingSource::utility);
    EXPECT_EQ(acc->meters[0].verification, Verification::due_soon);
    EXPECT_EQ(acc->meters[1].verification, Verification::unknown);
    EXPECT_TRUE(acc->window.open);
    // Another cabinet's registry row is not found, like a missing one.
    EXPECT_EQ(svc_->account(other_, link_).error().code(), StatusCode::not_found);
    EXPECT_EQ(submit("A-1", "1100").outcome, SubmitOutcome::ok);
    EXPECT_EQ(svc_->submit(other_, link_, "A-1", "1200", false, {}).outcome,
              SubmitOutcome::not_found);
}

TEST_F(ReadingsService, SubmitStoresReplacesAndAuditsBoth) {
    auto first = submit("A-1", "1 100");
    ASSERT_EQ(first.outcome, SubmitOutcome::ok) << first.status.message();
    EXPECT_EQ(*first.check.consumption, 100 * kMilli);
    EXPECT_FALSE(first.replaced.has_value());
    auto second = submit("A-1", "1150");
    ASSERT_EQ(second.outcome, SubmitOutcome::ok);
    // Compared with April's reading, not with the replaced one.
    EXPECT_EQ(*second.check.consumption, 150 * kMilli);
    ASSERT_TRUE(second.replaced.has_value());
    EXPECT_EQ(second.replaced->value, 1100 * kMilli);
    auto acc = svc_->account(user_, link_);
    ASSERT_TRUE(acc->meters[0].this_month.has_value());
    EXPECT_EQ(acc->meters[0].this_month->value, 1150 * kMilli);
    auto history = svc_->history(*acc);
    ASSERT_TRUE(history.ok());
    ASSERT_EQ((*history)[0].rows.size(), 2u);  // April (utility) and May (subscriber)
    EXPECT_EQ((*history)[0].rows[1].period, "2026-05");
    EXPECT_EQ(*(*history)[0].rows[1].consumption, 150 * kMilli);
    EXPECT_FALSE((*history)[0].rows[0].consumption.has_value());
    auto audit = st_->recent_audit(user_, 10);
    ASSERT_TRUE(audit.ok());
    int readings = 0;
    bool replaced_kept = false;
    for (const auto& e : *audit) {
        if (e.event != "reading") continue;
        ++readings;
        if (e.detail.find("value 1150.000") != std::string::npos &&
            e.detail.find("replaces 1100.000") != std::string::npos) {
            replaced_kept = true;
        }
    }
    EXPECT_EQ(readings, 2);
    EXPECT_TRUE(replaced_kept);
}

TEST_F(ReadingsService, BelowLastIsAFormErrorAndStoresNothing) {
    auto r = submit("A-1", "999");
    EXPECT_EQ(r.outcome, SubmitOutcome::form_error);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].code, "reading_below_last");
    EXPECT_FALSE(svc_->account(user_, link_)->meters[0].this_month.has_value());
    EXPECT_EQ(submit("A-1", "12,5").errors[0].code, "reading_too_many_decimals");
}

TEST_F(ReadingsService, RolloverAndBigOnesAreStoredOnlyWhenConfirmed) {
    auto roll = submit("B-2", "30");
    EXPECT_EQ(roll.outcome, SubmitOutcome::needs_confirmation);
    EXPECT_EQ(*roll.check.consumption, 80 * kMilli);
    EXPECT_FALSE(svc_->account(user_, link_)->meters[1].this_month.has_value());
    EXPECT_EQ(submit("B-2", "30", true).outcome, SubmitOutcome::ok);
    auto big = submit("A-1", "1600");
    EXPECT_EQ(big.outcome, SubmitOutcome::needs_confirmation);
    EXPECT_EQ(*big.check.consumption, 600 * kMilli);
    EXPECT_EQ(submit("A-1", "1600", true).outcome, SubmitOutcome::ok);
    EXPECT_EQ(svc_->account(user_, link_)->meters[0].this_month->value, 1600 * kMilli);
}

TEST_F(ReadingsService, OutsideTheWindowNothingIsStored) {
    clock_.set(utc(2026, 5, 26, 9));
    auto r = submit("A-1", "1100");
    EXPECT_EQ(r.outcome, SubmitOutcome::window_closed);
    EXPECT_EQ(iso_date(r.window.next_start), "2026-06-15");
    EXPECT_FALSE(svc_->account(user_, link_)->meters[0].this_month.has_value());
    EXPECT_EQ(svc_->account(user_, link_)->meters[0].last->value, 1000 * kMilli);
}

TEST_F(ReadingsService, MetersFileIsAllOrNothingWithLineNumbers) {
    std::istringstream csv(
        "office,account,meter,last_reading,last_reading_date\n"
        "SIM,100200,C-3,5,2026-04-01\n"
        "SIM,999999,D-4,5,2026-04-01\n"
        "SIM,100200,E-5,abc,2026-04-01\n"
        "SIM,100200,F-6,5,\n");
    auto report = svc_->import_meters(csv, {});
    ASSERT_TRUE(report.ok()) << report.error().message();
    EXPECT_FALSE(report->committed);
    ASSERT_EQ(report->bad, 3);
    EXPECT_EQ(report->bad_lines[0].line, 3);
    EXPECT_NE(report->bad_lines[0].error.find("no billing account 999999"), std::string::npos);
    EXPECT_EQ(report->bad_lines[1].line, 4);
    EXPECT_EQ(report->bad_lines[1].error.rfind("last_reading: ", 0), 0u);
    EXPECT_EQ(report->bad_lines[2].line, 5);
    auto list = svc_->list_meters("SIM", "100200");
    ASSERT_TRUE(list.ok());
    EXPECT_EQ(list->size(), 2u);  // C-3 was not kept
    std::istringstream header("office;account;meter;reading\n");
    auto bad = svc_->import_meters(header, {});
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message().find("unknown column 'reading'"), std::string::npos);
}

TEST_F(ReadingsService, RemoveAndExport) {
    ASSERT_EQ(submit("A-1", "1100").outcome, SubmitOutcome::ok);
    std::vector<ReadingExportRow> rows;
    ASSERT_TRUE(svc_->export_readings({"2026-05", ""},
                                      [&](const ReadingExportRow& r) { rows.push_back(r); })
                    .ok());
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].serial, "A-1");
    EXPECT_EQ(rows[0].reading.source, ReadingSource::subscriber);
    rows.clear();
    ASSERT_TRUE(
        svc_->export_readings({"", "SIM"}, [&](const ReadingExportRow& r) { rows.push_back(r); })
            .ok());
    EXPECT_EQ(rows.size(), 3u);
    EXPECT_TRUE(svc_->remove_meter("SIM", "100200", "A-1").ok());
    EXPECT_EQ(svc_->remove_meter("SIM", "100200", "A-1").code(), StatusCode::not_found);
    EXPECT_EQ(svc_->list_meters("SIM", "100200")->size(), 1u);
}

}  // namespace
}  // namespace lkk
