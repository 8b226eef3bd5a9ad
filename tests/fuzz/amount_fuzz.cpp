// libFuzzer target for the amount parser (SPEC 3: parsed exactly, never through floating
// point). Besides "no crash", it checks properties that must hold for every input, and
// aborts when one does not.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lkk/rules.h"

namespace {

using lkk::rules::format_kopecks;
using lkk::rules::kMaxAmountKopecks;
using lkk::rules::parse_amount_kopecks;

void require(bool condition) {
    if (!condition) std::abort();
}

// Two results are the same when both succeed with one value or both fail with one error.
bool same(const lkk::Result<int64_t, lkk::rules::RuleError>& a,
          const lkk::Result<int64_t, lkk::rules::RuleError>& b) {
    if (a.ok() != b.ok()) return false;
    return a.ok() ? a.value() == b.value() : a.error() == b.error();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    const auto parsed = parse_amount_kopecks(input);

    // Surrounding spaces never change the answer.
    require(same(parsed, parse_amount_kopecks(" " + input + "\xC2\xA0")));

    // A comma and a dot are the same decimal separator.
    std::string swapped = input;
    for (char& c : swapped) {
        if (c == ',')
            c = '.';
        else if (c == '.')
            c = ',';
    }
    require(same(parsed, parse_amount_kopecks(swapped)));

    if (parsed.ok()) {
        const int64_t kopecks = parsed.value();
        require(kopecks >= 0 && kopecks <= kMaxAmountKopecks);
        // What the pages print is read back as the same amount, in every spelling.
        for (const std::string& printed :
             {format_kopecks(kopecks, '.', ""), format_kopecks(kopecks, ',', " "),
              format_kopecks(kopecks)}) {
            const auto again = parse_amount_kopecks(printed);
            require(again.ok() && again.value() == kopecks);
        }
    }
    return 0;
}
