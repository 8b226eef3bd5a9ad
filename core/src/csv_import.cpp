// The streaming CSV table reader and the text helpers every support-staff import shares.
// See lkk/csv_import.h.
#include "lkk/csv_import.h"

#include <unicode/ucnv.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>

#include "lkk/rules.h"
#include "rules_unicode.h"

namespace lkk {

namespace {

std::string ascii_lower(std::string s) {
    for (char& c : s) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return s;
}

bool is_valid_utf8(std::string_view s) {
    for (int32_t i = 0; i < static_cast<int32_t>(s.size());) {
        if (rules::detail::next_code_point(s, i) < 0) return false;
    }
    return true;
}

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int to_int(std::string_view s) {
    int v = 0;
    for (char c : s) v = v * 10 + (c - '0');
    return v;
}

bool is_leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

std::string join(const std::vector<std::string>& names, std::string_view sep) {
    std::string out;
    for (const auto& n : names) {
        if (!out.empty()) out += sep;
        out += n;
    }
    return out;
}

}  // namespace

namespace csv {

std::string trim(std::string_view s) {
    size_t b = 0;
    size_t e = s.size();
    while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
    return std::string(s.substr(b, e - b));
}

std::string ascii_upper(std::string s) {
    for (char& c : s) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return s;
}

std::string quoted(const std::string& value) {
    if (value.size() > 60) return "";
    return " ('" + value + "')";
}

std::string office_of_line(const std::string& field, const std::string& default_office,
                           std::string& code) {
    code = field;
    if (code.empty()) {
        if (default_office.empty()) return "office: empty; give the office code";
        code = default_office;
    } else if (!default_office.empty() && code != default_office) {
        return "office: '" + code + "' differs from --office " + default_office;
    }
    return {};
}

}  // namespace csv

Result<TextEncoding> parse_text_encoding(const std::string& name) {
    const std::string n = ascii_lower(name);
    if (n == "utf-8" || n == "utf8") return TextEncoding::utf8;
    if (n == "cp1251" || n == "windows-1251" || n == "cp-1251") return TextEncoding::cp1251;
    return Status::Invalid("unknown encoding '" + name + "': use utf-8 or cp1251");
}

Result<std::vector<std::string>> split_csv_line(const std::string& line, char delimiter) {
    std::vector<std::string> fields;
    std::string field;
    size_t i = 0;
    const size_t n = line.size();
    while (true) {
        field.clear();
        // Blanks before an opening quote are allowed (" \"a;b\"" is the field a;b).
        size_t j = i;
        while (j < n && (line[j] == ' ' || line[j] == '\t')) ++j;
        if (j < n && line[j] == '"') {
            i = j + 1;
            bool closed = false;
            while (i < n) {
                if (line[i] == '"') {
                    if (i + 1 < n && line[i + 1] == '"') {
                        field.push_back('"');
                        i += 2;
                        continue;
                    }
                    closed = true;
                    ++i;
                    break;
                }
                field.push_back(line[i++]);
            }
            if (!closed) return Status::Invalid("a quote is opened and never closed");
            while (i < n && (line[i] == ' ' || line[i] == '\t')) ++i;
            if (i < n && line[i] != delimiter) {
                return Status::Invalid(
                    "text after a closing quote (write a quote inside a "
                    "quoted field as \"\")");
            }
        } else {
            while (i < n && line[i] != delimiter) field.push_back(line[i++]);
        }
        fields.push_back(field);
        if (i >= n) break;
        ++i;  // the delimiter
    }
    return fields;
}

Result<std::string> parse_billing_date(const std::string& text) {
    std::string_view s = text;
    int y = 0;
    int m = 0;
    int d = 0;
    if (s.size() == 10 && s[4] == '-' && s[7] == '-' && all_digits(s.substr(0, 4)) &&
        all_digits(s.substr(5, 2)) && all_digits(s.substr(8, 2))) {
        y = to_int(s.substr(0, 4));
        m = to_int(s.substr(5, 2));
        d = to_int(s.substr(8, 2));
    } else if (s.size() == 10 && s[2] == '.' && s[5] == '.' && all_digits(s.substr(0, 2)) &&
               all_digits(s.substr(3, 2)) && all_digits(s.substr(6, 4))) {
        d = to_int(s.substr(0, 2));
        m = to_int(s.substr(3, 2));
        y = to_int(s.substr(6, 4));
    } else {
        return Status::Invalid("not a date: write YYYY-MM-DD or DD.MM.YYYY");
    }
    static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || m < 1 || m > 12) return Status::Invalid("no such date");
    const int days = kDays[static_cast<size_t>(m - 1)] + (m == 2 && is_leap(y) ? 1 : 0);
    if (d < 1 || d > days) return Status::Invalid("no such date");
    std::string out(10, '0');
    auto put = [&out](size_t at, int value, int width) {
        for (int k = width - 1; k >= 0; --k) {
            out[at + static_cast<size_t>(k)] = static_cast<char>('0' + value % 10);
            value /= 10;
        }
    };
    put(0, y, 4);
    out[4] = '-';
    put(5, m, 2);
    out[7] = '-';
    put(8, d, 2);
    return out;
}

