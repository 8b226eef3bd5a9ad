// The template set: built-in templates, admin overrides, mustache rendering with partials.
#include "lkk/templates.h"

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>

#include "lkk/embedded.h"

namespace lkk {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kHtml = ".html";

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Reads an admin's override file whole; a file that exists but cannot be read is a startup
// error rather than a silently used built-in (the admin would not know why the look is off).
Result<std::optional<std::string>> read_override(const fs::path& path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return std::optional<std::string>{};
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::Invalid("cannot read template " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return Status::Invalid("cannot read template " + path.string());
    return std::optional<std::string>{text.str()};
}

// The text of the first <h1> with tags removed and spaces trimmed: the page names itself,
// so a translated or overridden template needs no separate title string.
std::string first_heading(const std::string& html) {
    size_t open = html.find("<h1");
    if (open == std::string::npos) return {};
    size_t start = html.find('>', open);
    if (start == std::string::npos) return {};
    size_t end = html.find("</h1>", start);
    if (end == std::string::npos) return {};
    std::string text;
    bool in_tag = false;
    for (size_t i = start + 1; i < end; ++i) {
        char c = html[i];
        if (c == '<')
            in_tag = true;
        else if (c == '>')
            in_tag = false;
        else if (!in_tag)
            text += (c == '\n' || c == '\t') ? ' ' : c;
    }
    size_t b = text.find_first_not_of(' ');
    size_t e = text.find_last_not_of(' ');
    return b == std::string::npos ? std::string{} : text.substr(b, e - b + 1);
}

// Variables are looked up in the data only and partials in the set only: were the partials
// ordinary context entries, a missing {{#error}} or {{#consent}} would find the template of
// that name and render as true.
class PageContext final : public kainjow::mustache::basic_context<std::string> {
  public:
    PageContext(const TemplateData& data, const TemplateData& partials)
        : data_(&data), partials_(partials) {}
    void push(const TemplateData* data) override { data_.push(data); }
    void pop() override { data_.pop(); }
    const TemplateData* get(const std::string& name) const override { return data_.get(name); }
    const TemplateData* get_partial(const std::string& name) const override {
        return partials_.get(name);
    }

  private:
    kainjow::mustache::context<std::string> data_;
    const TemplateData& partials_;
};

}  // namespace

Result<TemplateSet> TemplateSet::load(Locale locale, const std::string& override_dir) {
    TemplateSet set;
    set.locale_ = locale;
    const std::string own = std::string(locale_name(locale)) + "/";
    // Russian is the complete set; another locale falls back to it file by file.
    for (const auto& [key, text] : embedded_templates::files()) {
        std::string_view k = key;
        if (k.find('/') == std::string_view::npos) {
            set.files_[std::string(k)] = std::string(text);
        } else if (k.substr(0, 3) == "ru/" && !set.files_.contains(k.substr(3))) {
            set.files_[std::string(k.substr(3))] = std::string(text);
        }
    }
    if (locale != Locale::ru) {
        for (const auto& [key, text] : embedded_templates::files()) {
            std::string_view k = key;
            if (k.substr(0, own.size()) == own)
                set.files_[std::string(k.substr(own.size()))] = std::string(text);
        }
    }
    if (!override_dir.empty()) {
        for (auto& [name, text] : set.files_) {
            for (const fs::path& candidate : {fs::path(override_dir) / locale_name(locale) / name,
                                              fs::path(override_dir) / name}) {
                auto found = read_override(candidate);
                if (!found.ok()) return found.error();
                if (found.value()) {
                    text = std::move(*found.value());
                    break;
                }
            }
        }
    }
    set.partials_ = TemplateData(TemplateData::type::object);
    for (const auto& [name, text] : set.files_) {
        if (!ends_with(name, kHtml) && !ends_with(name, ".txt")) continue;
        kainjow::mustache::mustache parsed(text);
        if (!parsed.is_valid()) {
            return Status::Invalid("template " + name + ": " + parsed.error_message());
        }
        if (ends_with(name, kHtml)) {
            set.partials_.set(name.substr(0, name.size() - kHtml.size()), TemplateData(text));
        }
    }
    return set;
}

bool TemplateSet::has(std::string_view name) const {
    return files_.find(name) != files_.end();
}

const std::string* TemplateSet::text(std::string_view name) const {
    auto it = files_.find(name);
    return it == files_.end() ? nullptr : &it->second;
}

Result<std::string> TemplateSet::render(std::string_view name, const TemplateData& data) const {
    const std::string* source = text(name);
    if (source == nullptr) return Status::Internal("no template " + std::string(name));
    try {
        // Parsed per call: kainjow's renderer keeps error state in the object, so one shared
        // parsed instance would not be safe across threads. Parsing these small files is cheap.
        kainjow::mustache::mustache tmpl(*source);
        PageContext ctx(data, partials_);
        std::string out = tmpl.render(ctx);
        if (!tmpl.is_valid()) {
            return Status::Internal("template " + std::string(name) + ": " + tmpl.error_message());
        }
        return out;
    } catch (const std::exception& e) {
        return Status::Internal("template " + std::string(name) + ": " + e.what());
    }
}

Result<std::string> TemplateSet::render_page(std::string_view page,
                                             const TemplateData& data) const {
    auto content = render(page, data);
    if (!content.ok()) return content;
    try {
        TemplateData outer = data;
        outer.set("title", first_heading(content.value()));
        outer.set("content", content.value());
        return render("layout.html", outer);
    } catch (const std::exception& e) {
        return Status::Internal(std::string("layout: ") + e.what());
    }
}

}  // namespace lkk
