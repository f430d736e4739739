#include "ctl/session.hpp"

#include <cstdio>
#include <iostream>

#include "protocol/json_codec.hpp"

namespace sbx::ctl {

void report_error(const Common& common, const std::string& code, const std::string& message) {
    if (common.json) {
        std::cout << protocol::dump({{"error", {{"code", code}, {"message", message}}}}, 2) << "\n";
    } else {
        std::fprintf(stderr, "sandboxctl: %s: %s\n", code.c_str(), message.c_str());
    }
}

std::optional<protocol::Client> connect(const Common& common) {
    std::string path = common.socket.empty() ? protocol::default_socket_path() : common.socket;
    auto client = protocol::Client::connect(path);
    if (!client) {
        report_error(common, "unreachable", client.error().message() + " (is sandboxd running?)");
        return std::nullopt;
    }
    return std::move(*client);
}

template <class T>
std::optional<T> request(const Common& common, protocol::Client& client, const protocol::RequestBody& body,
                         const std::function<void(const protocol::Event&)>& on_event) {
    auto reply = client.call(body, on_event);
    if (!reply) {
        report_error(common, "connection", reply.error().message());
        return std::nullopt;
    }
    if (reply->kind == protocol::Reply::Kind::error) {
        report_error(common, std::string(protocol::to_string(reply->error.code)), reply->error.message);
        return std::nullopt;
    }
    auto result = protocol::decode_result<T>(*reply);
    if (!result) {
        report_error(common, std::string(protocol::to_string(result.error().code)), result.error().message);
        return std::nullopt;
    }
    return std::move(*result);
}

template <class T>
std::optional<T> request(const Common& common, const protocol::RequestBody& body,
                         const std::function<void(const protocol::Event&)>& on_event) {
    auto client = connect(common);
    if (!client) return std::nullopt;
    return request<T>(common, *client, body, on_event);
}

template std::optional<protocol::RunResult> request(const Common&, const protocol::RequestBody&,
                                                    const std::function<void(const protocol::Event&)>&);
template std::optional<protocol::LanguagesResult> request(const Common&, const protocol::RequestBody&,
                                                          const std::function<void(const protocol::Event&)>&);
template std::optional<protocol::PoliciesResult> request(const Common&, const protocol::RequestBody&,
                                                         const std::function<void(const protocol::Event&)>&);
template std::optional<protocol::StatsResult> request(const Common&, const protocol::RequestBody&,
                                                      const std::function<void(const protocol::Event&)>&);
template std::optional<protocol::StatusResult> request(const Common&, const protocol::RequestBody&,
                                                       const std::function<void(const protocol::Event&)>&);
template std::optional<protocol::CancelResult> request(const Common&, const protocol::RequestBody&,
                                                       const std::function<void(const protocol::Event&)>&);
template std::optional<protocol::SessionInfo> request(const Common&, const protocol::RequestBody&,
                                                      const std::function<void(const protocol::Event&)>&);
template std::optional<protocol::SessionInfo> request(const Common&, protocol::Client&, const protocol::RequestBody&,
                                                      const std::function<void(const protocol::Event&)>&);
template std::optional<protocol::SessionExecResult> request(const Common&, const protocol::RequestBody&,
                                                            const std::function<void(const protocol::Event&)>&);
template std::optional<protocol::SessionExecResult> request(const Common&, protocol::Client&,
                                                            const protocol::RequestBody&,
                                                            const std::function<void(const protocol::Event&)>&);
template std::optional<protocol::SessionCloseResult> request(const Common&, const protocol::RequestBody&,
                                                             const std::function<void(const protocol::Event&)>&);
template std::optional<protocol::SessionCloseResult> request(const Common&, protocol::Client&,
                                                             const protocol::RequestBody&,
                                                             const std::function<void(const protocol::Event&)>&);
template std::optional<protocol::SessionListResult> request(const Common&, const protocol::RequestBody&,
                                                            const std::function<void(const protocol::Event&)>&);
template std::optional<protocol::ReloadResult> request(const Common&, const protocol::RequestBody&,
                                                       const std::function<void(const protocol::Event&)>&);

}  // namespace sbx::ctl
