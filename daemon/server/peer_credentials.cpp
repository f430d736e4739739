#include "daemon/server/peer_credentials.hpp"

#include <sys/socket.h>

namespace sbx::server {

Result<jobs::Caller> peer_credentials(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return Error::system("SO_PEERCRED");
    jobs::Caller caller;
    caller.uid = cred.uid;
    caller.gid = cred.gid;
    caller.pid = cred.pid;
    std::vector<gid_t> groups(64);
    for (;;) {
        socklen_t size = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &size) == 0) {
            groups.resize(size / sizeof(gid_t));
            break;
        }
        if (errno != ERANGE) return Error::system("SO_PEERGROUPS");
        groups.resize(size / sizeof(gid_t) + 1);
    }
    caller.groups = std::move(groups);
    return caller;
}

}  // namespace sbx::server
