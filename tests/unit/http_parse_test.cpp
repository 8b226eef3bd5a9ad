// Forms, query strings and cookies as browsers (and attackers) send them.
#include "lkk/http_parse.h"

#include <gtest/gtest.h>

#include <string>

namespace lkk::http {
namespace {

Form parse_ok(std::string_view body) {
    auto r = parse_form(body);
    EXPECT_TRUE(r.ok()) << body;
    return r.ok() ? r.value() : Form{};
}

ParseError parse_fail(std::string_view body, const ParseLimits& limits = {}) {
    auto r = parse_form(body, limits);
    EXPECT_FALSE(r.ok()) << body;
    return r.ok() ? ParseError{ParseError::too_large, "<parsed>"} : r.error();
}

TEST(Form, FieldsInOrder) {
    Form f = parse_ok("email=a%40b.ru&password=x&csrf=t");
    ASSERT_EQ(f.size(), 3u);
    EXPECT_EQ(f.fields()[0].name, "email");
    EXPECT_EQ(f.fields()[0].value, "a@b.ru");
    EXPECT_EQ(f.fields()[2].name, "csrf");
    ASSERT_NE(f.get("password"), nullptr);
    EXPECT_EQ(*f.get("password"), "x");
    EXPECT_EQ(f.get("missing"), nullptr);
    EXPECT_EQ(f.value("missing"), "");
    EXPECT_TRUE(f.has("csrf"));
}

TEST(Form, PlusAndPercent20AreSpaces) {
    Form f =
        parse_ok("surname=%D0%98%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2+%D0%98%D0%B2%D0%B0%D0%BD&a=1%202");
    EXPECT_EQ(f.value("surname"), "Иванов Иван");
    EXPECT_EQ(f.value("a"), "1 2");
    EXPECT_EQ(parse_ok("x=a%2Bb").value("x"), "a+b");
    EXPECT_EQ(parse_ok("x%5B%5D=1").value("x[]"), "1");
}

TEST(Form, RawUtf8IsAccepted) {
    EXPECT_EQ(parse_ok("surname=Ёлкина").value("surname"), "Ёлкина");
}

TEST(Form, RepeatedNamesFirstWinsAllKeepsOrder) {
    Form f = parse_ok("a=1&b=2&a=3");
    EXPECT_EQ(f.value("a"), "1");
    auto all = f.all("a");
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0], "1");
    EXPECT_EQ(all[1], "3");
    EXPECT_TRUE(f.all("zzz").empty());
}

TEST(Form, EmptyPiecesAndMissingEquals) {
    EXPECT_EQ(parse_ok("").size(), 0u);
    EXPECT_EQ(parse_ok("&&&").size(), 0u);
    Form f = parse_ok("a=1&&consent&b=");
    ASSERT_EQ(f.size(), 3u);
    EXPECT_TRUE(f.has("consent"));
    EXPECT_EQ(f.value("consent"), "");
    EXPECT_EQ(f.value("b"), "");
    EXPECT_EQ(parse_ok("a==b").value("a"), "=b");
}

TEST(Form, MalformedPercentIsBadEncoding) {
    for (std::string_view body : {"a=%", "a=%4", "a=%zz", "a=%4g", "a=ok&b=%%41", "%=1", "a%2=1"}) {
        EXPECT_EQ(parse_fail(body).kind, ParseError::bad_encoding) << body;
    }
    EXPECT_EQ(parse_fail("good=%G1").field, "good");
}

TEST(Form, InvalidUtf8IsRefused) {
    auto e = parse_fail("surname=%C3%28");
    EXPECT_EQ(e.kind, ParseError::bad_utf8);
    EXPECT_EQ(e.field, "surname");
    EXPECT_EQ(parse_fail("a=%C0%AF").kind, ParseError::bad_utf8);        // overlong '/'
    EXPECT_EQ(parse_fail("a=%ED%A0%80").kind, ParseError::bad_utf8);     // surrogate
    EXPECT_EQ(parse_fail("a=%F4%90%80%80").kind, ParseError::bad_utf8);  // above U+10FFFF
    EXPECT_EQ(parse_fail("a=%D0").kind, ParseError::bad_utf8);           // truncated
    EXPECT_EQ(parse_fail("a=\xff").kind, ParseError::bad_utf8);          // raw byte
    EXPECT_EQ(parse_fail("%FF=1").field, "");  // a bad name is not echoed back
}

