// The template set: built-in templates, admin overrides, mustache rendering with partials.
#include "lkk/templates.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
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

// Partials are inlined when the set loads (expand_partials), so a page has no {{> }} left
// and no variable can ever be taken for a partial: this context answers no partial at all.
class PageContext final : public kainjow::mustache::basic_context<std::string> {
  public:
    // top, when given, is looked up before data (the layout's content and title).
    PageContext(const TemplateData& data, const TemplateData* top) : data_(&data) {
        if (top != nullptr) data_.push(top);
    }
    void push(const TemplateData* data) override { data_.push(data); }
    void pop() override { data_.pop(); }
    const TemplateData* get(const std::string& name) const override { return data_.get(name); }
    const TemplateData* get_partial(const std::string&) const override { return nullptr; }

  private:
    kainjow::mustache::context<std::string> data_;
};

// Replaces every {{> name}} with the text of name.html (recursively). kainjow parses a
// partial again at each inclusion, and parsing costs twenty times the rendering, so the set
// does it once here; an unknown partial is a startup error rather than a silent gap.
Result<std::string> expand_partials(const std::string& text,
                                    const std::map<std::string, std::string, std::less<>>& files,
                                    int depth) {
    if (depth > 8) return Status::Invalid("partials nested too deeply");
    std::string out;
    size_t from = 0;
    while (true) {
        const size_t open = text.find("{{>", from);
        if (open == std::string::npos) break;
        const size_t close = text.find("}}", open);
        if (close == std::string::npos) break;  // the parser reports the unclosed tag
        std::string name = text.substr(open + 3, close - open - 3);
        const size_t b = name.find_first_not_of(" \t");
        const size_t e = name.find_last_not_of(" \t");
        name = b == std::string::npos ? std::string() : name.substr(b, e - b + 1);
        auto it = files.find(name + std::string(kHtml));
        if (it == files.end()) return Status::Invalid("unknown partial {{> " + name + "}}");
        auto inner = expand_partials(it->second, files, depth + 1);
        if (!inner.ok()) return inner;
        out.append(text, from, open - from);
        out += inner.value();
        from = close + 2;
    }
    out.append(text, from, std::string::npos);
    return out;
}

using Parsed = kainjow::mustache::mustache;

// kainjow writes a page line by line to any stream with <<: this one appends to a string,
// without an ostringstream's sentry and locale work for every piece.
struct StringSink {
    std::string text;
    StringSink& operator<<(const std::string& piece) {
        text += piece;
        return *this;
    }
};

// Parsed templates, per thread and per set: kainjow's renderer keeps its error state in the
// template object, so threads do not share one; each parses a template once and keeps it.
std::atomic<uint64_t> g_next_set_id{1};
thread_local std::map<uint64_t, std::map<std::string, std::unique_ptr<Parsed>, std::less<>>>
    t_parsed;

// This thread's part, for the set id, of a per-thread cache (t_parsed, t_frames). Sets of
// applications that are gone stay behind; a thread rarely sees more than one or two, so
// forgetting them all now and then is enough.
template <class Part>
Part& part_of_set(std::map<uint64_t, Part>& per_set, uint64_t id) {
    if (per_set.size() > 16 && !per_set.contains(id)) per_set.clear();
    return per_set[id];
}

// The layout around every page (render_page) costs more to render with kainjow than most pages
// themselves, yet it varies only with the title, the login state and three values that are
// the same bytes wherever they stand: the page, the CSRF token and the e-mail. So each thread
// renders it once per title and login state with markers in place of those three, and later
// pages are that frame with the markers replaced. Only a layout whose every tag allows this is
// framed (frame_keys); an admin's layout that reads anything else is rendered whole each time.
constexpr std::string_view kContent = "content", kCsrf = "csrf", kEmail = "user_email";
constexpr char kMark = '\x01';  // markers: kMark, the slot's letter, kMark

