// The e-mail address is the login. Its canonical form decides identity, so two spellings of
// one mailbox ("Ivanov@Mail.RU", "ИВАНОВ@Почта.РФ") must give one string, and anything a
// mail server would refuse is refused here with a message that says what to fix.
#include <unicode/bytestream.h>
#include <unicode/idna.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>

#include <algorithm>
#include <memory>
#include <string>

#include "lkk/rules.h"
#include "rules_unicode.h"

namespace lkk::rules {
namespace {

// Far over any real address; keeps ICU away from megabytes of junk.
constexpr std::size_t kMaxRawEmailBytes = 1024;

std::string_view trim_ascii_spaces(std::string_view s) {
    const auto is_ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
    return s;
}

// RFC 5322 dot-atom characters: the "sane subset" every mail provider accepts (no quoted
// strings, no comments).
bool is_atom_ascii(UChar32 c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    constexpr std::string_view specials = "!#$%&'*+/=?^_`{|}~.-";
    return c < 0x80 && specials.find(static_cast<char>(c)) != std::string_view::npos;
}

// RFC 6531 allows UTF-8 mailbox names (Russian providers accept Cyrillic ones). We accept
// letters, marks and digits only, so that ICU can lower-case them into one identity.
bool is_atom_unicode(UChar32 c) {
    if (c < 0x80) return is_atom_ascii(c);
    const int8_t type = u_charType(c);
    return u_isalnum(c) || type == U_NON_SPACING_MARK || type == U_COMBINING_SPACING_MARK ||
           type == U_ENCLOSING_MARK;
}

Result<std::string, RuleError> normalize_local_part(std::string_view local) {
    bool ascii = true;
    int32_t i = 0;
    const auto length = static_cast<int32_t>(local.size());
    while (i < length) {
        const UChar32 c = detail::next_code_point(local, i);
        if (c < 0 || !is_atom_unicode(c)) return RuleError::email_local_invalid;
        if (c >= 0x80) ascii = false;
    }
    if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
        return RuleError::email_local_dots;
    }
    std::string out;
    if (ascii) {
        out.assign(local);
        std::transform(out.begin(), out.end(), out.begin(), [](char c) {
            return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        });
    } else {
        // NFC first so that "е" + combining diaeresis and "ё" are one mailbox, then the
        // root-locale lower case (no Turkish dotless-i surprises).
        UErrorCode status = U_ZERO_ERROR;
        const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
        if (U_FAILURE(status)) return RuleError::email_local_invalid;
        icu::UnicodeString text = nfc->normalize(icu::UnicodeString::fromUTF8(local), status);
        if (U_FAILURE(status)) return RuleError::email_local_invalid;
        text.toLower(icu::Locale::getRoot());
        out = detail::to_utf8(text);
    }
    if (out.size() > kMaxEmailLocalLength) return RuleError::email_local_too_long;
    return out;
}

// UTS #46 nontransitional processing with the STD3 rules, as browsers and mail servers do:
// maps case and width, refuses what is not a host name, and gives the "xn--" form.
const icu::IDNA* uts46() {
    static const std::unique_ptr<icu::IDNA> instance = [] {
        UErrorCode status = U_ZERO_ERROR;
        std::unique_ptr<icu::IDNA> idna(icu::IDNA::createUTS46Instance(
            UIDNA_USE_STD3_RULES | UIDNA_CHECK_BIDI | UIDNA_CHECK_CONTEXTJ |
                UIDNA_NONTRANSITIONAL_TO_ASCII,
            status));
        if (U_FAILURE(status)) idna.reset();
        return idna;
    }();
    return instance.get();
}

Result<std::string, RuleError> normalize_domain(std::string_view domain) {
    // A trailing dot (the DNS root) is legal in DNS but no mail provider writes it.
    if (domain.back() == '.' || domain.front() == '.') return RuleError::email_domain_invalid;
    const icu::IDNA* idna = uts46();
    if (idna == nullptr) return RuleError::email_domain_invalid;
    std::string ascii;
    icu::StringByteSink<std::string> sink(&ascii);
    icu::IDNAInfo info;
    UErrorCode status = U_ZERO_ERROR;
    idna->nameToASCII_UTF8(icu::StringPiece(domain.data(), static_cast<int32_t>(domain.size())),
                           sink, info, status);
    if (U_FAILURE(status) || info.hasErrors() || ascii.empty()) {
        return RuleError::email_domain_invalid;
    }
    const std::size_t last_dot = ascii.rfind('.');
    if (last_dot == std::string::npos) return RuleError::email_domain_no_dot;
    // An all-digit top-level label is an IP address, not a mail domain.
    const std::string_view tld = std::string_view(ascii).substr(last_dot + 1);
    if (tld.empty() ||
        std::all_of(tld.begin(), tld.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return RuleError::email_domain_invalid;
    }
    return ascii;
}

}  // namespace

Result<std::string, RuleError> normalize_email(std::string_view input) {
    const std::string_view email = trim_ascii_spaces(input);
    if (email.empty()) return RuleError::email_empty;
    if (email.size() > kMaxRawEmailBytes) return RuleError::email_too_long;
    if (!is_clean_text(email)) return RuleError::text_invalid;

    const std::size_t at = email.find('@');
    if (at == std::string_view::npos) return RuleError::email_missing_at;
    if (email.find('@', at + 1) != std::string_view::npos) return RuleError::email_several_at;
    const std::string_view local = email.substr(0, at);
    const std::string_view domain = email.substr(at + 1);
    if (local.empty()) return RuleError::email_local_empty;
    if (domain.empty()) return RuleError::email_domain_empty;

    auto canonical_local = normalize_local_part(local);
    if (!canonical_local) return canonical_local.error();
    auto canonical_domain = normalize_domain(domain);
    if (!canonical_domain) return canonical_domain.error();

    std::string out = std::move(canonical_local).value();
    out += '@';
    out += canonical_domain.value();
    if (out.size() > kMaxEmailLength) return RuleError::email_too_long;
    return out;
}

}  // namespace lkk::rules
