#include "daemon/server/service_manager.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/unique_fd.hpp"

namespace sbx::server {

ServiceManager ServiceManager::from_environment() {
    ServiceManager manager;
    if (const char* path = std::getenv("NOTIFY_SOCKET"); path != nullptr && (path[0] == '/' || path[0] == '@'))
        manager.socket_path_ = path;
    ::unsetenv("NOTIFY_SOCKET");
    return manager;
}

void ServiceManager::notify(std::string_view state) const {
    if (socket_path_.empty()) return;
    sockaddr_un addr{};
    if (socket_path_.size() >= sizeof addr.sun_path) return;
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, socket_path_.data(), socket_path_.size());
    socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path_.size());
    if (addr.sun_path[0] == '@') {
        addr.sun_path[0] = '\0';  // abstract namespace: no terminating NUL counted
    } else {
        length += 1;
    }
    UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) return;
    // systemd learns the sender's pid from the credentials the kernel attaches; with the default
    // NotifyAccess=main it listens to the daemon itself only, which is the one sending.
    (void)::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr),
                   length);
}

bool stderr_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    if (stream == nullptr) return false;
    unsigned long long device = 0, inode = 0;
    if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
    struct stat st{};
    if (::fstat(STDERR_FILENO, &st) != 0) return false;
    return static_cast<unsigned long long>(st.st_dev) == device && static_cast<unsigned long long>(st.st_ino) == inode;
}

}  // namespace sbx::server
