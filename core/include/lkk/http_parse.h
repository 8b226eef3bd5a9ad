// HTTP-agnostic parsing of what a browser sends: urlencoded forms, query strings, cookies.
// The nginx glue hands over raw bytes; everything that reaches the application has passed
// the size limits and is valid UTF-8 without control characters (SPEC 4).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lkk/locale.h"
#include "lkk/status.h"

namespace lkk::http {

struct Field {
    std::string name, value;
};

// The fields of a form or query string in the order they were sent. Repeated names are kept.
class Form {
  public:
    Form() = default;
    explicit Form(std::vector<Field> fields) : fields_(std::move(fields)) {}

    // The first value sent under name, or nullptr when the field is absent.
    const std::string* get(std::string_view name) const;
    // The first value under name, or "" when absent (an empty and a missing field read alike).
    std::string_view value(std::string_view name) const;
    // Every value sent under name, in order.
    std::vector<std::string_view> all(std::string_view name) const;
    bool has(std::string_view name) const { return get(name) != nullptr; }

    size_t size() const { return fields_.size(); }
    bool empty() const { return fields_.empty(); }
    const std::vector<Field>& fields() const { return fields_; }
    void add(std::string name, std::string value);

  private:
    std::vector<Field> fields_;
};

// Limits that keep a hostile request cheap. max_bytes is the SPEC's 16 KiB body limit.
struct ParseLimits {
    size_t max_bytes = 16 * 1024;
    size_t max_fields = 100;
    size_t max_name = 64;  // bytes of a decoded field name
};

// Why the input was refused. `field` is the decoded name of the offending field when that
// name itself is valid (for errors in the name, or too_large/too_many_fields, it is empty).
struct ParseError {
    enum Kind { too_large, too_many_fields, bad_encoding, bad_utf8, control_char } kind;
    std::string field;
};

// A human explanation of a ParseError in both UI languages.
Message describe(const ParseError& error);

// application/x-www-form-urlencoded: '&'-separated name=value pairs, '+' is a space, %XX is a
// byte. A malformed escape is bad_encoding; decoded names and values must be valid UTF-8
// (bad_utf8) and contain no control character: no C0 (TAB and CR/LF included: the portal has
// no multi-line fields), no DEL, no C1 (control_char). Empty pairs ("a=1&&b=2") are skipped;
// a pair without '=' is a field with an empty value.
Result<Form, ParseError> parse_form(std::string_view body, const ParseLimits& limits = {});

// The query string of a URL, without the '?' (a leading '?' is tolerated); same rules.
Result<Form, ParseError> parse_query(std::string_view query, const ParseLimits& limits = {});

// The Cookie request header (RFC 6265 "a=b; c=d"), every Cookie header the web server accepted
// joined with "; ". Host sites set dozens of analytics cookies, so the portal's own are found
// among them: the limits are the web servers' own, not the portal's. nginx accepts a header
// line up to large_client_header_buffers (8 KB by default, 4 of them for all headers) and
// browsers keep about 180 cookies per site; a header over kMaxCookieHeader is too_large, one
// with more than kMaxCookies cookies too_many_fields (either way no cookie is read).
// Tolerant, because other applications on the same host set cookies too: spaces around
// names and values are ignored, pairs without '=' or with an empty name are skipped, pairs
// whose name or value is not valid UTF-8 or holds control characters are skipped, a quoted
// value is unquoted, and the first occurrence of a name wins (the most specific path).
inline constexpr size_t kMaxCookieHeader = 64 * 1024;
inline constexpr size_t kMaxCookies = 200;
Result<std::map<std::string, std::string>, ParseError> parse_cookies(std::string_view header);

// Percent-encodes everything except the RFC 3986 unreserved characters, so a token or an
// e-mail address can be put into a link or a query string; parse_query gives it back.
std::string url_encode(std::string_view text);

// "Application/JSON; charset=utf-8" -> "application/json": the lower-cased type/subtype,
// without parameters and surrounding spaces. (A std::string, because lower-casing may need
// new storage.)
std::string media_type(std::string_view content_type);

}  // namespace lkk::http
