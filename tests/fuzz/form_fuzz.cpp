// libFuzzer target: parse_form on arbitrary bytes. Whatever it accepts must be valid UTF-8
// without control characters, within the limits, and survive url_encode -> parse again.
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
        if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return false;  // c < 0: invalid UTF-8
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const lkk::http::ParseLimits limits;
    auto form = lkk::http::parse_form(input, limits);
    if (!form.ok()) {
        if (form.error().kind != lkk::http::ParseError::too_large &&
            form.error().kind != lkk::http::ParseError::too_many_fields &&
            !clean_utf8(form.error().field)) {
            std::abort();  // an error must never echo unclean bytes back
        }
        return 0;
    }
    if (size > limits.max_bytes || form->size() > limits.max_fields) std::abort();
    std::string rebuilt;
    for (const lkk::http::Field& f : form->fields()) {
        if (!clean_utf8(f.name) || !clean_utf8(f.value)) std::abort();
        if (f.name.size() > limits.max_name) std::abort();
        if (form->get(f.name) == nullptr) std::abort();
        if (!rebuilt.empty()) rebuilt += '&';
        rebuilt += lkk::http::url_encode(f.name) + "=" + lkk::http::url_encode(f.value);
    }
    // Re-encoding may grow the text beyond max_bytes; the invariant is about content.
    lkk::http::ParseLimits roomy = limits;
    roomy.max_bytes = rebuilt.size();
    auto again = lkk::http::parse_form(rebuilt, roomy);
    if (!again.ok()) std::abort();
    // Fields with an empty name and value ("=") re-encode to "=": same count, same content.
    if (again->size() != form->size()) std::abort();
    for (size_t i = 0; i < form->size(); ++i) {
        if (again->fields()[i].name != form->fields()[i].name) std::abort();
        if (again->fields()[i].value != form->fields()[i].value) std::abort();
    }
    return 0;
}
