#include "daemon/server/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "daemon/jobs/job_log.hpp"
#include "daemon/server/service_manager.hpp"

namespace sbx::server {

namespace {

// journald takes a leading "<N>" as the entry's syslog priority (sd-daemon(3)), so
// `journalctl -p warning` selects by level.
char syslog_priority(spdlog::level::level_enum level) {
    switch (level) {
        case spdlog::level::trace:
        case spdlog::level::debug: return '7';
        case spdlog::level::warn: return '4';
        case spdlog::level::err: return '3';
        case spdlog::level::critical: return '2';
        default: return '6';
    }
}

void append_priority(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
    const char prefix[3] = {'<', syslog_priority(msg.level), '>'};
    dest.append(prefix, prefix + 3);
}

class PriorityFlag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        append_priority(msg, dest);
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<PriorityFlag>(); }
};

// {"time":"2026-11-22T10:00:00.123Z","level":"info","message":"..."}; a message that is itself a
// JSON object (the per-job line) has its fields merged in instead.
class JsonFormatter final : public spdlog::formatter {
public:
    explicit JsonFormatter(bool journal) : journal_(journal) {}

    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        using namespace std::chrono;
        auto t = system_clock::to_time_t(msg.time);
        auto ms = duration_cast<milliseconds>(msg.time.time_since_epoch()).count() % 1000;
        std::tm tm{};
        gmtime_r(&t, &tm);
        char stamp[64];
        std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
        std::string_view payload(msg.payload.data(), msg.payload.size());
        nlohmann::json line;
        line["time"] = stamp;
        line["level"] = std::string(spdlog::level::to_string_view(msg.level).data(),
                                    spdlog::level::to_string_view(msg.level).size());
        bool merged = false;
        if (payload.size() > 2 && payload.front() == '{') {
            auto object = nlohmann::json::parse(payload, nullptr, false);
            if (object.is_object()) {
                line.update(object);
                merged = true;
            }
        }
        if (!merged) line["message"] = std::string(payload);
        std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        if (journal_) append_priority(msg, dest);
        dest.append(text.data(), text.data() + text.size());
        dest.push_back('\n');
    }
    std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(journal_); }

private:
    bool journal_;
};

}  // namespace

Status setup_logging(const std::string& level, LogFormat format) {
    auto lvl = spdlog::level::from_str(level);
    if (lvl == spdlog::level::off && level != "off")
        return Error::invalid("--log-level", "unknown level '" + level + "' (trace, debug, info, warn, error, critical, off)");
    auto logger = std::make_shared<spdlog::logger>("sandboxd", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    // Under journald the journal stamps each entry with its time; the level becomes its priority.
    bool journal = stderr_is_journal();
    if (format == LogFormat::json) {
        logger->set_formatter(std::make_unique<JsonFormatter>(journal));
    } else if (journal) {
        auto formatter = std::make_unique<spdlog::pattern_formatter>();
        formatter->add_flag<PriorityFlag>('*').set_pattern("%*%l %v");
        logger->set_formatter(std::move(formatter));
    } else {
        logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %l %v");
    }
    logger->set_level(lvl);
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
    jobs::set_json_job_log(format == LogFormat::json);
    return {};
}

}  // namespace sbx::server
