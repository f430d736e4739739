// The control socket: created 0660, owned by root and the configured group, refusing to
// replace a socket another daemon is still listening on.
#pragma once

#include <string>

#include "common/result.hpp"
#include "common/unique_fd.hpp"

namespace sbx::server {

Result<UniqueFd> bind_control_socket(const std::string& path, const std::string& group);

}  // namespace sbx::server
