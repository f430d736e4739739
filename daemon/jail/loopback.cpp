// A new network namespace has `lo` down; bring it up so local sockets work inside the jail.
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "daemon/jail/child_steps.hpp"

namespace sbx::jail {

bool bring_up_loopback(StepError* e) noexcept {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    bool ok = fd >= 0;
    if (ok) {
        ifreq req{};
        std::memcpy(req.ifr_name, "lo", 3);
        ok = ::ioctl(fd, SIOCGIFFLAGS, &req) == 0;
        if (ok && (req.ifr_flags & IFF_UP) == 0) {
            req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
            ok = ::ioctl(fd, SIOCSIFFLAGS, &req) == 0;
        }
    }
    if (!ok) fail_step(e, SetupStep::loopback);
    if (fd >= 0) ::close(fd);
    return ok;
}

}  // namespace sbx::jail
