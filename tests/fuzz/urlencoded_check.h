// The invariants shared by the form and the query-string fuzzers: whatever a url-encoded
// parser accepts must be clean UTF-8 within the limits, and survive url_encode -> parse
// again unchanged. Any violation aborts, which libFuzzer reports as a crash.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lkk/http_parse.h"
#include "lkk/rules.h"

template <class Parse>
int check_urlencoded(const uint8_t* data, size_t size, Parse parse) {
    using lkk::rules::is_clean_text;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const lkk::http::ParseLimits limits;
    auto form = parse(input, limits);
    if (!form.ok()) {
        if (form.error().kind != lkk::http::ParseError::too_large &&
            form.error().kind != lkk::http::ParseError::too_many_fields &&
            !is_clean_text(form.error().field)) {
            std::abort();  // an error must never echo unclean bytes back
        }
        return 0;
    }
    if (size > limits.max_bytes || form->size() > limits.max_fields) std::abort();
    std::string rebuilt;
    for (const lkk::http::Field& f : form->fields()) {
        if (!is_clean_text(f.name) || !is_clean_text(f.value)) std::abort();
        if (f.name.size() > limits.max_name) std::abort();
        if (form->get(f.name) == nullptr) std::abort();
        if (!rebuilt.empty()) rebuilt += '&';
        rebuilt += lkk::http::url_encode(f.name) + "=" + lkk::http::url_encode(f.value);
    }
    // Re-encoding may grow the text beyond max_bytes; the invariant is about content.
    lkk::http::ParseLimits roomy = limits;
    roomy.max_bytes = rebuilt.size();
    auto again = parse(rebuilt, roomy);
    if (!again.ok()) std::abort();
    // Fields with an empty name and value ("=") re-encode to "=": same count, same content.
    if (again->size() != form->size()) std::abort();
    for (size_t i = 0; i < form->size(); ++i) {
        if (again->fields()[i].name != form->fields()[i].name) std::abort();
        if (again->fields()[i].value != form->fields()[i].value) std::abort();
    }
    return 0;
}
