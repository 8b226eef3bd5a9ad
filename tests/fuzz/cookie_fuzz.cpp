// libFuzzer target: parse_cookies on arbitrary bytes. Accepted cookies must have non-empty,
// clean UTF-8 names without separators, and url_encode of any value must parse back to it.
// Only the size and the count limits are errors.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lkk/http_parse.h"
#include "lkk/rules.h"

using lkk::rules::is_clean_text;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view header(reinterpret_cast<const char*>(data), size);
    auto cookies = lkk::http::parse_cookies(header);
    if (!cookies.ok()) {
        const auto kind = cookies.error().kind;
        if (kind == lkk::http::ParseError::too_large) {
            if (size <= lkk::http::kMaxCookieHeader) std::abort();
        } else if (kind == lkk::http::ParseError::too_many_fields) {
            // More cookies than the limit need at least that many '=' signs.
            size_t pairs = 0;
            for (char c : header) pairs += c == '=' ? 1 : 0;
            if (pairs <= lkk::http::kMaxCookies) std::abort();
        } else {
            std::abort();
        }
        return 0;
    }
    if (size > lkk::http::kMaxCookieHeader) std::abort();
    if (cookies->size() > lkk::http::kMaxCookies) std::abort();
    for (const auto& [name, value] : *cookies) {
        if (name.empty() || !is_clean_text(name) || !is_clean_text(value)) std::abort();
        if (name.find_first_of(";=") != std::string::npos) std::abort();
        if (value.find(';') != std::string::npos) std::abort();
        if (name.front() == ' ' || name.back() == ' ') std::abort();
        if (header.find(name) == std::string_view::npos) std::abort();  // nothing invented
        auto q = lkk::http::parse_query("v=" + lkk::http::url_encode(value));
        if (!q.ok() || q->value("v") != value) std::abort();
    }
    return 0;
}
