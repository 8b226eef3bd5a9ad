// The rules of SPEC 9 as pure functions: the typed value, the window of days, rollover and
// confirmation, the поверка warning. See lkk/readings.h.
#include <array>
#include <string>
#include <string_view>

#include "lkk/readings.h"

namespace lkk::readings {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Spaces people type or paste between digit groups: ASCII space, NBSP, thin and narrow
// no-break spaces.
size_t space_length(std::string_view s, size_t i) {
    static constexpr std::array<std::string_view, 4> kSpaces = {" ", "\xC2\xA0", "\xE2\x80\x89",
                                                                "\xE2\x80\xAF"};
    for (std::string_view sp : kSpaces) {
        if (s.substr(i, sp.size()) == sp) return sp.size();
    }
    return 0;
}

std::string two(int v) {
    return std::string(1, static_cast<char>('0' + v / 10)) + static_cast<char>('0' + v % 10);
}

int64_t pow10(int n) {
    int64_t v = 1;
    for (int i = 0; i < n; ++i) v *= 10;
    return v;
}

int64_t dial_size(int digits) {
    if (digits < 1) digits = 1;
    if (digits > kMaxDigits) digits = kMaxDigits;
    return pow10(digits) * kMilli;
}

}  // namespace

Message message(ValueError error) {
    switch (error) {
        case ValueError::empty:
            return {"Введите показание счётчика.", "Enter the meter reading."};
        case ValueError::sign:
            return {"Показание пишется без знаков «+» и «−».",
                    "A reading is written without '+' or '-'."};
        case ValueError::invalid_char:
            return {"Показание — это цифры со счётчика, без букв и других знаков.",
                    "A reading is the digits on the meter, without letters or other signs."};
        case ValueError::several_separators:
            return {"В показании может быть только одна запятая или точка.",
                    "A reading may have only one comma or dot."};
        case ValueError::too_many_decimals:
            return {"Слишком много цифр после запятой.", "Too many digits after the comma."};
        case ValueError::missing_digits:
            return {"Перед запятой и после неё должны быть цифры.",
                    "Digits must stand before and after the comma."};
        case ValueError::too_large:
            return {"Слишком длинное число: на счётчике столько цифр не бывает.",
                    "Too long a number: no meter has that many digits."};
    }
    return {"Неверное показание.", "Invalid reading."};
}

std::string_view error_code(ValueError error) {
    switch (error) {
        case ValueError::empty:
            return "reading_empty";
        case ValueError::sign:
            return "reading_sign";
        case ValueError::invalid_char:
            return "reading_invalid_char";
        case ValueError::several_separators:
            return "reading_several_separators";
        case ValueError::too_many_decimals:
            return "reading_too_many_decimals";
        case ValueError::missing_digits:
            return "reading_missing_digits";
        case ValueError::too_large:
            return "reading_too_large";
    }
    return "reading_invalid";
}

std::string format_message(ValueError error, Locale locale, int decimals) {
    if (error != ValueError::too_many_decimals) return std::string(message(error).in(locale));
    if (decimals == 0) {
        return locale == Locale::en ? "Enter whole cubic metres, without a fraction."
                                    : "Введите целые кубометры, без дробной части.";
    }
    const std::string n = std::to_string(decimals);
    return locale == Locale::en ? "At most " + n + " digit(s) after the comma."
                                : "После запятой — не больше " + n + " цифр(ы).";
}

Result<int64_t, ValueError> parse_value(std::string_view input, int decimals) {
    std::string digits;  // the number without spaces, separator as '.'
    for (size_t i = 0; i < input.size();) {
        if (size_t n = space_length(input, i); n > 0) {
            i += n;
            continue;
        }
        const char c = input[i];
        if (c == ',') {
            digits += '.';
        } else {
            digits += c;
        }
        ++i;
    }
    if (digits.empty()) return ValueError::empty;
    if (digits.front() == '-' || digits.front() == '+') return ValueError::sign;
    size_t separators = 0;
    for (char c : digits) {
        if (c == '.') {
            ++separators;
        } else if (!is_digit(c)) {
            return ValueError::invalid_char;
        }
    }
    if (separators > 1) return ValueError::several_separators;
    const size_t dot = digits.find('.');
    std::string_view whole = std::string_view(digits).substr(0, dot);
    std::string_view fraction =
        dot == std::string::npos ? std::string_view() : std::string_view(digits).substr(dot + 1);
    if (whole.empty() || (dot != std::string::npos && fraction.empty())) {
        return ValueError::missing_digits;
    }
    if (static_cast<int>(fraction.size()) > decimals) return ValueError::too_many_decimals;
    while (whole.size() > 1 && whole.front() == '0') whole.remove_prefix(1);
    if (static_cast<int>(whole.size()) > kMaxDigits) return ValueError::too_large;
    int64_t value = 0;
    for (char c : whole) value = value * 10 + (c - '0');
    int64_t milli = 0;
    for (size_t i = 0; i < 3; ++i)
        milli = milli * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
    return value * kMilli + milli;
}

