// The bill as a PDF: Cairo's PDF surface with Pango laying out the text.
//
// Why Cairo + Pango: both are Debian's own, well kept (GNOME, every Linux desktop prints
// through them), Pango shapes text properly (Cyrillic, «», №, wrapping by words), and Cairo
// embeds only the glyphs used (a font subset) and writes vectors, so the QR code stays sharp
// at any zoom and the file stays small.
//
// Threads: the nginx thread pool renders bills concurrently. Fontconfig is thread-safe and
// its configuration is built once (a function-local static). Pango's font maps are not meant
// to be shared between threads (since 1.32.6 Pango's own default map is per thread), so each
// thread gets its own map over that one configuration. Cairo surfaces and contexts belong to
// the one call that creates them.
#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <pango/pangofc-fontmap.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "lkk/bill.h"

namespace lkk::bill {

namespace {

// A4 in points, and the page's margins (about 17 mm).
constexpr double kPageWidth = 595.28;
constexpr double kPageHeight = 841.89;
constexpr double kMargin = 48;
constexpr double kContentWidth = kPageWidth - 2 * kMargin;
constexpr double kLabelWidth = 165;  // the label column of a section
constexpr double kQrSide = 136;      // 48 mm: banking apps read it from a phone's camera
constexpr const char* kFamily = "DejaVu Sans";

// The fontconfig configuration with only the DejaVu directory in it: the bill's font does not
// depend on what else is installed, and no system configuration file is read. Built once
// (thread-safe: a C++ static); nullptr when the fonts are not there.
FcConfig* bill_font_config() {
    static FcConfig* const config = []() -> FcConfig* {
        const std::filesystem::path regular =
            std::filesystem::path(kFontDirectory) / "DejaVuSans.ttf";
        std::error_code ec;
        if (!std::filesystem::exists(regular, ec)) return nullptr;
        // The system's font cache is read when it is current (Debian's fontconfig keeps it up
        // to date); without a cache directory fontconfig would scan the fonts and complain on
        // stderr (into nginx's error log) that it cannot write one.
        const std::string xml = std::string("<?xml version=\"1.0\"?><fontconfig><dir>") +
                                kFontDirectory +
                                "</dir><cachedir>/var/cache/fontconfig</cachedir></fontconfig>";
        FcConfig* c = FcConfigCreate();
        if (c == nullptr) return nullptr;
        if (!FcConfigParseAndLoadFromMemory(c, reinterpret_cast<const FcChar8*>(xml.c_str()),
                                            FcFalse) ||
            !FcConfigBuildFonts(c)) {
            FcConfigDestroy(c);
            return nullptr;
        }
        return c;
    }();
    return config;
}

struct GObjectUnref {
    void operator()(void* p) const {
        if (p != nullptr) g_object_unref(p);
    }
};

// This thread's Pango font map over the shared configuration (see the file's comment).
PangoFontMap* thread_font_map() {
    thread_local std::unique_ptr<PangoFontMap, GObjectUnref> map;
    if (!map) {
        FcConfig* config = bill_font_config();
        if (config == nullptr) return nullptr;
        PangoFontMap* m = pango_cairo_font_map_new_for_font_type(CAIRO_FONT_TYPE_FT);
        if (m == nullptr) return nullptr;
        pango_fc_font_map_set_config(reinterpret_cast<PangoFcFontMap*>(m), config);
        map.reset(m);
    }
    return map.get();
}

cairo_status_t append_to_string(void* closure, const unsigned char* data, unsigned int length) {
    static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
    return CAIRO_STATUS_SUCCESS;
}

struct TextStyle {
    double size = 10;
    bool bold = false;
    double grey = 0;  // 0 black .. 1 white
    PangoAlignment align = PANGO_ALIGN_LEFT;
};

// One page after another, top to bottom: y is where the next block starts.
class Writer {
  public:
    Writer(cairo_t* cr, PangoContext* context) : cr_(cr), context_(context) {}

