// The check every form field passes first (SPEC 4: invalid UTF-8 or control characters in
// fields are a form error), so that nothing further down ever sees ill-formed text.
#include "lkk/rules.h"
#include "rules_unicode.h"

namespace lkk::rules {

// ICU's strict decoder refuses overlong forms, surrogates and values over U+10FFFF, which a
// hand-written byte table easily lets through.
bool is_clean_text(std::string_view text) {
    if (!detail::fits_icu(text)) return false;
    int32_t i = 0;
    const auto length = static_cast<int32_t>(text.size());
    while (i < length) {
        const UChar32 c = detail::next_code_point(text, i);
        if (c < 0 || detail::is_control(c)) return false;
    }
    return true;
}

}  // namespace lkk::rules