TEST(Form, ControlCharactersAreRefused) {
    auto e = parse_fail("email=a%01b");
    EXPECT_EQ(e.kind, ParseError::control_char);
    EXPECT_EQ(e.field, "email");
    for (std::string_view body :
         {"a=%00", "a=%0D%0ABcc:x", "a=%09", "a=%7F", "a=%C2%85", "a%0A=1"}) {
        EXPECT_EQ(parse_fail(body).kind, ParseError::control_char) << body;
    }
    // U+00A0 (NBSP, used as a thousands separator in amounts) is not a control character.
    EXPECT_EQ(parse_ok("amount=1%C2%A0234,50").value("amount"), "1\u00a0234,50");
}

TEST(Form, SizeLimits) {
    const std::string at_limit = "a=" + std::string(16 * 1024 - 2, 'x');
    EXPECT_EQ(parse_ok(at_limit).value("a").size(), 16u * 1024 - 2);
    EXPECT_EQ(parse_fail(at_limit + "x").kind, ParseError::too_large);

    std::string many;
    for (int i = 0; i < 100; ++i) many += "f=" + std::to_string(i) + "&";
    EXPECT_EQ(parse_ok(many).size(), 100u);
    EXPECT_EQ(parse_fail(many + "g=1").kind, ParseError::too_many_fields);

    EXPECT_EQ(parse_ok(std::string(64, 'n') + "=1").size(), 1u);
    EXPECT_EQ(parse_fail(std::string(65, 'n') + "=1").kind, ParseError::too_large);

    ParseLimits tiny{10, 2, 3};
    EXPECT_EQ(parse_fail("abcd=1", tiny).kind, ParseError::too_large);
    EXPECT_EQ(parse_fail("a=1&b=2&c", tiny).kind, ParseError::too_many_fields);
    EXPECT_EQ(parse_fail("a=123456789", tiny).kind, ParseError::too_large);
}

TEST(Form, DescribeSpeaksBothLanguages) {
    const Message m = describe(ParseError{ParseError::bad_utf8, "x"});
    EXPECT_FALSE(m.ru.empty());
    EXPECT_FALSE(m.en.empty());
    EXPECT_NE(m.ru, m.en);
}

TEST(Query, SameRulesAndLeadingQuestionMark) {
    auto q = parse_query("token=abc-_9&lang=en");
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q->value("token"), "abc-_9");
    EXPECT_EQ(q->value("lang"), "en");
    auto q2 = parse_query("?token=x");
    ASSERT_TRUE(q2.ok());
    EXPECT_EQ(q2->value("token"), "x");
    auto bad = parse_query("token=%C3%28");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().kind, ParseError::bad_utf8);
}

TEST(UrlEncode, RoundTripsThroughQueryParsing) {
    for (std::string_view text :
         {"", "abc", "a b+c&d=e%f", "ИВАНОВ@Почта.РФ", "x/y?z#w", "-._~", "\xF0\x9F\x94\xA5"}) {
        const std::string encoded = url_encode(text);
        EXPECT_EQ(encoded.find_first_of(" &=+%?#/"), encoded.find('%')) << encoded;
        auto q = parse_query("v=" + encoded);
        ASSERT_TRUE(q.ok()) << encoded;
        EXPECT_EQ(q->value("v"), text);
    }
    EXPECT_EQ(url_encode("a b@c.ru"), "a%20b%40c.ru");
    EXPECT_EQ(url_encode("Ё"), "%D0%81");
    EXPECT_EQ(url_encode("-._~Az09"), "-._~Az09");
}

TEST(Cookies, BasicAndSpaces) {
    auto c = parse_cookies("lkk_session=abc; theme=dark;other=1 ;  spaced = v ");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->size(), 4u);
    EXPECT_EQ(c->at("lkk_session"), "abc");
    EXPECT_EQ(c->at("theme"), "dark");
    EXPECT_EQ(c->at("other"), "1");
    EXPECT_EQ(c->at("spaced"), "v");
}

TEST(Cookies, FirstOccurrenceWins) {
    auto c = parse_cookies("lkk_session=first; lkk_session=second");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->at("lkk_session"), "first");
}