    // Lays text out in a box `width` wide at (x, top) and answers its height; draws it unless
    // `measure_only`.
    double text(const std::string& s, double x, double top, double width, const TextStyle& style,
                bool measure_only = false) {
        std::unique_ptr<PangoLayout, GObjectUnref> layout(pango_layout_new(context_));
        std::unique_ptr<PangoFontDescription, void (*)(PangoFontDescription*)> font(
            pango_font_description_new(), pango_font_description_free);
        pango_font_description_set_family(font.get(), kFamily);
        pango_font_description_set_weight(font.get(),
                                          style.bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
        pango_font_description_set_size(font.get(), static_cast<int>(style.size * PANGO_SCALE));
        pango_layout_set_font_description(layout.get(), font.get());
        pango_layout_set_width(layout.get(), static_cast<int>(width * PANGO_SCALE));
        pango_layout_set_wrap(layout.get(), PANGO_WRAP_WORD_CHAR);
        pango_layout_set_alignment(layout.get(), style.align);
        pango_layout_set_text(layout.get(), s.data(), static_cast<int>(s.size()));
        int w = 0;
        int h = 0;
        pango_layout_get_size(layout.get(), &w, &h);
        if (!measure_only) {
            cairo_set_source_rgb(cr_, style.grey, style.grey, style.grey);
            cairo_move_to(cr_, x, top);
            pango_cairo_show_layout(cr_, layout.get());
        }
        return static_cast<double>(h) / PANGO_SCALE;
    }

    // Starts a new page when `height` does not fit on this one.
    void need(double height) {
        if (y + height <= kPageHeight - kMargin) return;
        cairo_show_page(cr_);
        y = kMargin;
    }

    void rule(double x0, double x1, double at, double grey = 0.6) {
        cairo_set_source_rgb(cr_, grey, grey, grey);
        cairo_set_line_width(cr_, 0.6);
        cairo_move_to(cr_, x0, at);
        cairo_line_to(cr_, x1, at);
        cairo_stroke(cr_);
    }

    void heading(const std::string& s) {
        const TextStyle style{11, true};
        need(text(s, kMargin, y, kContentWidth, style, true) + 30);
        y += text(s, kMargin, y, kContentWidth, style) + 2;
        rule(kMargin, kMargin + kContentWidth, y);
        y += 5;
    }

    cairo_t* cr() { return cr_; }

    double y = kMargin;

  private:
    cairo_t* cr_;
    PangoContext* context_;
};

void draw_section(Writer& w, const SheetSection& section) {
    w.heading(section.heading);
    const double value_x = kMargin + kLabelWidth;
    const double value_width = kContentWidth - kLabelWidth;
    for (const SheetRow& row : section.rows) {
        const TextStyle label{10, false, 0.3};
        const TextStyle value{row.strong ? 12.0 : 10.0, row.strong};
        const double h = std::max(w.text(row.label, kMargin, w.y, kLabelWidth - 8, label, true),
                                  w.text(row.value, value_x, w.y, value_width, value, true));
        w.need(h);
        w.text(row.label, kMargin, w.y, kLabelWidth - 8, label);
        w.text(row.value, value_x, w.y, value_width, value);
        w.y += h + 3;
    }
    w.y += 10;
}

void draw_table(Writer& w, const SheetTable& table) {
    w.heading(table.heading);
    if (table.rows.empty()) {
        w.y += w.text(table.empty_text, kMargin, w.y, kContentWidth, TextStyle{10, false, 0.3});
        w.y += 12;
        return;
    }
    // The first column (the meter) takes what the numbers leave.
    const size_t n = table.columns.size();
    const double number_width = n > 1 ? std::min(105.0, kContentWidth / static_cast<double>(n)) : 0;
    const double first_width = kContentWidth - number_width * static_cast<double>(n - 1);
    auto column_x = [&](size_t i) {
        return i == 0 ? kMargin : kMargin + first_width + number_width * static_cast<double>(i - 1);
    };
    auto column_width = [&](size_t i) { return (i == 0 ? first_width : number_width) - 6; };
    auto draw_row = [&](const std::vector<std::string>& cells, const TextStyle& style) {
        double h = 0;
        for (size_t i = 0; i < n && i < cells.size(); ++i) {
            TextStyle s = style;
            if (i > 0) s.align = PANGO_ALIGN_RIGHT;
            h = std::max(h, w.text(cells[i], column_x(i), w.y, column_width(i), s, true));
        }
        w.need(h + 4);
        for (size_t i = 0; i < n && i < cells.size(); ++i) {
            TextStyle s = style;
            if (i > 0) s.align = PANGO_ALIGN_RIGHT;
            w.text(cells[i], column_x(i), w.y, column_width(i), s);
        }
        w.y += h + 2;
        w.rule(kMargin, kMargin + kContentWidth, w.y, 0.85);
        w.y += 3;
    };
    draw_row(table.columns, TextStyle{9, true, 0.3});
    for (const auto& row : table.rows) draw_row(row, TextStyle{10});
    w.y += 10;
}

// The QR code as filled rectangles (one per run of dark modules) on white, with the caption
// to its right.
void draw_qr(Writer& w, const QrCode& code, const std::string& caption) {
    w.need(kQrSide + 8);
    cairo_t* cr = w.cr();
    const int modules = code.size + 2 * kQrQuietZone;
    const double unit = kQrSide / modules;
    const double x0 = kMargin;
    const double y0 = w.y;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_rectangle(cr, x0, y0, kQrSide, kQrSide);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (const QrRun& r : qr_runs(code)) {
        cairo_rectangle(cr, x0 + r.x * unit, y0 + r.y * unit, r.length * unit, unit);
    }
    cairo_fill(cr);
    const double text_x = x0 + kQrSide + 16;
    w.text(caption, text_x, y0 + kQrQuietZone * unit, kContentWidth - kQrSide - 16,
           TextStyle{10, false, 0.2});
    w.y += kQrSide + 8;
}

}  // namespace

Result<std::string> render_pdf(const BillSheet& sheet) {
    auto code = encode_qr(sheet.qr_payload);
    if (!code) return code.error();
    PangoFontMap* map = thread_font_map();
    if (map == nullptr) {
        return Status::Unavailable(std::string("the bill's font is missing: install "
                                               "fonts-dejavu-core (") +
                                   kFontDirectory + ")");
    }
    std::string pdf;
    std::unique_ptr<cairo_surface_t, void (*)(cairo_surface_t*)> surface(
        cairo_pdf_surface_create_for_stream(append_to_string, &pdf, kPageWidth, kPageHeight),
        cairo_surface_destroy);
    if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
        return Status::Internal("cairo cannot create a PDF surface");
    }
    cairo_pdf_surface_restrict_to_version(surface.get(), CAIRO_PDF_VERSION_1_5);
    cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_TITLE,
                                   sheet.pdf_title.c_str());
    cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATOR, "lkk");
    {
        std::unique_ptr<cairo_t, void (*)(cairo_t*)> cr(cairo_create(surface.get()), cairo_destroy);
        std::unique_ptr<PangoContext, GObjectUnref> context(pango_font_map_create_context(map));
        // Points are the page's units: 72 "dpi", and metrics not hinted to a pixel grid.
        pango_cairo_context_set_resolution(context.get(), 72);
        std::unique_ptr<cairo_font_options_t, void (*)(cairo_font_options_t*)> options(
            cairo_font_options_create(), cairo_font_options_destroy);
        cairo_font_options_set_hint_metrics(options.get(), CAIRO_HINT_METRICS_OFF);
        cairo_font_options_set_hint_style(options.get(), CAIRO_HINT_STYLE_NONE);
        pango_cairo_context_set_font_options(context.get(), options.get());
        pango_cairo_update_context(cr.get(), context.get());

        Writer w(cr.get(), context.get());
        w.y += w.text(sheet.title, kMargin, w.y, kContentWidth, TextStyle{16, true});
        w.y += 2;
        w.y += w.text(sheet.subtitle, kMargin, w.y, kContentWidth, TextStyle{9.5, false, 0.3});
        w.y += 14;
        for (const SheetSection& s : sheet.sections) draw_section(w, s);
        if (!sheet.readings.heading.empty()) draw_table(w, sheet.readings);
        w.y += 4;
        draw_qr(w, code.value(), sheet.qr_caption);
        if (!sheet.footer.empty()) {
            const TextStyle small{8, false, 0.4};
            const double h = w.text(sheet.footer, kMargin, 0, kContentWidth, small, true);
            w.need(h + 8);
            w.text(sheet.footer, kMargin, kPageHeight - kMargin - h, kContentWidth, small);
        }
        cairo_show_page(cr.get());
        if (cairo_status(cr.get()) != CAIRO_STATUS_SUCCESS) {
            return Status::Internal(std::string("cairo: ") +
                                    cairo_status_to_string(cairo_status(cr.get())));
        }
    }
    cairo_surface_finish(surface.get());
    if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
        return Status::Internal(std::string("cairo: ") +
                                cairo_status_to_string(cairo_surface_status(surface.get())));
    }
    return pdf;
}

}  // namespace lkk::bill
