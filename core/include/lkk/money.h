// Money (SPEC 10): amounts are kopecks in int64, never floating point (0.1 + 0.2 is not 0.3
// in a double, and balances are compared and summed to the kopeck). This header is the one
// place that turns kopecks into text and text into kopecks for the pages, the bill, the API
// and the imports.
//
// Sign convention of balances: a positive balance is a debt (the subscriber owes it), a
// negative one an overpayment (the utility owes it), zero is settled.
//
// Display follows Russian conventions: a comma before the kopecks, thousands grouped by a
// no-break space (U+00A0) so a page never wraps inside a number, a no-break space before the
// rouble sign, and the typographic minus (U+2212) for negative amounts:
//   format(123456)   == "1 234,56 ₽"   (the spaces are U+00A0)
//   format(-5000)    == "−50,00 ₽"
//   format_number(123456) == "1 234,56"
// Machine formats never group and use ASCII only:
//   format_decimal(-123456) == "-1234.56"   (CSV, JSON, logs)
//   format_plain_kopecks(123456) == "123456" (the QR code's Sum field)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lkk/locale.h"
#include "lkk/rules.h"
#include "lkk/status.h"

namespace lkk {

// An amount of money in kopecks (1/100 rouble).
using Kopecks = int64_t;

namespace money {

// The no-break space that groups thousands and separates the rouble sign.
inline constexpr std::string_view kNbsp = "\u00A0";
inline constexpr std::string_view kRoubleSign = "\u20BD";  // ₽
inline constexpr std::string_view kMinus = "\u2212";       // −

// An amount of roubles written by a person or a billing export, exactly: "1234.56",
// "1 234,56" (space, NBSP or thin space between thousands), "0", "7,5", with an optional
// leading '-', '+' or '−' (U+2212). At most two decimals; the magnitude is limited to
// rules::kMaxAmountKopecks. The errors are those of rules::parse_amount_kopecks (a sign in the
// middle or twice is amount_sign).
Result<Kopecks, rules::RuleError> parse(std::string_view text);

// "1 234,56 ₽" / "−50,00 ₽" (see the top of this file).
std::string format(Kopecks amount);
// "1 234,56" / "−50,00": the same without the rouble sign (table cells, where the header
// names the currency).
std::string format_number(Kopecks amount);
// "-1234.56": ASCII, no grouping, a dot (CSV, JSON and logs).
std::string format_decimal(Kopecks amount);
// "123456": whole kopecks as an integer (the payment QR code's Sum).
std::string format_plain_kopecks(Kopecks amount);

// What a balance means for the subscriber.
enum class BalanceKind { due, overpaid, settled };
BalanceKind balance_kind(Kopecks balance);

// The balance as the registry and the account page say it:
//   ru: "К оплате 1 234,56 ₽" / "Переплата 50,00 ₽" / "Задолженности
//   нет" en: "To pay 1 234,56 ₽"  / "Overpaid 50,00 ₽"  / "Nothing due"
// The amount is always shown without a sign: the words say which way it goes.
std::string balance_text(Kopecks balance, Locale locale);

// The amount due on a bill: the balance when it is a debt, else 0 (nothing to pay).
inline Kopecks amount_due(Kopecks balance) {
    return balance > 0 ? balance : 0;
}

}  // namespace money

// money::parse with a Status error for line-by-line imports ("amount: ...").
Result<Kopecks> parse_signed_kopecks(const std::string& text);

}  // namespace lkk
