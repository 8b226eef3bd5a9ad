#pragma once

#include <string_view>

namespace lkk {

// The UI languages. Russian is the default everywhere.
enum class Locale { ru, en };

inline Locale parse_locale(std::string_view s) { return s == "en" ? Locale::en : Locale::ru; }
inline std::string_view locale_name(Locale l) { return l == Locale::en ? "en" : "ru"; }

// A message in both languages; rules and services return these so the caller picks one.
struct Message {
    std::string_view ru;
    std::string_view en;
    std::string_view in(Locale l) const { return l == Locale::en ? en : ru; }
};

}  // namespace lkk
