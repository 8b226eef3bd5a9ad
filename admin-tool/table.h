// Aligned text tables for people reading a terminal (the --json output is for scripts).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace lkk::admin {

class Table {
  public:
    explicit Table(std::vector<std::string> headers);
    void add(std::vector<std::string> row);
    bool empty() const { return rows_.empty(); }
    // Columns padded to their widest cell, counted in characters (Cyrillic is one column
    // wide, not two bytes), separated by two spaces; the last column is not padded.
    void print(std::ostream& out) const;

  private:
    std::vector<std::string> headers_;
    std::vector<std::vector<std::string>> rows_;
};

// Display width of a UTF-8 string: one per code point.
size_t display_width(const std::string& text);

// "key:   value" lines for one record (users show, billing show).
void print_fields(std::ostream& out,
                  const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace lkk::admin
