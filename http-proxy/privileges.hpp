// sandbox-http holds no privileges. Started as root it refuses to run unless told which user to
// become (--user): after the listening socket is bound and the token file read, it switches to
// that user's uid, primary gid and supplementary groups (so that membership of `sandbox` opens
// sandboxd's socket), sets no_new_privs, and checks that root cannot be regained.
#pragma once

#include <string>

#include "common/result.hpp"

namespace sbx::http {

// Started as root: requires `user`. Started as another user: `user` must be empty or that user.
Status check_identity(const std::string& user);
// Becomes `user` (no-op when empty and not root).
Status drop_privileges(const std::string& user);

}  // namespace sbx::http
