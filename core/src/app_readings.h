// The web side of meter readings (SPEC 9) and the subscriber's notification settings
// (SPEC 11): its own routes, HTML and JSON, over the Readings service. It shares the Portal's
// request plumbing (pages, forms, CSRF, problems) and adds nothing to the Portal class but
// itself. Private to core/src.
#pragma once

#include <string>
#include <vector>

#include "app_internal.h"
#include "lkk/readings.h"

namespace lkk::web {

class ReadingsPages {
  public:
    ReadingsPages(Portal& portal, const Settings& settings, Storage& storage, Clock& clock);

    // Adds this file's routes to the Portal's tables.
    void add_routes(std::vector<Route>& html, std::vector<Route>& api);

    // The account page's meter list (GET /accounts/{id}): meters with their last reading and
    // the поверка flag. Fails like the page's other look-ups.
    Status add_account_meters(int64_t user_id, int64_t link_id, TemplateData& data);

  private:
    HttpResponse get_readings(Exchange& x);
    HttpResponse post_readings(Exchange& x);
    // The readings page; `form` is the meter whose form is shown again (value, errors,
    // confirmation), empty for a plain GET.
    HttpResponse readings_view(Exchange& x, int status, const std::string& form_meter,
                               TemplateData form);

    HttpResponse api_meters(Exchange& x);
    HttpResponse api_submit(Exchange& x);

    TemplateData window_data(const readings::Window& w) const;
    TemplateData meter_data(const MeterView& v, const readings::Window& w) const;
    std::string value_text(int64_t milli) const;
    std::string date_text(int64_t unix_seconds) const;

    Portal& portal_;
    const Settings& settings_;
    Readings readings_;
};

}  // namespace lkk::web
