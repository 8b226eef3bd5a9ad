// The web side of notifications (SPEC 11): the subscriber's settings page and the RFC 8058
// one-click unsubscribe, over the Notifications service. It shares the Portal's request
// plumbing (pages, forms, CSRF) and adds nothing to the Portal class but itself. Private to
// core/src.
#pragma once

#include <vector>

#include "app_internal.h"
#include "lkk/notifications.h"

namespace lkk::web {

class SettingsPages {
  public:
    SettingsPages(Portal& portal, Notifications& notifications);

    // Adds this file's routes to the Portal's HTML table.
    void add_routes(std::vector<Route>& html);

  private:
    HttpResponse get_settings(Exchange& x);
    HttpResponse post_settings(Exchange& x);
    HttpResponse settings_view(Exchange& x, int status, TemplateData data);

    HttpResponse get_unsubscribe(Exchange& x);
    HttpResponse post_unsubscribe(Exchange& x);
    // The unsubscribe page in one of its states: confirm (GET), done (POST), invalid (4xx).
    HttpResponse unsubscribe_view(Exchange& x, const UnsubscribeReply& reply, const char* state,
                                  const std::string& token);

    Portal& portal_;
    Notifications& notifications_;
};

}  // namespace lkk::web
