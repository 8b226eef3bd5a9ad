// The pages (and anything else rendered from text) come from mustache templates, so a
// hosting admin can make the portal wear the host site's look (SPEC 5). The built-in set is
// compiled in (lkk::embedded_templates); a file of the same name in settings.portal
// .templates_dir replaces one built-in file. Everything is read and checked once at startup;
// rendering afterwards touches no disk and is safe from any thread.
//
// Names are paths relative to the set: "login.html", "mail_confirm.txt", "lkk.css". A name is
// looked up first in the locale's folder ("ru/login.html"), then at the top ("lkk.css").
// Every ".html" template of the locale is also a partial under its name without the
// extension: `{{> resend_form}}` includes "resend_form.html" (inlined once at load; an
// unknown partial is a load error). {{ }} escapes HTML.
#pragma once

#include <kainjow/mustache.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lkk/locale.h"
#include "lkk/status.h"

namespace lkk {

using TemplateData = kainjow::mustache::data;

// object.set(name, value) without kainjow's copies (set() copies value, which callers mostly
// build as a temporary, and copies its key twice). Every page and mail fills its data with
// put() and push(), never with kainjow's set() and push_back().
inline void put(TemplateData& object, const std::string& name, TemplateData value) {
    if (object.is_object()) object[name] = std::move(value);
}

// list.push_back(item) without kainjow's copy (push_back() copies item with every key and
// value, and so does making a TemplateData of a kainjow list): for the lists of page views.
inline void push(TemplateData& list, TemplateData item) {
    // kainjow lends its list out as const only, but the list itself is not a const object.
    if (list.is_list()) {
        const_cast<kainjow::mustache::list&>(list.list_value()).push_back(std::move(item));
    }
}

// Text made safe inside HTML or XML markup and attribute values: & < > " ' as entities. The
// same bytes as {{ }} in a template.
std::string escape_html(std::string_view text);

// A mail rendered from a mail_*.txt template.
struct RenderedMail {
    std::string subject;
    std::string body;
};

class TemplateSet {
  public:
    TemplateSet() = default;

    // Built-in templates of locale, each overridable by override_dir/<locale>/<name> or
    // override_dir/<name> (override_dir may be empty). Fails with the file and the reason
    // when an override cannot be read or a template does not parse.
    static Result<TemplateSet> load(Locale locale, const std::string& override_dir);

    Locale locale() const { return locale_; }
    bool has(std::string_view name) const;
    // The raw text of a file (a stylesheet, a document), or nullptr when absent.
    const std::string* text(std::string_view name) const;

    // Renders one template with data; the partials of the set are available to it.
    // Fails (internal) on an unknown name or a render error (e.g. a partial missing).
    Result<std::string> render(std::string_view name, const TemplateData& data) const;

    // Renders a page template, then "layout.html" around it: the layout receives everything
    // in data plus `content` (the page's HTML, to be used as {{{content}}}) and `title`
    // (the first <h1> of the page with its tags removed, still HTML-escaped: {{{title}}}).
    Result<std::string> render_page(std::string_view page, const TemplateData& data) const;

    // Renders a mail template: its first line is "Subject: ...", then a blank line, then the
    // body. Fails (internal) when the first line is not a Subject line.
    Result<RenderedMail> render_mail(std::string_view name, const TemplateData& data) const;

  private:
    // render(), with top (when not null) looked up before data.
    Result<std::string> render_with(std::string_view name, const TemplateData& data,
                                    const TemplateData* top) const;

    // render_page()'s layout from a frame this thread rendered before for the same title and
    // the same values of frame_keys_, or nothing when the layout cannot be framed.
    std::optional<std::string> framed(const TemplateData& data, const std::string& title,
                                      const std::string& content) const;

    Locale locale_ = Locale::ru;
    // The names the layout reads besides content, csrf and user_email, when it reads nothing
    // else and those three only as {{{content}}}, {{csrf}} and {{user_email}}; else nullopt.
    std::optional<std::vector<std::string>> frame_keys_;
    uint64_t id_ = 0;  // tells this set's parsed templates apart in the per-thread cache
    std::map<std::string, std::string, std::less<>> files_;     // name in the set -> text
    std::map<std::string, std::string, std::less<>> expanded_;  // templates, partials inlined
};

}  // namespace lkk
