// The subscriber's notification settings (GET,POST /settings) and the one-click unsubscribe of
// RFC 8058 (GET,POST /unsubscribe?t=TOKEN). Every rule is the Notifications service's; this
// file translates.
#include "app_settings.h"

namespace lkk::web {

namespace {

bool checked(const http::Form& form, std::string_view name) {
    const std::string* v = form.get(std::string(name));
    return v != nullptr && !v->empty() && *v != "0" && *v != "false";
}

}  // namespace

SettingsPages::SettingsPages(Portal& portal, Notifications& notifications)
    : portal_(portal), notifications_(notifications) {}

void SettingsPages::add_routes(std::vector<Route>& html) {
    auto bind = [this](HttpResponse (SettingsPages::*f)(Exchange&)) {
        return [this, f](Exchange& x) { return (this->*f)(x); };
    };
    // Counted with the cabinet's other pages (lkk/metrics.h's `accounts` route).
    constexpr auto page = metrics::Route::accounts;
    html.push_back({"GET", "/settings", page, nullptr, bind(&SettingsPages::get_settings)});
    html.push_back({"POST", "/settings", page, nullptr, bind(&SettingsPages::post_settings)});
    html.push_back({"GET", "/unsubscribe", page, nullptr, bind(&SettingsPages::get_unsubscribe)});
    html.push_back({"POST", "/unsubscribe", page, nullptr, bind(&SettingsPages::post_unsubscribe)});
}

// ---- GET,POST /settings ----

HttpResponse SettingsPages::settings_view(Exchange& x, int status, TemplateData data) {
    auto prefs = notifications_.preferences(x.session->user.id);
    if (!prefs) return portal_.failure_page(x, prefs.error());
    TemplateData d = portal_.page_data(x);
    for (NotificationKind kind : kNotificationKinds) {
        put(d, std::string(notification_preference_name(kind)), prefs->wants(kind));
    }
    put(d, "window_start_day", std::to_string(portal_.settings_.readings.window_start_day));
    put(d, "window_end_day", std::to_string(portal_.settings_.readings.window_end_day));
    if (x.query.value("saved") == "1") put(d, "saved", true);
    if (const TemplateData* e = data.get("error")) put(d, "error", *e);
    return portal_.html(x, status, "settings.html", d);
}

HttpResponse SettingsPages::get_settings(Exchange& x) {
    if (!x.session) return portal_.redirect(x, portal_.base_ + "/");
    return settings_view(x, 200, TemplateData(TemplateData::type::object));
}

// An unticked checkbox is simply absent from the form: absent means off.
HttpResponse SettingsPages::post_settings(Exchange& x) {
    if (!x.session) return portal_.redirect(x, portal_.base_ + "/");
    const FormView view = [this](Exchange& e, int s, TemplateData d) {
        return settings_view(e, s, std::move(d));
    };
    auto form = portal_.accept_form(x, CsrfKind::session, {}, view);
    if (!form.ok()) return form.error();
    NotificationPreferences prefs;
    for (NotificationKind kind : kNotificationKinds) {
        prefs.set(kind, checked(form.value(), notification_preference_name(kind)));
    }
    Status st = notifications_.save_preferences(x.session->user.id, prefs, x.ctx);
    if (!st.ok()) return portal_.failure_page(x, st);
    return portal_.redirect(x, portal_.base_ + "/settings?saved=1");
}

// ---- GET,POST /unsubscribe ----

HttpResponse SettingsPages::unsubscribe_view(Exchange& x, const UnsubscribeReply& reply,
                                             const char* state, const std::string& token) {
    int status = 200;
    switch (reply.outcome) {
        case UnsubscribeOutcome::ok:
            break;
        case UnsubscribeOutcome::malformed:
            status = 400;
            state = "invalid";
            break;
        case UnsubscribeOutcome::unknown:
            status = 404;
            state = "invalid";
            break;
        default:
            return portal_.failure_page(x, reply.status);
    }
    TemplateData d = portal_.page_data(x);
    put(d, state, true);
    put(d, std::string(notification_kind_name(reply.kind)), true);
    if (reply.ok()) put(d, "token", token);
    return portal_.html(x, status, "unsubscribe.html", d);
}

// A GET never unsubscribes: mail scanners and link previews follow links. It shows a button.
HttpResponse SettingsPages::get_unsubscribe(Exchange& x) {
    const std::string token(x.query.value("t"));
    return unsubscribe_view(x, notifications_.check_unsubscribe(token), "confirm", token);
}

// RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" (urlencoded or multipart) to
// the link, whose query carries the token; the page's button sends the token as a field. No
// session and no CSRF token: the unguessable token is the authority.
HttpResponse SettingsPages::post_unsubscribe(Exchange& x) {
    if (x.http.body_too_large || x.http.body.size() > kMaxBodyBytes) {
        return portal_.error_page(x, 413, ErrorPage::too_large);
    }
    std::string token(x.query.value("t"));
    if (token.empty() && is_form_media_type(x.http.content_type)) {
        if (auto form = http::parse_form(x.http.body); form.ok()) {
            token = std::string(form->value("t"));
        }
    }
    return unsubscribe_view(x, notifications_.unsubscribe(token, x.ctx), "done", token);
}

}  // namespace lkk::web
