// pidfd_send_signal through syscall(2): glibc 2.36's <sys/pidfd.h> lacks C++ linkage.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

namespace sbx::jail {

inline int pidfd_signal(int pidfd, int sig) {
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

}  // namespace sbx::jail
