// Who sent a request: the peer credentials of its socket (SO_PEERCRED, SO_PEERGROUPS).
#pragma once

#include <sys/types.h>

#include <vector>

namespace sbx::jobs {

struct Caller {
    uid_t uid = 0;
    gid_t gid = 0;
    pid_t pid = 0;
    std::vector<gid_t> groups;  // supplementary groups

    bool is_root() const { return uid == 0; }
};

}  // namespace sbx::jobs
