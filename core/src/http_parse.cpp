// Parsing of urlencoded forms, query strings and cookies with size limits and strict UTF-8.
// Works on plain byte strings: the same code serves nginx today and any other server later.
#include "lkk/http_parse.h"

#include "rules_unicode.h"

#include <cstdint>
#include <optional>

namespace lkk::http {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Undoes urlencoding: '+' becomes a space and %XX the byte XX. nullopt on a '%' that is not
// followed by two hex digits, which browsers never send.
std::optional<std::string> percent_decode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%') {
            if (i + 2 >= in.size()) return std::nullopt;
            const int hi = hex_value(in[i + 1]);
            const int lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

enum class TextProblem { none, bad_utf8, control_char };

// Walks the text code point by code point with ICU's U8_NEXT, which rejects overlong forms,
// surrogates and truncated sequences. Control characters (C0, DEL, C1) are refused because
// they end up in e-mails, logs and the database, where they can forge lines.
TextProblem check_text(std::string_view s) {
    for (int32_t i = 0; i < static_cast<int32_t>(s.size());) {
        const UChar32 c = rules::detail::next_code_point(s, i);
        if (c < 0) return TextProblem::bad_utf8;
        if (rules::detail::is_control(c)) return TextProblem::control_char;
    }
    return TextProblem::none;
}

std::optional<ParseError> text_error(TextProblem problem, std::string field) {
    switch (problem) {
        case TextProblem::none:
            return std::nullopt;
        case TextProblem::bad_utf8:
            return ParseError{ParseError::bad_utf8, std::move(field)};
        case TextProblem::control_char:
            return ParseError{ParseError::control_char, std::move(field)};
    }
    return std::nullopt;
}

// Shared by forms and query strings: both are application/x-www-form-urlencoded.
Result<Form, ParseError> parse_urlencoded(std::string_view input, const ParseLimits& limits) {
    if (input.size() > limits.max_bytes) return ParseError{ParseError::too_large, {}};
    Form form;
    while (!input.empty()) {
        const size_t amp = input.find('&');
        const std::string_view pair = input.substr(0, amp);
        input.remove_prefix(amp == std::string_view::npos ? input.size() : amp + 1);
        if (pair.empty()) continue;
        if (form.size() >= limits.max_fields) return ParseError{ParseError::too_many_fields, {}};

        const size_t eq = pair.find('=');
        const std::string_view raw_name = pair.substr(0, eq);
        const std::string_view raw_value =
            eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);

        std::optional<std::string> name = percent_decode(raw_name);
        if (!name) return ParseError{ParseError::bad_encoding, {}};
        if (auto err = text_error(check_text(*name), {})) return *err;
        if (name->size() > limits.max_name) return ParseError{ParseError::too_large, {}};

        std::optional<std::string> value = percent_decode(raw_value);
        if (!value) return ParseError{ParseError::bad_encoding, *name};
        if (auto err = text_error(check_text(*value), *name)) return *err;

        form.add(std::move(*name), std::move(*value));
    }
    return form;
}

bool is_cookie_space(char c) {
    return c == ' ' || c == '\t';
}

std::string_view trim_cookie_space(std::string_view s) {
    while (!s.empty() && is_cookie_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_cookie_space(s.back())) s.remove_suffix(1);
    return s;
}

char ascii_lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

const std::string* Form::get(std::string_view name) const {
    for (const Field& f : fields_) {
        if (f.name == name) return &f.value;
    }
    return nullptr;
}

std::string_view Form::value(std::string_view name) const {
    const std::string* v = get(name);
    return v ? std::string_view(*v) : std::string_view{};
}

std::vector<std::string_view> Form::all(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const Field& f : fields_) {
        if (f.name == name) out.emplace_back(f.value);
    }
    return out;
}

void Form::add(std::string name, std::string value) {
    fields_.push_back(Field{std::move(name), std::move(value)});
}

Message describe(const ParseError& error) {
    switch (error.kind) {
        case ParseError::too_large:
            return {"Слишком большой запрос.", "The request is too large."};
        case ParseError::too_many_fields:
            return {"Слишком много полей в форме.", "The form has too many fields."};
        case ParseError::bad_encoding:
            return {"Форма передана в неверной кодировке.", "The form is badly encoded."};
        case ParseError::bad_utf8:
            return {"Форма содержит недопустимые символы (не UTF-8).",
                    "The form contains invalid characters (not UTF-8)."};
        case ParseError::control_char:
            return {"Форма содержит управляющие символы.", "The form contains control characters."};
    }
    return {"Ошибка в форме.", "The form is invalid."};
}

Result<Form, ParseError> parse_form(std::string_view body, const ParseLimits& limits) {
    return parse_urlencoded(body, limits);
}

Result<Form, ParseError> parse_query(std::string_view query, const ParseLimits& limits) {
    if (!query.empty() && query.front() == '?') query.remove_prefix(1);
    return parse_urlencoded(query, limits);
}

Result<std::map<std::string, std::string>, ParseError> parse_cookies(std::string_view header) {
    if (header.size() > kMaxCookieHeader) return ParseError{ParseError::too_large, {}};
    std::map<std::string, std::string> cookies;
    size_t count = 0;
    while (!header.empty()) {
        const size_t semi = header.find(';');
        const std::string_view pair = header.substr(0, semi);
        header.remove_prefix(semi == std::string_view::npos ? header.size() : semi + 1);

        const size_t eq = pair.find('=');
        if (eq == std::string_view::npos) continue;
        const std::string_view name = trim_cookie_space(pair.substr(0, eq));
        std::string_view value = trim_cookie_space(pair.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            value = value.substr(1, value.size() - 2);
        }
        if (name.empty()) continue;
        if (check_text(name) != TextProblem::none || check_text(value) != TextProblem::none) {
            continue;
        }
        if (++count > kMaxCookies) return ParseError{ParseError::too_many_fields, {}};
        cookies.emplace(std::string(name), std::string(value));  // emplace keeps the first
    }
    return cookies;
}

std::string url_encode(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto b = static_cast<unsigned char>(c);
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~';
        if (unreserved) {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(kHex[b >> 4]);
            out.push_back(kHex[b & 0x0f]);
        }
    }
    return out;
}

std::string media_type(std::string_view content_type) {
    std::string_view type = content_type.substr(0, content_type.find(';'));
    while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
    std::string out;
    out.reserve(type.size());
    for (const char c : type) out.push_back(ascii_lower(c));
    return out;
}

}  // namespace lkk::http