// The names of kFrameKeys the layout reads, or nullopt when it reads anything else, content
// other than unescaped, csrf or user_email other than escaped, changes delimiters or names a
// dotted path. Conservative by design: what it refuses is merely rendered whole.
std::optional<std::vector<std::string>> frame_keys(const std::string& layout) {
    static const std::array<std::string_view, 6> kFrameKeys = {
        "title", "base", "support_email", "lang", "min_length", "logged_in"};
    if (layout.find(kMark) != std::string::npos) return std::nullopt;
    std::vector<std::string> keys;
    size_t from = 0;
    while (true) {
        const size_t open = layout.find("{{", from);
        if (open == std::string::npos) break;
        const bool triple = layout.compare(open, 3, "{{{") == 0;
        const size_t close = layout.find(triple ? "}}}" : "}}", open);
        if (close == std::string::npos) return std::nullopt;
        std::string_view inner(layout.data() + open + (triple ? 3 : 2),
                               close - open - (triple ? 3 : 2));
        from = close + (triple ? 3 : 2);
        char sigil = ' ';
        if (!triple && !inner.empty() &&
            std::string_view("!=>&#^/").find(inner[0]) != std::string_view::npos) {
            sigil = inner[0];
            inner.remove_prefix(1);
        }
        if (sigil == '!') continue;
        if (sigil == '=' || sigil == '>') return std::nullopt;
        while (!inner.empty() && (inner.front() == ' ' || inner.front() == '\t'))
            inner.remove_prefix(1);
        while (!inner.empty() && (inner.back() == ' ' || inner.back() == '\t'))
            inner.remove_suffix(1);
        if (inner.empty() || inner.find_first_of(".!=>&#^/{}") != std::string_view::npos)
            return std::nullopt;
        const bool raw = triple || sigil == '&', escaped = !triple && sigil == ' ';
        if (inner == kContent) {
            if (!raw) return std::nullopt;
        } else if (inner == kCsrf || inner == kEmail) {
            if (!escaped) return std::nullopt;
        } else if (std::find(kFrameKeys.begin(), kFrameKeys.end(), inner) != kFrameKeys.end()) {
            if (std::find(keys.begin(), keys.end(), inner) == keys.end()) keys.emplace_back(inner);
        } else {
            return std::nullopt;
        }
    }
    return keys;
}

// A rendered layout cut at its markers: text, then what stands at the marker ('\0' after
// the last piece).
using Frame = std::vector<std::pair<std::string, char>>;
thread_local std::map<uint64_t, std::map<std::string, Frame, std::less<>>> t_frames;

Frame cut_at_markers(const std::string& text) {
    Frame frame;
    size_t from = 0;
    while (true) {
        const size_t at = text.find(kMark, from);
        if (at == std::string::npos || at + 2 >= text.size() || text[at + 2] != kMark) {
            frame.emplace_back(text.substr(from), '\0');
            return frame;
        }
        frame.emplace_back(text.substr(from, at - from), text[at + 1]);
        from = at + 3;
    }
}

// Whether value can stand in the frame for its marker: without a marker of its own, and not
// blank, since kainjow drops a line that holds a section tag and blanks only.
bool fits_a_slot(const std::string& value) {
    return value.find(kMark) == std::string::npos &&
           value.find_first_not_of(" \t") != std::string::npos;
}

}  // namespace

// kainjow's html_escape, byte for byte, but it appends the runs between the five special
// characters whole instead of one character at a time. (The runs are found with a plain loop:
// string_view::find_first_of calls memchr on the set for every byte of the text.)
std::string escape_html(std::string_view s) {
    const auto special = [](char c) {
        return c == '&' || c == '<' || c == '>' || c == '"' || c == '\'';
    };
    std::string out;
    out.reserve(s.size() + s.size() / 8);
    size_t from = 0;
    while (true) {
        size_t at = from;
        while (at < s.size() && !special(s[at])) ++at;
        out.append(s.data() + from, at - from);
        if (at == s.size()) return out;
        switch (s[at]) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += "&apos;";
                break;
        }
        from = at + 1;
    }
}

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
    for (const auto& [name, text] : set.files_) {
        if (!ends_with(name, kHtml) && !ends_with(name, ".txt")) continue;
        auto expanded = expand_partials(text, set.files_, 0);
        if (!expanded.ok()) {
            return Status::Invalid("template " + name + ": " + expanded.error().message());
        }
        Parsed parsed(expanded.value());
        if (!parsed.is_valid()) {
            return Status::Invalid("template " + name + ": " + parsed.error_message());
        }
        set.expanded_[name] = std::move(expanded.value());
    }
    if (auto layout = set.expanded_.find("layout.html"); layout != set.expanded_.end())
        set.frame_keys_ = frame_keys(layout->second);
    set.id_ = g_next_set_id.fetch_add(1);
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
    return render_with(name, data, nullptr);
}

Result<std::string> TemplateSet::render_with(std::string_view name, const TemplateData& data,
                                             const TemplateData* top) const {
    auto source = expanded_.find(name);
    if (source == expanded_.end()) return Status::Internal("no template " + std::string(name));
    try {
        auto& mine = part_of_set(t_parsed, id_);
        auto it = mine.find(name);
        if (it == mine.end()) {
            it = mine.emplace(std::string(name), std::make_unique<Parsed>(source->second)).first;
            it->second->set_custom_escape(
                [](const std::string& text) { return escape_html(text); });
        }
        Parsed& tmpl = *it->second;
        PageContext ctx(data, top);
        StringSink out;
        out.text.reserve(source->second.size() + source->second.size() / 2);
        tmpl.render(ctx, out);
        if (!tmpl.is_valid()) {
            const std::string error = tmpl.error_message();
            mine.erase(it);  // the error sticks to the object: parse afresh next time
            return Status::Internal("template " + std::string(name) + ": " + error);
        }
        return std::move(out.text);
    } catch (const std::exception& e) {
        return Status::Internal("template " + std::string(name) + ": " + e.what());
    }
}

