// The bar geometry of the monthly charts (app_chart.h).
#include "app_chart.h"

#include <algorithm>

namespace lkk::web {

namespace {

// Months since year 0 of a "YYYY-MM", or -1 for anything else.
int month_number(const std::string& period) {
    if (period.size() != 7 || period[4] != '-') return -1;
    int year = 0;
    for (size_t i = 0; i < 4; ++i) {
        if (period[i] < '0' || period[i] > '9') return -1;
        year = year * 10 + (period[i] - '0');
    }
    if (period[5] < '0' || period[5] > '9' || period[6] < '0' || period[6] > '9') return -1;
    const int month = (period[5] - '0') * 10 + (period[6] - '0');
    if (month < 1 || month > 12) return -1;
    return year * 12 + month - 1;
}

}  // namespace

std::string month_text(const std::string& period) {
    if (period.size() != 7) return period;
    return period.substr(5, 2) + "." + period.substr(0, 4);
}

int64_t put_month_bars(TemplateData& data, const std::vector<MonthBar>& bars,
                       const std::string& last_period, int months) {
    const int last = month_number(last_period);
    const int first = last - months + 1;
    auto inside = [&](const MonthBar& b) {
        const int n = month_number(b.period);
        return last >= 0 && n >= first && n <= last && b.value >= 0;
    };
    int64_t top = 0;
    for (const MonthBar& b : bars) {
        if (inside(b)) top = std::max(top, b.value);
    }
    TemplateData list(TemplateData::type::list);
    const int slot = kChartWidth / months;
    for (const MonthBar& b : bars) {
        if (!inside(b) || top <= 0) continue;
        // The month decides the bar's place, so a month without data leaves a gap.
        const int index = month_number(b.period) - first;
        // Values are at most 10^12 (rules::kMaxAmountKopecks, or thousandths of a 9-digit
        // dial): times the height they stay far inside int64.
        const int height =
            std::max(1, static_cast<int>(b.value * (kChartHeight - kChartTop) / top));
        TemplateData bar(TemplateData::type::object);
        put(bar, "x", std::to_string(index * slot + 1));
        put(bar, "y", std::to_string(kChartHeight - height));
        put(bar, "width", std::to_string(slot - 2));
        put(bar, "height", std::to_string(height));
        put(bar, "label", b.label);
        push(list, std::move(bar));
    }
    put(data, "bars", std::move(list));
    put(data, "has_bars", top > 0);
    return top;
}

}  // namespace lkk::web
