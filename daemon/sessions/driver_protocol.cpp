#include "daemon/sessions/driver_protocol.hpp"

#include <nlohmann/json.hpp>

#include "common/base64.hpp"

namespace sbx::sessions {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxHeader = 10;  // digits of a length below 10^10

Result<json> parse_object(std::string_view payload) {
    json j = json::parse(payload, nullptr, false);
    if (j.is_discarded()) return Error::invalid("driver frame", "not valid JSON");
    if (!j.is_object()) return Error::invalid("driver frame", "not a JSON object");
    return j;
}

// A string field, or nullopt when absent or null; a wrong type is an error.
Result<std::optional<std::string>> optional_string(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::optional<std::string>();
    if (!it->is_string()) return Error::invalid("driver reply", std::string(key) + " is not a string");
    return std::optional<std::string>(it->get<std::string>());
}

// Cuts `text` to `max` bytes (at a UTF-8 boundary) and notes it.
void cap_text(std::string& text, std::size_t max, const char* what, std::string& notes) {
    if (text.size() <= max) return;
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text.resize(cut);
    notes += std::string(notes.empty() ? "" : "; ") + what + " cut at " + std::to_string(max) + " bytes";
}

}  // namespace

std::string encode_driver_frame(std::string_view payload) {
    std::string frame = std::to_string(payload.size());
    frame += '\n';
    frame.append(payload);
    return frame;
}

std::string encode_exec_request(std::string_view code) {
    // Invalid UTF-8 in the code becomes U+FFFD: drivers read the frame as JSON text.
    return encode_driver_frame(json{{"code", std::string(code)}}.dump(-1, ' ', false, json::error_handler_t::replace));
}

DriverFrameDecoder::Status DriverFrameDecoder::next(std::string& out) {
    if (!error_.empty()) return Status::invalid;
    std::size_t newline = buffer_.find('\n');
    if (newline == std::string::npos) {
        if (buffer_.size() > kMaxHeader) error_ = "a frame header longer than " + std::to_string(kMaxHeader) + " digits";
        return error_.empty() ? Status::need_more : Status::invalid;
    }
    std::string_view digits(buffer_.data(), newline);
    if (digits.empty() || digits.size() > kMaxHeader || digits.find_first_not_of("0123456789") != std::string_view::npos) {
        error_ = "a frame header that is not a decimal length";
        return Status::invalid;
    }
    std::size_t length = std::stoull(std::string(digits));
    if (length > max_) {
        error_ = "a frame of " + std::to_string(length) + " bytes (the limit is " + std::to_string(max_) + ")";
        return Status::invalid;
    }
    if (buffer_.size() - newline - 1 < length) return Status::need_more;
    out.assign(buffer_, newline + 1, length);
    buffer_.erase(0, newline + 1 + length);
    return Status::frame;
}

Result<DriverReady> parse_ready(std::string_view payload) {
    auto j = parse_object(payload);
    if (!j) return std::move(j).error();
    auto ready = j->find("ready");
    if (ready == j->end() || !ready->is_boolean() || !ready->get<bool>())
        return Error::invalid("driver", "the first frame is not {\"ready\": true}");
    auto version = optional_string(*j, "version");
    if (!version) return std::move(version).error();
    return DriverReady{version->value_or("")};
}

Result<DriverReply> parse_reply(std::string_view payload, const ReplyCaps& caps) {
    auto parsed = parse_object(payload);
    if (!parsed) return std::move(parsed).error();
    const json& j = *parsed;
    DriverReply r;
    auto status = optional_string(j, "status");
    if (!status) return std::move(status).error();
    if (*status != "ok" && *status != "error")
        return Error::invalid("driver reply", "status is neither \"ok\" nor \"error\"");
    r.failed = *status == "error";
    if (auto code = j.find("exit_code"); code != j.end() && !code->is_null()) {
        if (!code->is_number_integer()) return Error::invalid("driver reply", "exit_code is not an integer");
        r.exit_code = static_cast<int>(std::clamp<std::int64_t>(code->get<std::int64_t>(), -255, 255));
    }
    auto value = optional_string(j, "value");
    if (!value) return std::move(value).error();
    r.value = std::move(*value);
    if (r.value) cap_text(*r.value, caps.text_bytes, "value", r.notes);
    if (auto e = j.find("error"); e != j.end() && !e->is_null()) {
        if (!e->is_object()) return Error::invalid("driver reply", "error is not an object");
        protocol::SessionErrorInfo info;
        for (auto [key, field] : {std::pair{"name", &info.name}, {"value", &info.value}, {"traceback", &info.traceback}}) {
            auto text = optional_string(*e, key);
            if (!text) return std::move(text).error();
            *field = text->value_or("");
            cap_text(*field, caps.text_bytes, "error text", r.notes);
        }
        r.error = std::move(info);
    }
    if (auto images = j.find("images"); images != j.end() && !images->is_null()) {
        if (!images->is_array()) return Error::invalid("driver reply", "images is not an array");
        std::size_t total = 0;
        for (const json& image : *images) {
            if (!image.is_object()) return Error::invalid("driver reply", "an image is not an object");
            auto mime = optional_string(image, "mime");
            auto data = optional_string(image, "data");
            if (!mime || !data || !*mime || !*data) return Error::invalid("driver reply", "an image lacks mime or data");
            auto bytes = base64_decode(**data);
            if (!bytes) return Error::invalid("driver reply", "an image's data is not base64");
            total += bytes->size();
            if (total > caps.image_bytes) {
                r.notes += std::string(r.notes.empty() ? "" : "; ") + "images beyond " +
                           std::to_string(caps.image_bytes) + " bytes left out";
                break;
            }
            r.images.push_back({std::move(**mime), std::move(*bytes)});
        }
    }
    return r;
}

}  // namespace sbx::sessions
