// Money as text and text as money (lkk/money.h). The magnitude is parsed and grouped by the
// rules of rules_amount.cpp, the one amount parser of the project; this file only adds the
// sign, the rouble sign and the words of a balance.
#include "lkk/money.h"

namespace lkk::money {

namespace {

// A leading sign as a billing export or a person writes it: '-', '+' or U+2212.
// Answers the sign's length in bytes (0: none) and whether it is negative.
size_t leading_sign(std::string_view s, bool& negative) {
    negative = false;
    if (s.starts_with('-')) {
        negative = true;
        return 1;
    }
    if (s.starts_with('+')) return 1;
    if (s.starts_with(kMinus)) {
        negative = true;
        return kMinus.size();
    }
    return 0;
}

// The magnitude with its sign in front: "−" for display, "-" for machines.
std::string signed_text(Kopecks amount, std::string_view minus, const std::string& magnitude) {
    return amount < 0 ? std::string(minus) + magnitude : magnitude;
}

// |amount| without overflow at INT64_MIN: format_kopecks prints the magnitude of any value,
// so the sign is cut off its output instead of negating the number.
std::string unsigned_number(Kopecks amount, char decimal, std::string_view group) {
    std::string s = rules::format_kopecks(amount, decimal, group);
    if (!s.empty() && s.front() == '-') s.erase(0, 1);
    return s;
}

}  // namespace

Result<Kopecks, rules::RuleError> parse(std::string_view text) {
    // Blanks around the number are the magnitude parser's business; only a sign in front of
    // the digits is ours.
    size_t start = 0;
    while (start < text.size() && (text[start] == ' ' || text[start] == '\t')) ++start;
    std::string_view rest = text.substr(start);
    bool negative = false;
    rest.remove_prefix(leading_sign(rest, negative));
    auto magnitude = rules::parse_amount_kopecks(rest);
    if (!magnitude.ok()) return magnitude.error();
    return negative ? -magnitude.value() : magnitude.value();
}

std::string format_number(Kopecks amount) {
    return signed_text(amount, kMinus, unsigned_number(amount, ',', kNbsp));
}

std::string format(Kopecks amount) {
    return format_number(amount) + std::string(kNbsp) + std::string(kRoubleSign);
}

std::string format_decimal(Kopecks amount) {
    return rules::format_kopecks(amount, '.', "");
}

std::string format_plain_kopecks(Kopecks amount) {
    return std::to_string(amount);
}

BalanceKind balance_kind(Kopecks balance) {
    if (balance > 0) return BalanceKind::due;
    if (balance < 0) return BalanceKind::overpaid;
    return BalanceKind::settled;
}

std::string balance_text(Kopecks balance, Locale locale) {
    const std::string amount =
        unsigned_number(balance, ',', kNbsp) + std::string(kNbsp) + std::string(kRoubleSign);
    const bool en = locale == Locale::en;
    switch (balance_kind(balance)) {
        case BalanceKind::due:
            return (en ? "To pay " : "К оплате ") + amount;
        case BalanceKind::overpaid:
            return (en ? "Overpaid " : "Переплата ") + amount;
        case BalanceKind::settled:
            break;
    }
    return en ? "Nothing due" : "Задолженности нет";
}

}  // namespace lkk::money

namespace lkk {

Result<Kopecks> parse_signed_kopecks(const std::string& text) {
    auto parsed = money::parse(text);
    if (!parsed.ok()) return Status::Invalid(std::string(rules::message(parsed.error()).en));
    return parsed.value();
}

}  // namespace lkk
