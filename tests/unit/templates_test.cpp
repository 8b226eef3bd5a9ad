// The template set: built-ins per locale, admin overrides, partials, escaping, threads.
#include "lkk/templates.h"
#include "temp_dir.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace lkk {
namespace {

namespace fs = std::filesystem;

using lkk::test::TempDir;

TemplateData sample() {
    TemplateData d(TemplateData::type::object);
    d.set("base", std::string("/lkk"));
    d.set("csrf", std::string("tok"));
    d.set("support_email", std::string("help@example.org"));
    d.set("email", std::string("<b>a&b</b>@x.org"));
    return d;
}

TEST(TemplateSet, BuiltInPagesRenderInsideTheLayoutWithEscaping) {
    auto set = TemplateSet::load(Locale::ru, "");
    ASSERT_TRUE(set.ok()) << set.error().message();
    EXPECT_TRUE(set->has("lkk.css"));
    EXPECT_TRUE(set->has("layout.html"));
    EXPECT_FALSE(set->has("nothing.html"));
    auto page = set->render_page("login.html", sample());
    ASSERT_TRUE(page.ok()) << page.error().message();
    EXPECT_EQ(page.value().rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_NE(page.value().find("<title>Вход в личный кабинет — "), std::string::npos);
    EXPECT_NE(page.value().find("value=\"&lt;b&gt;a&amp;b&lt;/b&gt;@x.org\""), std::string::npos);
    EXPECT_EQ(page.value().find("<b>a&b</b>"), std::string::npos);
    EXPECT_NE(page.value().find("help@example.org"), std::string::npos);
    EXPECT_FALSE(set->render("nothing.html", sample()).ok());
}

// The layout is rendered whole with kainjow: title and content given as data on top.
std::string whole_layout(const TemplateSet& set, const TemplateData& data, const std::string& title,
                         const std::string& content) {
    TemplateData d(data);
    d.set("title", title);
    d.set("content", content);
    auto out = set.render("layout.html", d);
    return out.ok() ? out.value() : "render failed: " + out.error().message();
}

// render_page keeps the built-in layout rendered once per title and login state and puts the
// page, the CSRF token and the e-mail into it: the bytes must be those of rendering it whole,
// for every token and e-mail, escaped, across logins and logouts.
TEST(TemplateSet, TheLayoutFromAFrameIsTheLayoutRenderedWhole) {
    TempDir dir;
    fs::create_directories(dir.path() + "/ru");
    std::ofstream(dir.path() + "/ru/help.html")
        << "<h1>Справка &amp; {{base}}</h1>\n<p>{{csrf}}</p>\n";
    auto set = TemplateSet::load(Locale::ru, dir.path());
    ASSERT_TRUE(set.ok()) << set.error().message();
    int logged_in_pages = 0;
    for (const std::string csrf : {"tok1", "tok2", "a&b<c>\"'", "tok1", " ", ""}) {
        for (const std::string email : {"", "o'neil&co@example.org", "ivanov@example.org"}) {
            TemplateData d = sample();
            d.set("csrf", csrf);
            if (!email.empty()) {
                d.set("logged_in", true);
                d.set("user_email", email);
            }
            auto content = set->render("help.html", d);
            ASSERT_TRUE(content.ok());
            auto page = set->render_page("help.html", d);
            ASSERT_TRUE(page.ok());
            EXPECT_EQ(page.value(), whole_layout(*set, d, "Справка &amp; /lkk", content.value()))
                << "csrf [" << csrf << "] email [" << email << "]";
            if (!email.empty() && page.value().find(kainjow::mustache::html_escape(csrf) + "\">") !=
                                      std::string::npos) {
                ++logged_in_pages;  // the logout form of the menu carries the token
            }
        }
    }
    EXPECT_EQ(logged_in_pages, 12);  // the menu is on every logged-in page
}

// A layout that reads anything else is rendered whole every time: a value that changed
// between two views shows at once, and {{{csrf}}} is not escaped.
TEST(TemplateSet, AnAdminLayoutThatReadsMoreIsRenderedWholeEachTime) {
    TempDir dir;
    fs::create_directories(dir.path() + "/ru");
    std::ofstream(dir.path() + "/ru/layout.html")
        << "<title>{{{title}}}</title>{{phone}}|{{{csrf}}}|{{#logged_in}}in{{/logged_in}}|"
           "{{{content}}}";
    std::ofstream(dir.path() + "/ru/help.html") << "<h1>Справка</h1>";
    auto set = TemplateSet::load(Locale::ru, dir.path());
    ASSERT_TRUE(set.ok()) << set.error().message();
    for (const std::string phone : {"8-800", "8-900"}) {
        TemplateData d = sample();
        d.set("phone", phone);
        d.set("csrf", std::string("a&b"));
        auto page = set->render_page("help.html", d);
        ASSERT_TRUE(page.ok());
        EXPECT_EQ(page.value(), "<title>Справка</title>" + phone + "|a&b||<h1>Справка</h1>");
    }
}

// The set escapes with its own function: the same bytes as kainjow's html_escape, for every
// special character, at the ends, doubled, and in UTF-8 text.
TEST(TemplateSet, EscapesExactlyAsMustacheDoes) {
    TempDir dir;
    fs::create_directories(dir.path() + "/ru");
    std::ofstream(dir.path() + "/ru/help.html") << "[{{v}}]";
    auto set = TemplateSet::load(Locale::ru, dir.path());
    ASSERT_TRUE(set.ok()) << set.error().message();
    for (const std::string v :
         {"", "plain", "&", "<>", "\"'", "a&&b", "<script>alert('x')</script>", "&amp;",
          "Иванов & сын \"ООО\" <ул. Мира, 1>", "'", "end<"}) {
        TemplateData d(TemplateData::type::object);
        d.set("v", v);
        auto out = set->render("help.html", d);
        ASSERT_TRUE(out.ok());
        EXPECT_EQ(out.value(), "[" + kainjow::mustache::html_escape(v) + "]") << v;
    }
}

// The layout sees the page's data and its own title and content on top of it.
TEST(TemplateSet, TheLayoutSeesThePageDataUnderItsContent) {
    TempDir dir;
    fs::create_directories(dir.path() + "/ru");
    std::ofstream(dir.path() + "/ru/layout.html") << "<t>{{{title}}}</t>{{user}}|{{{content}}}";
    std::ofstream(dir.path() + "/ru/help.html") << "<h1>Help &amp; {{user}}</h1>";
    auto set = TemplateSet::load(Locale::ru, dir.path());
    ASSERT_TRUE(set.ok()) << set.error().message();
    TemplateData d(TemplateData::type::object);
    d.set("user", std::string("a<b"));
    d.set("content", std::string("not this"));
    auto page = set->render_page("help.html", d);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page.value(), "<t>Help &amp; a&lt;b</t>a&lt;b|<h1>Help &amp; a&lt;b</h1>");
}

TEST(TemplateSet, PartialsAreInlinedAndNamesOfTemplatesAreNotVariables) {
    auto set = TemplateSet::load(Locale::ru, "");
    ASSERT_TRUE(set.ok());
    // check_mail.html includes {{> resend_form}}.
    auto page = set->render("check_mail.html", sample());
    ASSERT_TRUE(page.ok());
    EXPECT_NE(page.value().find("action=\"/lkk/confirm/resend\""), std::string::npos);
    // "consent" and "error" are also template names; unset, they must read as false.
    auto reg = set->render("register.html", sample());
    ASSERT_TRUE(reg.ok());
    EXPECT_EQ(reg.value().find("checked"), std::string::npos);
    EXPECT_EQ(reg.value().find("role=\"alert\""), std::string::npos);
}

TEST(TemplateSet, EnglishIsItsOwnSet) {
    auto en = TemplateSet::load(Locale::en, "");
    ASSERT_TRUE(en.ok());
    EXPECT_EQ(en->locale(), Locale::en);
    auto page = en->render_page("login.html", sample());
    ASSERT_TRUE(page.ok());
    EXPECT_NE(page.value().find("<html lang=\"en\">"), std::string::npos);
    EXPECT_NE(page.value().find("Log in"), std::string::npos);
}

TEST(TemplateSet, AdminOverridesReplaceFilesOneByOne) {
    TempDir dir;
    fs::create_directories(dir.path() + "/ru");
    std::ofstream(dir.path() + "/ru/help.html")
        << "<h1>Справка {{support_email}}</h1>{{> resend_form}}";
    std::ofstream(dir.path() + "/lkk.css") << "body{color:red}";
    std::ofstream(dir.path() + "/unknown.html") << "ignored";
    auto set = TemplateSet::load(Locale::ru, dir.path());
    ASSERT_TRUE(set.ok()) << set.error().message();
    EXPECT_EQ(*set->text("lkk.css"), "body{color:red}");
    auto help = set->render("help.html", sample());
    ASSERT_TRUE(help.ok());
    EXPECT_EQ(help.value().rfind("<h1>Справка help@example.org</h1><form", 0), 0u);
    // Files not overridden stay built in.
    EXPECT_NE(set->text("login.html")->find("{{csrf}}"), std::string::npos);
    EXPECT_FALSE(set->has("unknown.html"));
}

TEST(TemplateSet, BrokenOverridesStopTheLoadWithTheFileNamed) {
    TempDir dir;
    fs::create_directories(dir.path() + "/ru");
    std::ofstream(dir.path() + "/ru/help.html") << "{{> no_such_partial}}";
    auto set = TemplateSet::load(Locale::ru, dir.path());
    ASSERT_FALSE(set.ok());
    EXPECT_NE(set.error().message().find("help.html"), std::string::npos);
    EXPECT_NE(set.error().message().find("no_such_partial"), std::string::npos);

    std::ofstream(dir.path() + "/ru/help.html") << "{{#open}} never closed";
    set = TemplateSet::load(Locale::ru, dir.path());
    ASSERT_FALSE(set.ok());
    EXPECT_NE(set.error().message().find("help.html"), std::string::npos);

    // A partial including itself does not loop forever.
    std::ofstream(dir.path() + "/ru/help.html") << "{{> help}}";
    EXPECT_FALSE(TemplateSet::load(Locale::ru, dir.path()).ok());
}

TEST(TemplateSet, RendersTheSameFromManyThreads) {
    auto set = TemplateSet::load(Locale::ru, "");
    ASSERT_TRUE(set.ok());
    const std::string expected = set->render_page("link.html", sample()).value();
    std::vector<std::thread> threads;
    std::vector<int> mismatches(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 50; ++i) {
                auto page = set->render_page("link.html", sample());
                if (!page.ok() || page.value() != expected) ++mismatches[static_cast<size_t>(t)];
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace lkk
