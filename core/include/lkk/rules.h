// The input rules of SPEC sections 2-3: what a subscriber may type into the forms and how
// it is turned into the canonical form that is stored and compared. Pure functions, no I/O;
// every failure is a typed RuleError with a Russian and an English message, so the
// application shows it next to the field and the admin tool reports it by line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lkk/locale.h"
#include "lkk/status.h"

namespace lkk::rules {

// One value per distinct failure a person can fix.
enum class RuleError {
    // Any form field.
    text_invalid,  // invalid UTF-8 or a control character

    // E-mail (the login).
    email_empty,
    email_too_long,        // over 254 characters after normalisation
    email_missing_at,      // no '@'
    email_several_at,      // more than one '@'
    email_local_empty,     // nothing before '@'
    email_local_too_long,  // over 64 characters before '@'
    email_local_invalid,   // a character not allowed before '@'
    email_local_dots,      // a dot at the start or end of the name, or two dots in a row
    email_domain_empty,    // nothing after '@'
    email_domain_invalid,  // not a valid internet domain (IDNA/UTS46 refused it)
    email_domain_no_dot,   // a domain without a dot ("mail" instead of "mail.ru")

    // Password.
    password_cyrillic,      // a Cyrillic letter: the keyboard is on the Russian layout
    password_space,         // a space
    password_invalid_char,  // other non-ASCII or control characters
    password_too_short,     // fewer than the configured minimum (format_message substitutes it)
    password_too_long,      // more than kMaxPasswordLength
    password_like_email,    // equal to the e-mail or to its part before '@'

    // Payment amount.
    amount_empty,
    amount_sign,                // '-' or '+'
    amount_invalid_char,        // letters or other signs (e.g. "1e3", "abc", "12$")
    amount_several_separators,  // more than one decimal separator ("1.2.3", "1,2,3")
    amount_too_many_decimals,   // more than two digits after the separator ("12,345")
    amount_missing_digits,      // no digit before the separator (",5") or after it ("12,")
    amount_bad_grouping,        // thousands not in groups of three ("12 34,50")
    amount_too_large,           // over kMaxAmountKopecks

    // Owner's surname.
    surname_empty,
    surname_invalid,  // control characters, no letter at all, or absurdly long

    // Personal account number.
    account_empty,
    account_invalid_char,  // only Latin letters and digits (spaces and dashes are ignored)
    account_too_long,      // over kMaxAccountNumberLength letters and digits
};

inline constexpr std::size_t kMaxEmailLength = 254;  // RFC 5321 path limit, in octets
inline constexpr std::size_t kMaxEmailLocalLength = 64;
inline constexpr int kMaxPasswordLength = 128;
inline constexpr int64_t kMaxAmountKopecks = 1'000'000'000'000;  // 10 billion roubles
inline constexpr std::size_t kMaxAccountNumberLength = 32;

// Human text of an error in both UI languages. For password_too_short the text carries no
// number; use format_message to say the minimum.
Message message(RuleError error);

// The message in one language with a number substituted where the error has one
// (password_too_short: the minimum length, with the right Russian plural form).
// For errors without a number, `param` is ignored and the plain message is returned.
std::string format_message(RuleError error, Locale locale, int param = 0);

// Stable machine-readable name ("password_too_short") for the JSON API and logs.
std::string_view error_code(RuleError error);

// True when a form field is valid UTF-8 without control characters (C0 including tab and
// newlines, DEL, C1). SPEC 4: anything else in a field is a form error (RuleError::text_invalid).
bool is_clean_text(std::string_view text);

// The canonical login: trimmed, lower-cased, domain in IDNA ASCII form ("xn--..."), so that
// "ИВАНОВ@Почта.РФ" and "иванов@xn--80a1acny.xn--p1ai" are one identity.
Result<std::string, RuleError> normalize_email(std::string_view input);

// The password policy of SPEC 2.1; nullopt when the password is acceptable.
// `canonical_email` is the normalised login (may be empty when not known yet).
std::optional<RuleError> check_password(std::string_view password, std::string_view canonical_email,
                                        int min_length);

// An amount in roubles typed by a person ("1 234,50", "1234.5", "0") as exact kopecks.
Result<int64_t, RuleError> parse_amount_kopecks(std::string_view input);

// Kopecks as a person reads them: "1 234,50" (decimal_separator ','), "1234.50" (with '.'
// and an empty thousands separator). Negative values (balances in debt) get a leading '-'.
// The default thousands separator is NBSP so that a page never wraps inside a number.
std::string format_kopecks(int64_t kopecks, char decimal_separator = ',',
                           std::string_view thousands_separator = "\u00A0");

// The owner's surname as compared with billing: NFKC, full case folding, ё->е, every dash
// kind as '-', only the first word ("Иванов Иван Иванович" -> "иванов").
Result<std::string, RuleError> normalize_surname(std::string_view input);

// The personal account number without spaces and dashes, letters upper-cased
// ("12-345 67" -> "1234567").
Result<std::string, RuleError> normalize_account_number(std::string_view input);

}  // namespace lkk::rules
