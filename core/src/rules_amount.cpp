// Payment amounts as people type them ("1 234,50", "1234.5", "0"), parsed exactly into
// kopecks. Never through floating point: 0.1 + 0.2 is not 0.3 in a double, and the amount is
// compared with billing for equality.
#include <array>
#include <vector>

#include "lkk/rules.h"
#include "rules_unicode.h"

namespace lkk::rules {
namespace {

constexpr int64_t kMaxRoubles = kMaxAmountKopecks / 100;

bool is_sign(UChar32 c) {
    return c == '-' || c == '+' || c == 0x2212;
}

// What a person or a spreadsheet puts between thousands: a space, NBSP, narrow NBSP,
// thin space, figure space.
bool is_group_separator(UChar32 c) {
    return c == ' ' || c == 0x00A0 || c == 0x202F || c == 0x2009 || c == 0x2007;
}

bool is_decimal_separator(UChar32 c) {
    return c == '.' || c == ',';
}

}  // namespace

// All problems of the input are collected first and the most helpful one is reported: a letter
// explains more than a misplaced comma.
Result<int64_t, RuleError> parse_amount_kopecks(std::string_view input) {
    if (!detail::fits_icu(input)) return RuleError::amount_too_large;
    std::vector<UChar32> chars;
    int32_t i = 0;
    const auto length = static_cast<int32_t>(input.size());
    while (i < length) {
        const UChar32 c = detail::next_code_point(input, i);
        if (c < 0) return RuleError::amount_invalid_char;
        chars.push_back(c);
    }
    std::size_t begin = 0;
    std::size_t end = chars.size();
    while (begin < end && detail::is_space(chars[begin])) ++begin;
    while (end > begin && detail::is_space(chars[end - 1])) --end;
    if (begin == end) return RuleError::amount_empty;

    bool invalid_char = false;
    bool sign = false;
    bool several_separators = false;
    bool bad_grouping = false;
    bool overflow = false;
    std::vector<int> groups;  // digit counts of the whole-rouble groups seen so far
    int group = 0;            // digits in the current whole-rouble group
    bool after_group_separator = false;
    bool in_fraction = false;
    int fraction_digits = 0;
    int64_t roubles = 0;
    int64_t kopecks = 0;

    for (std::size_t k = begin; k < end; ++k) {
        const UChar32 c = chars[k];
        if (c >= '0' && c <= '9') {
            const int digit = c - '0';
            after_group_separator = false;
            if (in_fraction) {
                ++fraction_digits;
                if (fraction_digits == 1) kopecks += digit * 10;
                if (fraction_digits == 2) kopecks += digit;
            } else {
                ++group;
                if (!overflow) {
                    roubles = roubles * 10 + digit;
                    if (roubles > kMaxRoubles) overflow = true;
                }
            }
        } else if (is_group_separator(c)) {
            if (in_fraction || after_group_separator || group == 0) bad_grouping = true;
            groups.push_back(group);
            group = 0;
            after_group_separator = true;
        } else if (is_decimal_separator(c)) {
            if (in_fraction) several_separators = true;
            if (after_group_separator) bad_grouping = true;
            in_fraction = true;
            after_group_separator = false;
        } else if (is_sign(c) && (k == begin || k + 1 == end)) {
            sign = true;
        } else {
            invalid_char = true;
        }
    }

    if (invalid_char) return RuleError::amount_invalid_char;
    if (sign) return RuleError::amount_sign;
    if (several_separators) return RuleError::amount_several_separators;
    if (!groups.empty()) {
        // "1 234 567": the first group has one to three digits, every later one exactly three.
        groups.push_back(group);
        if (groups.front() < 1 || groups.front() > 3) bad_grouping = true;
        for (std::size_t g = 1; g < groups.size(); ++g) {
            if (groups[g] != 3) bad_grouping = true;
        }
    }
    if (bad_grouping) return RuleError::amount_bad_grouping;
    if (groups.empty() && group == 0) return RuleError::amount_missing_digits;         // ",5"
    if (in_fraction && fraction_digits == 0) return RuleError::amount_missing_digits;  // "12,"
    if (fraction_digits > 2) return RuleError::amount_too_many_decimals;
    if (overflow) return RuleError::amount_too_large;
    const int64_t total = roubles * 100 + kopecks;
    if (total > kMaxAmountKopecks) return RuleError::amount_too_large;
    return total;
}

// Digits are grouped from the right by three; the magnitude is unsigned so that even
// INT64_MIN prints without overflow.
std::string format_kopecks(int64_t kopecks, char decimal_separator,
                           std::string_view thousands_separator) {
    const bool negative = kopecks < 0;
    const uint64_t magnitude =
        negative ? static_cast<uint64_t>(-(kopecks + 1)) + 1 : static_cast<uint64_t>(kopecks);
    const std::string digits = std::to_string(magnitude / 100);
    const auto cents = static_cast<unsigned>(magnitude % 100);

    std::string out;
    if (negative) out += '-';
    for (std::size_t k = 0; k < digits.size(); ++k) {
        if (k > 0 && (digits.size() - k) % 3 == 0) out += thousands_separator;
        out += digits[k];
    }
    out += decimal_separator;
    out += static_cast<char>('0' + cents / 10);
    out += static_cast<char>('0' + cents % 10);
    return out;
}

}  // namespace lkk::rules
