// libFuzzer target: parse_form on arbitrary bytes (invariants in urlencoded_check.h).
#include "urlencoded_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return check_urlencoded(data, size, [](std::string_view in, const lkk::http::ParseLimits& l) {
        return lkk::http::parse_form(in, l);
    });
}
