// The readings reminder (SPEC 9, 11): when the readings window opens, one mail a month to
// every active cabinet that ticked remind_readings and has a linked account with a meter.
// The outbox timer runs remind_readings() before each delivery round on a pool thread; it
// must stay cheap, so the window is decided from the clock alone and the database is asked
// at most once per readings.remind_interval while the window is open.
#include <algorithm>
#include <exception>
#include <string>

#include "lkk/log.h"
#include "lkk/notifications.h"

namespace lkk {

namespace {

// Recipients looked at per round: a round stays short (one small transaction each), and a
// full page makes the next round come back at once for the rest.
constexpr int kRemindersPerRound = 200;
// After a failed look-up (the database is down), try again this soon at the latest.
constexpr int64_t kRetryAfterFailure = 60;

}  // namespace

namespace notifications {

std::optional<std::string> reminder_period(int64_t now, const Settings& settings) {
    const readings::Window w =
        readings::window_at(now, settings.portal.time_zone, settings.readings.window_start_day,
                            settings.readings.window_end_day);
    if (!w.open) return std::nullopt;
    return w.period;
}

}  // namespace notifications

Result<OutboxMail> Notifications::readings_mail(const readings::Window& window,
                                                const std::string& link) {
    TemplateData data(TemplateData::type::object);
    put(data, "window_start", readings::dotted_date(window.start));
    put(data, "window_end", readings::dotted_date(window.end));
    put(data, "month", readings::dotted_month(window.period));
    put(data, "accounts_link", settings_.portal.link("/accounts"));
    put(data, "settings_link", settings_.portal.link("/settings"));
    put(data, "unsubscribe_link", link);
    put(data, "support_email", settings_.portal.support_email);
    auto text = templates_.render_mail("mail_readings_reminder.txt", data);
    if (!text) return text.error();
    OutboxMail m;
    m.subject = text->subject;
    m.body_text = text->body;
    return m;
}

int Notifications::remind_readings() noexcept {
    try {
        const int64_t now = clock_.now();
        if (now < next_reminder_check_.load()) return 0;
        const readings::Window window = readings::window_at(now, settings_.portal.time_zone,
                                                            settings_.readings.window_start_day,
                                                            settings_.readings.window_end_day);
        if (!window.open) return 0;
        bool idle = false;
        if (!reminding_.compare_exchange_strong(idle, true)) return 0;
        struct Done {
            std::atomic<bool>& flag;
            ~Done() { flag.store(false); }
        } done{reminding_};

        auto s = store();
        if (!s) return 0;
        auto due = (*s)->readings_reminders_due(window.period, 0, kRemindersPerRound);
        if (!due) {
            log(LogLevel::warn, "readings reminders: " + due.error().message());
            next_reminder_check_.store(
                now + std::min(kRetryAfterFailure, settings_.readings.remind_interval));
            return 0;
        }
        // The mail is useless once the window has closed: it expires at the end of its last
        // day (UTC midnight after it, near enough for a reminder).
        const int64_t expires =
            utc_midnight({window.end.year, window.end.month, window.end.day + 1});
        int enqueued = 0;
        bool failed = false;
        for (const ReminderRecipient& r : *due) {
            NotificationKey key{r.user_id, NotificationKind::readings, "", window.period};
            auto outcome = enqueue_once(
                key, [&](const std::string& link) { return readings_mail(window, link); }, expires);
            if (!outcome) {
                log(LogLevel::warn, "readings reminder for cabinet " + std::to_string(r.user_id) +
                                        ": " + outcome.error().message());
                failed = true;
                // The database is gone: the rest waits for the next look. Anything else is
                // this cabinet's alone: the others still get theirs.
                if (outcome.error().code() == StatusCode::unavailable) break;
                continue;
            }
            if (*outcome == NotifyOutcome::enqueued) ++enqueued;
        }
        const bool more = !failed && static_cast<int>(due->size()) == kRemindersPerRound;
        next_reminder_check_.store(
            more ? now
                 : now + (failed ? std::min(kRetryAfterFailure, settings_.readings.remind_interval)
                                 : settings_.readings.remind_interval));
        if (enqueued > 0) {
            log(LogLevel::info, "readings reminders for " + window.period + ": " +
                                    std::to_string(enqueued) + " enqueued");
        }
        return enqueued;
    } catch (const std::exception& e) {
        log(LogLevel::error, std::string("readings reminders failed: ") + e.what());
    } catch (...) {
        log(LogLevel::error, "readings reminders failed");
    }
    return 0;
}

}  // namespace lkk
