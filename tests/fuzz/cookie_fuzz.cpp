// libFuzzer target: parse_cookies on arbitrary bytes. Accepted cookies must have non-empty,
// clean UTF-8 names without separators, and url_encode of any value must parse back to it.
#include <unicode/utf8.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lkk/http_parse.h"

namespace {

bool clean_utf8(std::string_view s) {
    const auto* p = reinterpret_cast<const uint8_t*>(s.data());
    const auto n = static_cast<int32_t>(s.size());
    int32_t i = 0;
    while (i < n) {
        UChar32 c = 0;
        U8_NEXT(p, i, n, c);
        if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view header(reinterpret_cast<const char*>(data), size);
    auto cookies = lkk::http::parse_cookies(header);
    if (!cookies.ok()) {
        if (size <= lkk::http::kMaxCookieHeader) std::abort();  // only size is an error
        return 0;
    }
    if (size > lkk::http::kMaxCookieHeader) std::abort();
    for (const auto& [name, value] : *cookies) {
        if (name.empty() || !clean_utf8(name) || !clean_utf8(value)) std::abort();
        if (name.find_first_of(";=") != std::string::npos) std::abort();
        if (value.find(';') != std::string::npos) std::abort();
        if (name.front() == ' ' || name.back() == ' ') std::abort();
        if (header.find(name) == std::string_view::npos) std::abort();  // nothing invented
        auto q = lkk::http::parse_query("v=" + lkk::http::url_encode(value));
        if (!q.ok() || q->value("v") != value) std::abort();
    }
    return 0;
}
