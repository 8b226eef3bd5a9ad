// Pages without a form (help, the consent document), the stylesheet and the health check.
#include "app_internal.h"

namespace lkk::web {

namespace {

// The consent document is plain text so that an admin can replace it without knowing HTML:
// paragraphs are separated by blank lines, a paragraph starting with "# " is a heading.
// Every piece is escaped by the template.
TemplateData consent_paragraphs(std::string_view text) {
    TemplateData list(TemplateData::type::list);
    std::string paragraph;
    auto flush = [&] {
        if (paragraph.empty()) return;
        TemplateData p(TemplateData::type::object);
        if (paragraph.rfind("# ", 0) == 0) {
            put(p, "heading", true);
            paragraph.erase(0, 2);
        }
        put(p, "text", paragraph);
        push(list, std::move(p));
        paragraph.clear();
    };
    size_t i = 0;
    while (i <= text.size()) {
        size_t j = text.find('\n', i);
        if (j == std::string_view::npos) j = text.size();
        std::string_view line = text.substr(i, j - i);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
        if (line.empty()) {
            flush();
        } else {
            if (!paragraph.empty()) paragraph += ' ';
            paragraph += line;
        }
        i = j + 1;
    }
    flush();
    return list;
}

}  // namespace

HttpResponse Portal::get_help(Exchange& x) {
    return html(x, 200, "help.html", page_data(x));
}

HttpResponse Portal::get_consent(Exchange& x) {
    TemplateData d = page_data(x);
    put(d, "consent_version", settings_.portal.consent_version);
    put(d, "paragraphs", consent_paragraphs(consent_text_));
    return html(x, 200, "consent.html", d);
}

// For load balancers and monitoring: 200 only when both the database and the session
// store answer. Plain text, never cached, no session or cookie work. The check is remembered
// for the event loop, which answers from it for a second (app_inline.cpp); here, in the pool,
// it is always made afresh.
HttpResponse Portal::get_healthz(Exchange& x) {
    (void)x;
    const Status db = storage_->ping();
    const Status sessions = db.ok() ? sessions_->ping() : Status::Ok();
    const Health found = !db.ok()         ? Health::storage_down
                         : !sessions.ok() ? Health::sessions_down
                                          : Health::ok;
    health_.remember(found);
    return health_response(found);
}

HttpResponse health_response(Health health) {
    HttpResponse r;
    r.status = health == Health::ok ? 200 : 503;
    r.headers = {{"Content-Type", "text/plain; charset=utf-8"},
                 {"Cache-Control", "no-store"},
                 {"X-Content-Type-Options", "nosniff"}};
    switch (health) {
        case Health::ok:
            r.body = "ok\n";
            break;
        case Health::storage_down:
            r.body = "storage unavailable\n";
            break;
        case Health::sessions_down:
            r.body = "sessions unavailable\n";
            break;
    }
    return r;
}

// The only response that may be cached: it holds nothing personal.
HttpResponse Portal::get_stylesheet(Exchange& x) {
    const std::string* css = templates_.text("lkk.css");
    if (css == nullptr) return error_page(x, 404, ErrorPage::not_found);
    HttpResponse r;
    r.headers = {{"Content-Type", "text/css; charset=utf-8"},
                 {"Cache-Control", "public, max-age=86400"},
                 {"X-Content-Type-Options", "nosniff"}};
    r.body = *css;
    return r;
}

}  // namespace lkk::web