std::string format_value(int64_t milli, int decimals, char separator) {
    const bool negative = milli < 0;
    const int64_t v = negative ? -milli : milli;
    std::string out = (negative ? "-" : "") + std::to_string(v / kMilli);
    std::string fraction = std::to_string(v % kMilli);
    fraction.insert(0, 3 - fraction.size(), '0');
    while (static_cast<int>(fraction.size()) > decimals && fraction.back() == '0') {
        fraction.pop_back();
    }
    if (!fraction.empty()) out += separator + fraction;
    return out;
}

int days_in_month(int year, int month) {
    static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return kDays[static_cast<size_t>(month - 1)] + (month == 2 && leap ? 1 : 0);
}

std::string period_of(int year, int month) {
    const int index = year * 12 + (month - 1);
    const int y = index >= 0 ? index / 12 : (index - 11) / 12;
    const int m = index - y * 12 + 1;
    return std::to_string(y) + "-" + two(m);
}

std::string period_before(const std::string& period, int months) {
    if (period.size() != 7 || period[4] != '-') return period;
    const int y = std::stoi(period.substr(0, 4));
    const int m = std::stoi(period.substr(5, 2));
    return period_of(y, m - months);
}

std::string iso_date(const CivilDate& d) {
    std::string y = std::to_string(d.year);
    if (y.size() < 4) y.insert(0, 4 - y.size(), '0');
    return y + "-" + two(d.month) + "-" + two(d.day);
}

std::string dotted_date(const CivilDate& d) {
    const std::string iso = iso_date(d);
    return iso.substr(8, 2) + "." + iso.substr(5, 2) + "." + iso.substr(0, iso.size() - 6);
}

std::string dotted_month(const std::string& period) {
    return period.size() == 7 ? period.substr(5, 2) + "." + period.substr(0, 4) : period;
}

Window window_at(int64_t now, const std::string& time_zone, int start_day, int end_day) {
    Window w;
    w.today = local_date(now, time_zone);
    const int days = days_in_month(w.today.year, w.today.month);
    w.period = period_of(w.today.year, w.today.month);
    w.start = {w.today.year, w.today.month, std::min(start_day, days)};
    w.end = {w.today.year, w.today.month, std::min(end_day, days)};
    w.open = w.today.day >= w.start.day && w.today.day <= w.end.day;
    if (w.today.day <= w.end.day) {
        w.next_start = w.start;
    } else {
        const int y = w.today.month == 12 ? w.today.year + 1 : w.today.year;
        const int m = w.today.month == 12 ? 1 : w.today.month + 1;
        w.next_start = {y, m, std::min(start_day, days_in_month(y, m))};
    }
    return w;
}

int64_t consumption_between(int64_t earlier, int64_t later, int digits) {
    return later >= earlier ? later - earlier : dial_size(digits) - earlier + later;
}

Check check_value(int64_t value, std::optional<int64_t> last, int digits, int64_t max_monthly_m3) {
    Check c;
    const int64_t dial = dial_size(digits);
    const int64_t max = max_monthly_m3 * kMilli;
    if (value >= dial) {
        c.verdict = Verdict::too_many_digits;
        return c;
    }
    if (!last) return c;
    if (value >= *last) {
        c.consumption = value - *last;
        if (*c.consumption > max) c.verdict = Verdict::big;
        return c;
    }
    // The dial rolled over only when the last reading is on it and the wrap explains the
    // difference with a believable month's consumption.
    const int64_t rolled = dial - *last + value;
    if (*last < dial && rolled <= max) {
        c.verdict = Verdict::rollover;
        c.consumption = rolled;
    } else {
        c.verdict = Verdict::below_last;
    }
    return c;
}

Verification verification_state(const std::string& due_iso, const CivilDate& today) {
    if (due_iso.size() != 10 || due_iso[4] != '-' || due_iso[7] != '-') {
        return Verification::unknown;
    }
    for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
        if (!is_digit(due_iso[i])) return Verification::unknown;
    }
    const CivilDate due{std::stoi(due_iso.substr(0, 4)), std::stoi(due_iso.substr(5, 2)),
                        std::stoi(due_iso.substr(8, 2))};
    const int64_t days = (utc_midnight(due) - utc_midnight(today)) / 86400;
    if (days < 0) return Verification::overdue;
    if (days <= kVerificationWarnDays) return Verification::due_soon;
    return Verification::ok;
}

}  // namespace lkk::readings
