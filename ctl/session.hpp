// One request to sandboxd from the command line: connect, send, wait for the final reply,
// and turn failures (unreachable daemon, error frames) into a message on stderr (or a JSON
// error object with --json) and the sandbox-error exit status.
#pragma once

#include <functional>
#include <optional>

#include "ctl/commands.hpp"
#include "protocol/client.hpp"

namespace sbx::ctl {

// The result body of `body`'s request decoded as T, or nullopt after reporting the failure.
template <class T>
std::optional<T> request(const Common& common, const protocol::RequestBody& body,
                         const std::function<void(const protocol::Event&)>& on_event = {});

// On an existing connection (sandboxctl repl keeps one).
template <class T>
std::optional<T> request(const Common& common, protocol::Client& client, const protocol::RequestBody& body,
                         const std::function<void(const protocol::Event&)>& on_event = {});
// Connects to the daemon, or reports why not.
std::optional<protocol::Client> connect(const Common& common);

void report_error(const Common& common, const std::string& code, const std::string& message);

}  // namespace sbx::ctl
