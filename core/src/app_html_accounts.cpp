// HTML routes of the registry of linked personal accounts: the list, linking a new account
// (with the office's phones when the data do not match), one account's details, unlinking.
#include "app_internal.h"
#include "app_money.h"
#include "app_readings.h"
#include "lkk/rules.h"

namespace lkk::web {

namespace {

// The office to call, as the link page shows it.
TemplateData office_contact(const Office& office) {
    TemplateData o(TemplateData::type::object);
    put(o, "office_name", office.name);
    put(o, "office_phones", office.phones);
    return o;
}

}  // namespace

// The registry; the flash messages are flags in the query set by the redirect after a POST.
HttpResponse Portal::get_accounts(Exchange& x) {
    if (!x.session) return redirect(x, base_ + "/");
    auto links = cabinet_.accounts(x.session->user.id);
    if (!links.ok()) return failure_page(x, links.error());
    auto balances = money_pages_->registry_balances(links.value());
    if (!balances.ok()) return failure_page(x, balances.error());
    TemplateData d = page_data(x);
    TemplateData list(TemplateData::type::list);
    const std::string just_linked(x.query.value("linked"));
    for (size_t i = 0; i < links->size(); ++i) {
        const LinkedAccount& l = (*links)[i];
        const std::string link_id = std::to_string(l.link_id);
        // The confirmation names the account from the registry, never from the query.
        if (just_linked == link_id) put(d, "linked", l.account.account_number);
        TemplateData item(TemplateData::type::object);
        put(item, "link_id", link_id);
        put(item, "account_number", l.account.account_number);
        put(item, "office_name", l.office.name);
        put(item, "address", l.account.address);
        put(item, "balance", std::move((*balances)[i]));
        push(list, std::move(item));
    }
    put(d, "has_accounts", !links.value().empty());
    put(d, "accounts", std::move(list));
    if (x.query.value("unlinked") == "1") put(d, "unlinked", true);
    if (x.query.value("changed") == "1") put(d, "password_changed", true);
    return html(x, 200, "accounts.html", d);
}

// The link form with the office list; data carries what was typed and the errors.
HttpResponse Portal::link_view(Exchange& x, int status, TemplateData data) {
    auto offices = cabinet_.offices();
    if (!offices.ok()) return failure_page(x, offices.error());
    const TemplateData* chosen = data.get("office");
    const std::string selected =
        chosen != nullptr && chosen->is_string() ? chosen->string_value() : "";
    TemplateData list(TemplateData::type::list);
    for (const Office& o : offices.value()) {
        TemplateData item(TemplateData::type::object);
        put(item, "code", o.code);
        put(item, "name", o.name);
        if (o.code == selected) put(item, "selected", true);
        push(list, std::move(item));
    }
    put(data, "offices", std::move(list));
    return html(x, status, "link.html", data);
}

HttpResponse Portal::get_link(Exchange& x) {
    if (!x.session) return redirect(x, base_ + "/");
    return link_view(x, 200, page_data(x));
}

// Success redirects (so a reload does not post again); every refusal re-shows the form with
// what was typed, escaped.
HttpResponse Portal::post_link(Exchange& x) {
    if (!x.session) return redirect(x, base_ + "/");
    const FormView view = [this](Exchange& e, int s, TemplateData d) {
        return link_view(e, s, std::move(d));
    };
    auto form = accept_form(x, CsrfKind::session, {"office", "account", "surname", "amount"}, view);
    if (!form.ok()) return form.error();
    const std::string office(form->value("office")), account(form->value("account")),
        surname(form->value("surname")), amount(form->value("amount"));
    LinkReply reply =
        cabinet_.link_account(x.session->user.id, office, account, surname, amount, x.ctx);
    if (reply.ok()) {
        if (!reply.linked) return redirect(x, base_ + "/accounts");
        return redirect(x, base_ + "/accounts?linked=" + std::to_string(reply.linked->link_id));
    }
    TemplateData d = page_data(x);
    put(d, "office", office);
    put(d, "account", account);
    put(d, "surname", surname);
    put(d, "amount", amount);
    switch (reply.outcome) {
        case Outcome::form_error:
            put_field_errors(d, reply, {"office", "account", "surname", "amount"});
            return view(x, 400, d);
        case Outcome::mismatch:
            // SPEC 3: never say which of number, surname or amount was wrong.
            put(d, "mismatch", reply.office ? office_contact(*reply.office) : TemplateData(true));
            return view(x, 422, d);
        case Outcome::already_linked:
            put(d, "error", std::string(outcome_message(reply.outcome).in(locale())));
            return view(x, 409, d);
        case Outcome::throttled: {
            put(d, "throttled", reply.office ? office_contact(*reply.office) : TemplateData(true));
            return throttled_form(x, view, d, reply.retry_after);
        }
        default:
            return outcome_failure_page(x, reply);
    }
}

// One registry row; someone else's link id is a 404, like a missing one.
HttpResponse Portal::get_account(Exchange& x) {
    if (!x.session) return redirect(x, base_ + "/");
    auto details = cabinet_.account_details(x.session->user.id, x.id);
    if (!details.ok()) return failure_page(x, details.error());
    const LinkedAccount& l = details.value();
    TemplateData d = page_data(x);
    put(d, "link_id", std::to_string(l.link_id));
    put(d, "account_number", l.account.account_number);
    put(d, "office_name", l.office.name);
    put(d, "office_phones", l.office.phones);
    put(d, "address", l.account.address);
    if (l.account.balance) put(d, "balance", rules::format_kopecks(*l.account.balance));
    if (!l.account.last_payment_date.empty()) {
        put(d, "last_payment", rules::format_kopecks(l.account.last_payment));
        put(d, "last_payment_date", display_date(l.account.last_payment_date));
    }
    if (Status s = readings_pages_->add_account_meters(x.session->user.id, x.id, d); !s.ok()) {
        return failure_page(x, s);
    }
    if (Status s = money_pages_->add_account_money(x.session->user.id, x.id, d); !s.ok()) {
        return failure_page(x, s);
    }
    return html(x, 200, "account.html", d);
}

// Unlinking is a state change: a POST with the session's CSRF token, never a GET link.
HttpResponse Portal::post_unlink(Exchange& x) {
    if (!x.session) return redirect(x, base_ + "/");
    auto form = accept_form(x, CsrfKind::session, {}, [this](Exchange& e, int s, TemplateData) {
        return error_page(e, s, ErrorPage::bad_request);
    });
    if (!form.ok()) return form.error();
    Reply reply = cabinet_.unlink(x.session->user.id, x.id, x.ctx);
    if (!reply.ok()) return outcome_failure_page(x, reply);
    return redirect(x, base_ + "/accounts?unlinked=1");
}

}  // namespace lkk::web
