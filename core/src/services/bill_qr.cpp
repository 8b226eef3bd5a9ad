// The bill's QR code: libqrencode makes the symbol (Debian's libqrencode is built with
// pthreads, so encoding is thread-safe), and we only turn its modules into runs of dark
// squares that the HTML (one SVG path) and the PDF (Cairo rectangles) both draw.
#include <qrencode.h>

#include <cerrno>
#include <memory>

#include "lkk/bill.h"
#include "lkk/templates.h"

namespace lkk::bill {

Result<QrCode> encode_qr(std::string_view payload) {
    if (payload.empty()) return Status::Invalid("nothing to encode");
    // Over version 40's 8-bit capacity at level M (2331 bytes) libqrencode says ERANGE.
    if (payload.size() > 2331) return Status::Invalid("the payload is too long for a QR code");
    std::unique_ptr<QRcode, void (*)(QRcode*)> code(
        QRcode_encodeData(static_cast<int>(payload.size()),
                          reinterpret_cast<const unsigned char*>(payload.data()), 0, QR_ECLEVEL_M),
        QRcode_free);
    if (!code) {
        if (errno == ERANGE) return Status::Invalid("the payload is too long for a QR code");
        return Status::Internal("libqrencode could not encode the payload");
    }
    QrCode out;
    out.size = code->width;
    out.modules.resize(static_cast<size_t>(out.size) * static_cast<size_t>(out.size));
    for (size_t i = 0; i < out.modules.size(); ++i) out.modules[i] = (code->data[i] & 1) != 0;
    return out;
}

std::vector<QrRun> qr_runs(const QrCode& code) {
    std::vector<QrRun> runs;
    for (int y = 0; y < code.size; ++y) {
        int x = 0;
        while (x < code.size) {
            if (!code.dark(x, y)) {
                ++x;
                continue;
            }
            int end = x;
            while (end < code.size && code.dark(end, y)) ++end;
            runs.push_back({x + kQrQuietZone, y + kQrQuietZone, end - x});
            x = end;
        }
    }
    return runs;
}

std::string qr_svg(const QrCode& code, std::string_view title) {
    const std::string side = std::to_string(code.size + 2 * kQrQuietZone);
    std::string path;
    for (const QrRun& r : qr_runs(code)) {
        path += 'M' + std::to_string(r.x) + ' ' + std::to_string(r.y) + 'h' +
                std::to_string(r.length) + "v1h-" + std::to_string(r.length) + 'z';
    }
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"qr\" viewBox=\"0 0 " + side + ' ' +
           side +
           "\" role=\"img\" aria-labelledby=\"qr-title\" shape-rendering=\"crispEdges\">"
           "<title id=\"qr-title\">" +
           escape_html(title) +
           "</title>"
           "<rect width=\"" +
           side + "\" height=\"" + side +
           "\" fill=\"#fff\"/>"
           "<path fill=\"#000\" d=\"" +
           path + "\"/></svg>";
}

}  // namespace lkk::bill