// cp1251 bytes to UTF-8 through one ICU converter kept for the whole file.
struct CsvTableReader::Converter {
    UConverter* cnv = nullptr;
    ~Converter() {
        if (cnv != nullptr) ucnv_close(cnv);
    }
    std::string to_utf8(const std::string& bytes) {
        UErrorCode err = U_ZERO_ERROR;
        icu::UnicodeString u(bytes.data(), static_cast<int32_t>(bytes.size()), cnv, err);
        std::string out;
        if (U_FAILURE(err)) return out;
        u.toUTF8String(out);
        return out;
    }
};

CsvTableReader::CsvTableReader(std::istream& in, TextEncoding encoding, CsvColumns columns)
    : in_(in), spec_(std::move(columns)) {
    if (encoding == TextEncoding::cp1251) {
        converter_ = std::make_unique<Converter>();
        UErrorCode err = U_ZERO_ERROR;
        converter_->cnv = ucnv_open("windows-1251", &err);
        if (U_FAILURE(err)) converter_->cnv = nullptr;
    }
}

CsvTableReader::~CsvTableReader() = default;

// One physical line, converted to UTF-8, without its line ending.
bool CsvTableReader::read_line(std::string& line) {
    if (!std::getline(in_, line)) return false;
    ++line_number_;
    bytes_read_ += line.size() + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_number_ == 1 && line.size() >= 3 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) {
        line.erase(0, 3);
    }
    if (converter_ != nullptr && converter_->cnv != nullptr) line = converter_->to_utf8(line);
    return true;
}

Status CsvTableReader::read_header() {
    std::string line;
    if (!read_line(line)) {
        return Status::Invalid("line 1: the file is empty; the first line must name the columns");
    }
    if (!is_valid_utf8(line)) {
        return Status::Invalid(
            "line 1: not valid UTF-8; if the file comes from Windows, add --encoding cp1251");
    }
    // The delimiter is whichever of ';' and ',' separates more column names.
    const auto semicolons = std::count(line.begin(), line.end(), ';');
    const auto commas = std::count(line.begin(), line.end(), ',');
    if (semicolons == 0 && commas == 0) {
        return Status::Invalid(
            "line 1: no ';' or ',' between column names; expected a header "
            "like " +
            join(spec_.known, ";"));
    }
    delimiter_ = semicolons >= commas ? ';' : ',';
    auto names = split_csv_line(line, delimiter_);
    if (!names.ok()) return Status::Invalid("line 1: " + names.error().message());
    columns_.clear();
    column_count_ = names->size();
    for (size_t i = 0; i < names->size(); ++i) {
        const std::string name = ascii_lower(csv::trim((*names)[i]));
        // Spreadsheets often end every line with one more delimiter: an unnamed column is
        // carried along and ignored.
        if (name.empty()) continue;
        if (std::find(spec_.known.begin(), spec_.known.end(), name) == spec_.known.end()) {
            return Status::Invalid("line 1: unknown column '" + (*names)[i] +
                                   "'; the columns are " + join(spec_.known, ", "));
        }
        if (!columns_.emplace(name, i).second) {
            return Status::Invalid("line 1: column '" + name + "' appears twice");
        }
    }
    for (const std::string& required : spec_.required) {
        if (columns_.count(required) == 0) {
            return Status::Invalid("line 1: column '" + required + "' is missing");
        }
    }
    return Status::Ok();
}

bool CsvTableReader::next(CsvLine& out) {
    std::string line;
    while (read_line(line)) {
        if (csv::trim(line).empty()) continue;  // blank lines (a trailing one is common)
        out.line = line_number_;
        out.fields.clear();
        out.error.clear();
        if (!is_valid_utf8(line)) {
            out.error = "not valid UTF-8; if the file comes from Windows, add --encoding cp1251";
            return true;
        }
        auto fields = split_csv_line(line, delimiter_);
        if (!fields.ok()) {
            out.error = fields.error().message();
            return true;
        }
        if (fields->size() != column_count_) {
            out.error = "expected " + std::to_string(column_count_) +
                        " fields as in the header, found " + std::to_string(fields->size()) +
                        " (is a field with a '" + std::string(1, delimiter_) +
                        "' missing its quotes?)";
            return true;
        }
        out.fields = std::move(fields.value());
        for (const auto& [name, index] : columns_) {
            if (!rules::is_clean_text(out.fields[index])) {
                out.error =
                    name + ": " + std::string(rules::message(rules::RuleError::text_invalid).en);
                return true;
            }
        }
        return true;
    }
    return false;
}

bool CsvTableReader::has_column(std::string_view name) const {
    return columns_.find(name) != columns_.end();
}

std::string CsvTableReader::field(const CsvLine& line, std::string_view name) const {
    auto it = columns_.find(name);
    if (it == columns_.end() || it->second >= line.fields.size()) return {};
    return csv::trim(line.fields[it->second]);
}

}  // namespace lkk