TEST(Cookies, QuotedValuesAreUnquoted) {
    auto c = parse_cookies("a=\"quoted value\"; b=\"; c=\"\"");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->at("a"), "quoted value");
    EXPECT_EQ(c->at("b"), "\"");  // a lone quote is kept as it is
    EXPECT_EQ(c->at("c"), "");
}

TEST(Cookies, GarbageIsSkipped) {
    auto c = parse_cookies(";;garbage; =noname; ok=1; bad=\x01x; utf=\xC3\x28; v=a=b;");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->size(), 2u);
    EXPECT_EQ(c->at("ok"), "1");
    EXPECT_EQ(c->at("v"), "a=b");
    EXPECT_EQ(c->count("garbage"), 0u);
}

TEST(Cookies, EmptyHeaderAndEmptyValue) {
    auto empty = parse_cookies("");
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(empty->empty());
    auto c = parse_cookies("lkk_session=");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->at("lkk_session"), "");
}

// A host site's analytics cookies: n cookies of about 115 bytes each, the portal's own
// placed among them at `at`.
std::string host_site_cookies(int n, int at, const std::string& own) {
    std::string header;
    for (int i = 0; i < n; ++i) {
        if (!header.empty()) header += "; ";
        if (i == at) {
            header += own + "; ";
        }
        header += "_ga_" + std::to_string(1000 + i) + "=GS1.1." +
                  std::string(100, static_cast<char>('a' + i % 26));
    }
    return header;
}

TEST(Cookies, PortalCookiesAreFoundAmongSixtyOthersInSevenKilobytes) {
    const std::string own = "lkk_session=SESSION; lkk_csrf=\"CSRF\"";
    for (int at : {0, 30, 59}) {
        const std::string header = host_site_cookies(60, at, own);
        ASSERT_GT(header.size(), 7000u);  // over the 4 KB the portal used to read
        auto c = parse_cookies(header);
        ASSERT_TRUE(c.ok()) << at;
        EXPECT_EQ(c->size(), 62u);
        EXPECT_EQ(c->at("lkk_session"), "SESSION");
        EXPECT_EQ(c->at("lkk_csrf"), "CSRF");
        EXPECT_EQ(c->at("_ga_1059"), "GS1.1." + std::string(100, static_cast<char>('a' + 59 % 26)));
    }
}

TEST(Cookies, HeaderSizeLimitIsTheWebServersNotFourKilobytes) {
    std::string at_limit = "lkk_session=S; a=";
    at_limit += std::string(kMaxCookieHeader - at_limit.size(), 'x');
    ASSERT_EQ(at_limit.size(), kMaxCookieHeader);
    auto c = parse_cookies(at_limit);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->at("lkk_session"), "S");
    auto big = parse_cookies(at_limit + "x");
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().kind, ParseError::too_large);
    EXPECT_GE(kMaxCookieHeader, size_t{32 * 1024});  // nginx's 4 x 8k header buffers fit
}

TEST(Cookies, CountLimit) {
    std::string header;
    for (size_t i = 0; i < kMaxCookies; ++i) header += "c" + std::to_string(i) + "=v; ";
    auto at_limit = parse_cookies(header);
    ASSERT_TRUE(at_limit.ok());
    EXPECT_EQ(at_limit->size(), kMaxCookies);
    // Pairs that are skipped as garbage do not count.
    EXPECT_TRUE(parse_cookies(header + ";;garbage; =x; bad=\x01").ok());
    auto over = parse_cookies(header + "one=more");
    ASSERT_FALSE(over.ok());
    EXPECT_EQ(over.error().kind, ParseError::too_many_fields);
}

TEST(MediaType, StripsParametersAndCase) {
    EXPECT_EQ(media_type("application/json"), "application/json");
    EXPECT_EQ(media_type("Application/JSON; charset=UTF-8"), "application/json");
    EXPECT_EQ(media_type("  application/x-www-form-urlencoded ;charset=utf-8"),
              "application/x-www-form-urlencoded");
    EXPECT_EQ(media_type(""), "");
    EXPECT_EQ(media_type(";charset=utf-8"), "");
}

}  // namespace
}  // namespace lkk::http
