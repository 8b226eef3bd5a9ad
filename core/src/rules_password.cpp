// The password policy of SPEC 2.1. The commonest failure among our subscribers is typing on
// the Russian keyboard layout, so that case gets its own hint before anything else.
#include <unicode/uscript.h>

#include <algorithm>

#include "lkk/rules.h"
#include "rules_unicode.h"

namespace lkk::rules {
namespace {

// Russian-layout keys: Cyrillic letters, and '№' which Shift+3 gives instead of '#'.
bool typed_on_russian_layout(UChar32 c) {
    if (c == 0x2116) return true;
    UErrorCode status = U_ZERO_ERROR;
    return uscript_getScript(c, &status) == USCRIPT_CYRILLIC && U_SUCCESS(status);
}

bool equals_ignoring_ascii_case(std::string_view a, std::string_view b) {
    const auto lower = [](char c) {
        return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [&](char x, char y) { return lower(x) == lower(y); });
}

}  // namespace

std::optional<RuleError> check_password(std::string_view password, std::string_view canonical_email,
                                        int min_length) {
    if (!detail::fits_icu(password)) return RuleError::password_too_long;
    // Look at every character first: "too short" is no help when the real trouble is the
    // keyboard layout.
    bool cyrillic = false;
    bool space = false;
    bool invalid = false;
    int32_t i = 0;
    const auto length = static_cast<int32_t>(password.size());
    while (i < length) {
        const UChar32 c = detail::next_code_point(password, i);
        if (c < 0) {
            invalid = true;
        } else if (typed_on_russian_layout(c)) {
            cyrillic = true;
        } else if (!detail::is_control(c) && detail::is_space(c)) {
            space = true;
        } else if (c < 0x21 || c > 0x7E) {
            invalid = true;
        }
    }
    if (cyrillic) return RuleError::password_cyrillic;
    if (space) return RuleError::password_space;
    if (invalid) return RuleError::password_invalid_char;

    // Only printable ASCII is left, so bytes are characters.
    const auto characters = static_cast<int64_t>(password.size());
    if (characters < std::max(min_length, 1)) return RuleError::password_too_short;
    if (characters > kMaxPasswordLength) return RuleError::password_too_long;

    if (!canonical_email.empty()) {
        const std::string_view local = canonical_email.substr(0, canonical_email.find('@'));
        if (equals_ignoring_ascii_case(password, canonical_email) ||
            equals_ignoring_ascii_case(password, local)) {
            return RuleError::password_like_email;
        }
    }
    return std::nullopt;
}

}  // namespace lkk::rules
