// The credentials of the process at the other end of a Unix socket (SO_PEERCRED), and its
// supplementary groups (SO_PEERGROUPS): taken by the kernel at connect time, so they cannot be
// forged by what the client sends.
#pragma once

#include "common/result.hpp"
#include "daemon/jobs/caller.hpp"

namespace sbx::server {

Result<jobs::Caller> peer_credentials(int socket_fd);

}  // namespace sbx::server
