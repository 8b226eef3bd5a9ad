// Small Unicode helpers shared by the rules_*.cpp files (private to the core library).
// The decoding itself is ICU's; this only adapts it to std::string_view and our warnings.
#pragma once

#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <climits>
#include <cstdint>
#include <string>
#include <string_view>

namespace lkk::rules::detail {

// Inputs are form fields; anything near INT32_MAX is refused before ICU sees it.
inline bool fits_icu(std::string_view s) {
    return s.size() < static_cast<std::size_t>(INT32_MAX);
}

// The next code point of `s` at byte offset `i` (advanced past it), or a negative value for an
// ill-formed sequence (overlong forms, surrogates and values over U+10FFFF included).
inline UChar32 next_code_point(std::string_view s, int32_t& i) {
    const int32_t length = static_cast<int32_t>(s.size());
    UChar32 c = 0;
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#endif
    U8_NEXT(s.data(), i, length, c);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
    return c;
}

// C0 (tab and newlines included), DEL and C1.
inline bool is_control(UChar32 c) {
    return c < 0x20 || (c >= 0x7F && c <= 0x9F);
}

// Every dash kind a person or a word processor may produce between two parts of a surname
// or an account number; all of them mean a plain hyphen to us.
inline bool is_dash(UChar32 c) {
    return c == 0x2D || (c >= 0x2010 && c <= 0x2015) || c == 0x2212 || c == 0xFE58 || c == 0xFE63 ||
           c == 0xFF0D;
}

// Unicode White_Space: ASCII spaces and tabs, NBSP, narrow NBSP, ideographic space...
inline bool is_space(UChar32 c) {
    return u_isUWhiteSpace(c) != 0;
}

inline std::string to_utf8(const icu::UnicodeString& s) {
    std::string out;
    s.toUTF8String(out);
    return out;
}

}  // namespace lkk::rules::detail
