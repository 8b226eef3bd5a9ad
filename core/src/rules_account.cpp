// The personal account number as printed on the bill. People copy it with the spaces and
// dashes of the print ("12-345 67"); those carry no meaning and are dropped, so the stored
// and the typed numbers compare equal.
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include "lkk/rules.h"
#include "rules_unicode.h"

namespace lkk::rules {

Result<std::string, RuleError> normalize_account_number(std::string_view input) {
    if (!is_clean_text(input)) return RuleError::text_invalid;
    // NFKC turns full-width digits from some phone keyboards into plain ones.
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCInstance(status);
    if (U_FAILURE(status)) return RuleError::account_invalid_char;
    const icu::UnicodeString text = nfkc->normalize(icu::UnicodeString::fromUTF8(input), status);
    if (U_FAILURE(status)) return RuleError::account_invalid_char;

    std::string out;
    bool too_long = false;
    for (int32_t k = 0; k < text.length(); k = text.moveIndex32(k, 1)) {
        const UChar32 c = text.char32At(k);
        if (detail::is_space(c) || detail::is_dash(c)) continue;
        if (c >= 'a' && c <= 'z') {
            out += static_cast<char>(c - 'a' + 'A');
        } else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
            out += static_cast<char>(c);
        } else {
            return RuleError::account_invalid_char;
        }
        if (out.size() > kMaxAccountNumberLength) too_long = true;
    }
    if (out.empty()) return RuleError::account_empty;
    if (too_long) return RuleError::account_too_long;
    return out;
}

}  // namespace lkk::rules
