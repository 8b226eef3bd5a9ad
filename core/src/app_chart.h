// Monthly bar charts of the account pages (the readings history, the money history): inline
// SVG drawn without script, so the CSP holds, with a table beside it as the text alternative.
// The geometry is computed here; the templates only place the numbers into the attributes of
// the chart_bars partial (templates/<locale>/chart_bars.html). Private to core/src.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lkk/templates.h"

namespace lkk::web {

// The drawing box: the SVG scales to the page's width (lkk.css), so 360 user units are 360 px
// on the narrowest phone.
inline constexpr int kChartWidth = 360;
inline constexpr int kChartHeight = 150;
inline constexpr int kChartTop = 18;  // room for the label of the tallest bar

// One month's bar: the month "YYYY-MM", its value (in any unit; a negative one is left out,
// zero is a sliver so the month shows as reported) and
// the text a pointer or a screen reader gets for it ("05.2026: 102,5 м³").
struct MonthBar {
    std::string period;
    int64_t value = 0;
    std::string label;
};

// The month "YYYY-MM" as people read it: "05.2026".
std::string month_text(const std::string& period);

// The chart of the `months` months that end with last_period (bars outside them are left
// out, and no bar at all when every value is zero): sets "bars" (x, y, width, height, label) and
// "has_bars" in data, and answers the tallest value (the top of the scale) for the page to label.
int64_t put_month_bars(TemplateData& data, const std::vector<MonthBar>& bars,
                       const std::string& last_period, int months);

}  // namespace lkk::web