std::optional<std::string> TemplateSet::framed(const TemplateData& data, const std::string& title,
                                               const std::string& content) const {
    if (!frame_keys_ || !fits_a_slot(content)) return std::nullopt;
    // The key: each value the layout reads, length first so that no two keys run together.
    std::string key;
    for (const std::string& name : *frame_keys_) {
        const TemplateData* v = name == "title" ? nullptr : data.get(name);
        const std::string* text = name == "title" ? &title : nullptr;
        if (v != nullptr && v->is_string()) text = &v->string_value();
        if (text != nullptr) {
            if (text->find(kMark) != std::string::npos) return std::nullopt;
            key += std::to_string(text->size()) + ':' + *text;
        } else if (v == nullptr || v->is_bool()) {
            key += v == nullptr ? '-' : v->is_true() ? 't' : 'f';
        } else {
            return std::nullopt;  // a list or an object: the layout would walk it
        }
    }
    // csrf and user_email: a marker when given as text that fits, their absence is keyed.
    std::array<const std::string*, 2> slots{};
    for (size_t i = 0; i < 2; ++i) {
        const TemplateData* v = data.get(std::string(i == 0 ? kCsrf : kEmail));
        if (v == nullptr) {
            key += '-';
        } else if (v->is_string() && fits_a_slot(v->string_value())) {
            slots[i] = &v->string_value();
            key += '+';
        } else {
            return std::nullopt;
        }
    }
    auto& mine = part_of_set(t_frames, id_);
    auto it = mine.find(key);
    if (it == mine.end()) {
        if (mine.size() >= 256) mine.clear();  // titles of error pages, one per message
        TemplateData top(TemplateData::type::object);
        put(top, "title", title);
        put(top, std::string(kContent), std::string{kMark, 'c', kMark});
        if (slots[0] != nullptr) put(top, std::string(kCsrf), std::string{kMark, 's', kMark});
        if (slots[1] != nullptr) put(top, std::string(kEmail), std::string{kMark, 'e', kMark});
        auto whole = render_with("layout.html", data, &top);
        if (!whole.ok()) return std::nullopt;  // rendered whole again, which reports it
        it = mine.emplace(key, cut_at_markers(whole.value())).first;
    }
    std::string out;
    out.reserve(it->second.front().first.size() * 2 + content.size());
    for (const auto& [text, slot] : it->second) {
        out += text;
        if (slot == 'c') out += content;
        if (slot == 's' && slots[0] != nullptr) out += escape_html(*slots[0]);
        if (slot == 'e' && slots[1] != nullptr) out += escape_html(*slots[1]);
    }
    return out;
}

Result<std::string> TemplateSet::render_page(std::string_view page,
                                             const TemplateData& data) const {
    auto content = render(page, data);
    if (!content.ok()) return content;
    try {
        std::string title = first_heading(content.value());
        if (auto page_in_frame = framed(data, title, content.value())) return *page_in_frame;
        // The layout sees data under these two, without a copy of data.
        TemplateData top(TemplateData::type::object);
        put(top, "title", std::move(title));
        put(top, "content", std::move(content.value()));
        return render_with("layout.html", data, &top);
    } catch (const std::exception& e) {
        return Status::Internal(std::string("layout: ") + e.what());
    }
}

Result<RenderedMail> TemplateSet::render_mail(std::string_view name,
                                              const TemplateData& data) const {
    auto text = render(name, data);
    if (!text) return text.error();
    const std::string& t = *text;
    constexpr std::string_view kSubject = "Subject:";
    const size_t eol = t.find('\n');
    if (t.compare(0, kSubject.size(), kSubject) != 0 || eol == std::string::npos) {
        return Status::Internal("mail template " + std::string(name) +
                                " must start with a \"Subject:\" line");
    }
    RenderedMail mail;
    mail.subject = t.substr(kSubject.size(), eol - kSubject.size());
    while (!mail.subject.empty() && mail.subject.front() == ' ') mail.subject.erase(0, 1);
    while (!mail.subject.empty() && (mail.subject.back() == ' ' || mail.subject.back() == '\r'))
        mail.subject.pop_back();
    size_t body = eol + 1;
    while (body < t.size() && (t[body] == '\n' || t[body] == '\r')) ++body;
    mail.body = t.substr(body);
    return mail;
}

}  // namespace lkk
