// Aligned text tables.
#include "table.h"

#include <algorithm>
#include <utility>

namespace lkk::admin {

size_t display_width(const std::string& text) {
    size_t width = 0;
    for (char c : text) {
        // Continuation bytes (10xxxxxx) do not start a character.
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++width;
    }
    return width;
}

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::add(std::vector<std::string> row) {
    row.resize(headers_.size());
    rows_.push_back(std::move(row));
}

void Table::print(std::ostream& out) const {
    std::vector<size_t> widths(headers_.size(), 0);
    auto measure = [&widths](const std::vector<std::string>& row) {
        for (size_t i = 0; i < row.size(); ++i) {
            widths[i] = std::max(widths[i], display_width(row[i]));
        }
    };
    measure(headers_);
    for (const auto& row : rows_) measure(row);
    auto line = [&](const std::vector<std::string>& row) {
        std::string text;
        for (size_t i = 0; i < row.size(); ++i) {
            text += row[i];
            if (i + 1 < row.size()) text.append(widths[i] - display_width(row[i]) + 2, ' ');
        }
        // An empty last cell must not leave trailing blanks (they confuse diff and grep).
        while (!text.empty() && text.back() == ' ') text.pop_back();
        out << text << "\n";
    };
    line(headers_);
    for (const auto& row : rows_) line(row);
}

void print_fields(std::ostream& out,
                  const std::vector<std::pair<std::string, std::string>>& fields) {
    size_t width = 0;
    for (const auto& [key, value] : fields) width = std::max(width, display_width(key));
    for (const auto& [key, value] : fields) {
        out << key << ":" << std::string(width - display_width(key) + 2, ' ') << value << "\n";
    }
}

}  // namespace lkk::admin
