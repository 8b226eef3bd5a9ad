// The owner's surname as compared with billing (SPEC 3). Both sides, what the subscriber
// types and what support imports, go through this one function, so any spelling
// difference that a person would not call a difference must vanish here: letter case, ё/е,
// the dash a word processor put in, a full name typed where the surname alone was asked.
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <vector>

#include "lkk/rules.h"
#include "rules_unicode.h"

namespace lkk::rules {
namespace {

constexpr std::size_t kMaxRawSurnameBytes = 1024;

// Word processors turn ' into ’; Ukrainian and Crimean surnames (Мар'яненко) carry one.
bool is_apostrophe(UChar32 c) {
    return c == 0x27 || c == 0x2019 || c == 0x2018 || c == 0x02BC || c == 0x60 || c == 0xB4;
}

// NFKC, then full case folding, then NFKC again because folding may undo normalisation
// (the result must not depend on how the input was composed).
bool fold(icu::UnicodeString& text) {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCInstance(status);
    if (U_FAILURE(status)) return false;
    text = nfkc->normalize(text, status);
    if (U_FAILURE(status)) return false;
    text.foldCase(U_FOLD_CASE_DEFAULT);
    text = nfkc->normalize(text, status);
    return U_SUCCESS(status);
}

}  // namespace

Result<std::string, RuleError> normalize_surname(std::string_view input) {
    if (input.size() > kMaxRawSurnameBytes) return RuleError::surname_invalid;
    // Tabs and line breaks separate words like spaces; other control characters and invalid
    // UTF-8 are a form error.
    int32_t i = 0;
    const auto length = static_cast<int32_t>(input.size());
    while (i < length) {
        const UChar32 c = detail::next_code_point(input, i);
        if (c < 0 || (detail::is_control(c) && !detail::is_space(c))) {
            return RuleError::text_invalid;
        }
    }

    icu::UnicodeString text = icu::UnicodeString::fromUTF8(input);
    if (!fold(text)) return RuleError::surname_invalid;

    // Map each code point to its compared form: ё->е, any dash->'-', any apostrophe->'\'',
    // any white space->' ', invisible characters (soft hyphen, zero-width space) dropped.
    std::vector<UChar32> chars;
    for (int32_t k = 0; k < text.length(); k = text.moveIndex32(k, 1)) {
        UChar32 c = text.char32At(k);
        if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT)) continue;
        if (c == 0x0451) c = 0x0435;
        if (detail::is_dash(c)) c = '-';
        if (is_apostrophe(c)) c = '\'';
        if (detail::is_space(c)) c = ' ';
        chars.push_back(c);
    }

    // "Петрова - Водкина" (spaces around the dash, as Word types it) is one double surname.
    std::vector<UChar32> joined;
    for (std::size_t k = 0; k < chars.size(); ++k) {
        if (chars[k] == ' ') {
            const bool before_dash = k + 1 < chars.size() && chars[k + 1] == '-';
            const bool after_dash = !joined.empty() && joined.back() == '-';
            const bool before_spaces_then_dash = [&] {
                std::size_t j = k;
                while (j < chars.size() && chars[j] == ' ') ++j;
                return j < chars.size() && chars[j] == '-';
            }();
            if (before_dash || after_dash || (before_spaces_then_dash && !joined.empty())) {
                continue;
            }
        }
        joined.push_back(chars[k]);
    }

    // Only the first word counts: "Иванов Иван Иванович" is "иванов".
    std::size_t begin = 0;
    while (begin < joined.size() && joined[begin] == ' ') ++begin;
    std::size_t end = begin;
    while (end < joined.size() && joined[end] != ' ') ++end;
    // A dash hanging at either end ("— Иванов", "Петрова-") joins nothing.
    while (begin < end && joined[begin] == '-') ++begin;
    while (end > begin && joined[end - 1] == '-') --end;
    if (begin == end) return RuleError::surname_empty;

    icu::UnicodeString word;
    bool has_letter = false;
    for (std::size_t k = begin; k < end; ++k) {
        word.append(joined[k]);
        if (u_isalpha(joined[k])) has_letter = true;
    }
    if (!has_letter) return RuleError::surname_invalid;
    return detail::to_utf8(word);
}

}  // namespace lkk::rules
