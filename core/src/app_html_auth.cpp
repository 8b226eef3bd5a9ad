// HTML routes of the way in: the start screen, registration and its confirmation link,
// login and logout, forgotten and changed passwords. Each route checks the request, calls
// one Cabinet operation and renders the answer; the rules themselves live in the Cabinet.
#include "app_internal.h"

namespace lkk::web {

HttpResponse Portal::login_view(Exchange& x, int status, TemplateData data) {
    return html(x, status, "login.html", data);
}

// The start screen: the login form, or the registry for someone already logged in.
HttpResponse Portal::get_start(Exchange& x) {
    if (x.session) return redirect(x, base_ + "/accounts");
    TemplateData d = page_data(x);
    if (x.query.value("reset") == "done") put(d, "password_was_reset", true);
    return login_view(x, 200, std::move(d));
}

// The form posts to /login; a person who types that address lands on the start screen.
HttpResponse Portal::get_login(Exchange& x) {
    return redirect(x, base_ + "/");
}

// Only "wrong e-mail or password" on failure (SPEC 4); success gets a fresh session id.
HttpResponse Portal::post_login(Exchange& x) {
    auto form = accept_form(
        x, CsrfKind::anonymous, {"email", "password"},
        [this](Exchange& e, int s, TemplateData d) { return login_view(e, s, std::move(d)); });
    if (!form.ok()) return form.error();
    const std::string email(form->value("email"));
    LoginReply reply = cabinet_.login(email, form->value("password"), x.ctx);

    TemplateData d = page_data(x);
    put(d, "email", email);
    switch (reply.outcome) {
        case Outcome::ok: {
            if (!reply.session) return failure_page(x, Status::Internal("login without a session"));
            // A new id at every login; a session this browser had before is ended, not kept.
            if (x.session) cabinet_.logout(x.session->session, x.ctx);
            x.session.reset();
            x.set_cookies = {session_cookie(reply.session->cookie_value)};
            return redirect(x, base_ + "/accounts");
        }
        case Outcome::form_error:
            put_field_errors(d, reply, {"email", "password"});
            return login_view(x, 400, std::move(d));
        case Outcome::wrong_credentials:
            put(d, "error", std::string(outcome_message(reply.outcome).in(locale())));
            return login_view(x, 400, std::move(d));
        case Outcome::not_confirmed:
            put(d, "not_confirmed", true);
            return login_view(x, 403, std::move(d));
        case Outcome::throttled:
            return throttled_form(x, std::bind_front(&Portal::login_view, this), d,
                                  reply.retry_after);
        default:
            return outcome_failure_page(x, reply);
    }
}

// Ends the session on the server, not only in this browser, and clears the cookie.
HttpResponse Portal::post_logout(Exchange& x) {
    if (!x.session) return redirect(x, base_ + "/");
    auto form = accept_form(x, CsrfKind::session, {}, [this](Exchange& e, int s, TemplateData) {
        return error_page(e, s, ErrorPage::bad_request);
    });
    if (!form.ok()) return form.error();
    Reply reply = cabinet_.logout(x.session->session, x.ctx);
    if (!reply.ok()) return outcome_failure_page(x, reply);
    x.session.reset();
    x.set_cookies = {clear_session_cookie()};
    return redirect(x, base_ + "/");
}

HttpResponse Portal::get_register(Exchange& x) {
    return html(x, 200, "register.html", page_data(x));
}

// The answer to a valid form is the same page whether the e-mail was new or not.
HttpResponse Portal::post_register(Exchange& x) {
    const FormView view = [this](Exchange& e, int s, TemplateData d) {
        return html(e, s, "register.html", d);
    };
    auto form = accept_form(x, CsrfKind::anonymous,
                            {"email", "password", "password_confirm", "consent"}, view);
    if (!form.ok()) return form.error();
    const std::string email(form->value("email"));
    const bool consent = !form->value("consent").empty();
    Reply reply = cabinet_.register_user(email, form->value("password"),
                                         form->value("password_confirm"), consent, x.ctx);
    TemplateData d = page_data(x);
    switch (reply.outcome) {
        case Outcome::ok:
            // The same bytes whether the e-mail was new or taken (SPEC 4): nothing typed is
            // echoed and the CSRF token is the one the browser already had.
            return html(x, 200, "check_mail.html", d);
        case Outcome::form_error:
            put(d, "email", email);
            if (consent) put(d, "consent", true);
            put_field_errors(d, reply, {"email", "password", "password_confirm", "consent"});
            return view(x, 400, d);
        case Outcome::throttled: {
            put(d, "email", email);
            if (consent) put(d, "consent", true);
            return throttled_form(x, view, d, reply.retry_after);
        }
        default:
            return outcome_failure_page(x, reply);
    }
}

// The link of the confirmation mail. Mail scanners follow it before the person does, so
// a link that is still valid shows the same success again (the Cabinet answers ok).
HttpResponse Portal::get_confirm(Exchange& x) {
    Reply reply = cabinet_.confirm(x.query.value("token"), x.ctx);
    TemplateData d = page_data(x);
    switch (reply.outcome) {
        case Outcome::ok:
            put(d, "confirmed", true);
            return login_view(x, 200, std::move(d));
        case Outcome::invalid_token:
        case Outcome::form_error:
            return html(x, 400, "confirm_failed.html", d);
        case Outcome::link_replaced:
            // Not "invalid": the person learns why, and that the newest mail has the link.
            put(d, "replaced", true);
            return html(x, 410, "confirm_failed.html", d);
        default:
            return outcome_failure_page(x, reply);
    }
}

HttpResponse Portal::get_resend(Exchange& x) {
    return html(x, 200, "resend.html", page_data(x));
}

// Like registration, the answer does not tell whether the address is known.
HttpResponse Portal::post_resend(Exchange& x) {
    return post_email_only(x, "resend.html", "check_mail.html", [&](const std::string& email) {
        return cabinet_.resend_confirmation(email, x.ctx);
    });
}

HttpResponse Portal::get_forgot(Exchange& x) {
    return html(x, 200, "forgot.html", page_data(x));
}

// Like registration, the answer does not tell whether the address is known.
HttpResponse Portal::post_forgot(Exchange& x) {
    return post_email_only(x, "forgot.html", "forgot_done.html", [&](const std::string& email) {
        return cabinet_.forgot_password(email, x.ctx);
    });
}

// The resend and forgot forms: one e-mail field, and an answer that is the same for known
// and unknown addresses (nothing typed is echoed on success).
HttpResponse Portal::post_email_only(Exchange& x, std::string_view form_page,
                                     std::string_view done_page,
                                     const std::function<Reply(const std::string&)>& op) {
    const FormView view = [this, form_page](Exchange& e, int s, TemplateData d) {
        return html(e, s, form_page, d);
    };
    auto form = accept_form(x, CsrfKind::anonymous, {"email"}, view);
    if (!form.ok()) return form.error();
    const std::string email(form->value("email"));
    Reply reply = op(email);
    TemplateData d = page_data(x);
    switch (reply.outcome) {
        case Outcome::ok:
            return html(x, 200, done_page, d);
        case Outcome::form_error:
            put(d, "email", email);
            put_field_errors(d, reply, {"email"});
            return view(x, 400, d);
        case Outcome::throttled: {
            put(d, "email", email);
            return throttled_form(x, view, d, reply.retry_after);
        }
        default:
            return outcome_failure_page(x, reply);
    }
}

// Shows the new-password form. The token is only checked here, never consumed: a mail
// scanner opening the link must not burn it.
HttpResponse Portal::get_reset(Exchange& x) {
    const std::string token(x.query.value("token"));
    TemplateData d = page_data(x);
    if (token.empty()) return html(x, 400, "reset_failed.html", d);
    Reply reply = cabinet_.check_reset_token(token);
    switch (reply.outcome) {
        case Outcome::ok:
            put(d, "token", token);
            return html(x, 200, "reset.html", d);
        case Outcome::invalid_token:
        case Outcome::form_error:
            return html(x, 400, "reset_failed.html", d);
        default:
            return outcome_failure_page(x, reply);
    }
}

// Consumes the token (only here); the token travels in a hidden field, the query is a fallback.
HttpResponse Portal::post_reset(Exchange& x) {
    const FormView view = [this](Exchange& e, int s, TemplateData d) {
        if (d.get("token") == nullptr) put(d, "token", std::string(e.query.value("token")));
        return html(e, s, "reset.html", d);
    };
    auto form = accept_form(x, CsrfKind::anonymous, {"password", "password_confirm"}, view);
    if (!form.ok()) return form.error();
    std::string token(form->value("token"));
    if (token.empty()) token = std::string(x.query.value("token"));
    TemplateData d = page_data(x);
    if (token.empty()) return html(x, 400, "reset_failed.html", d);
    Reply reply = cabinet_.reset_password(token, form->value("password"),
                                          form->value("password_confirm"), x.ctx);
    put(d, "token", token);
    switch (reply.outcome) {
        case Outcome::ok:
            // Every session of the cabinet has ended, this browser's too.
            if (!x.session_cookie.empty()) x.set_cookies = {clear_session_cookie()};
            return redirect(x, base_ + "/?reset=done");
        case Outcome::invalid_token:
            return html(x, 400, "reset_failed.html", d);
        case Outcome::form_error:
            if (reply.error_of("token") != nullptr) return html(x, 400, "reset_failed.html", d);
            put_field_errors(d, reply, {"password", "password_confirm"});
            return view(x, 400, d);
        case Outcome::throttled:
            return throttled_form(x, view, d, reply.retry_after);
        default:
            return outcome_failure_page(x, reply);
    }
}

HttpResponse Portal::get_change(Exchange& x) {
    if (!x.session) return redirect(x, base_ + "/");
    return html(x, 200, "change_password.html", page_data(x));
}

// Needs the old password; on success the Cabinet ends every session and issues a new one.
HttpResponse Portal::post_change(Exchange& x) {
    if (!x.session) return redirect(x, base_ + "/");
    const FormView view = [this](Exchange& e, int s, TemplateData d) {
        return html(e, s, "change_password.html", d);
    };
    auto form =
        accept_form(x, CsrfKind::session, {"old_password", "password", "password_confirm"}, view);
    if (!form.ok()) return form.error();
    ChangePasswordReply reply =
        cabinet_.change_password(x.session->session, form->value("old_password"),
                                 form->value("password"), form->value("password_confirm"), x.ctx);
    TemplateData d = page_data(x);
    switch (reply.outcome) {
        case Outcome::ok:
            // Every old session has ended (this one too); the Cabinet hands out a fresh one.
            x.session.reset();
            if (reply.session) {
                x.set_cookies = {session_cookie(reply.session->cookie_value)};
                return redirect(x, base_ + "/accounts?changed=1");
            }
            x.set_cookies = {clear_session_cookie()};
            return redirect(x, base_ + "/");
        case Outcome::form_error:
            put_field_errors(d, reply, {"old_password", "password", "password_confirm"});
            return view(x, 400, d);
        case Outcome::throttled:
            return throttled_form(x, view, d, reply.retry_after);
        default:
            return outcome_failure_page(x, reply);
    }
}

}  // namespace lkk::web
