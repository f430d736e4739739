// The service manager's side channels, without linking libsystemd:
//
// - Readiness (sd_notify(3) protocol): when $NOTIFY_SOCKET names a datagram socket (systemd's
//   Type=notify), state lines such as "READY=1" are sent to it. The variable is read once and
//   removed from the environment, so no job ever inherits it.
// - The journal: when stderr is the journal stream named by $JOURNAL_STREAM, log lines may carry
//   a "<priority>" prefix that journald turns into the entry's level.
//
// Both are no-ops when the daemon runs without systemd.
#pragma once

#include <string>
#include <string_view>

namespace sbx::server {

class ServiceManager {
public:
    // Reads (and unsets) $NOTIFY_SOCKET.
    static ServiceManager from_environment();

    bool supervised() const { return !socket_path_.empty(); }
    // Sends newline-separated assignments ("READY=1\nSTATUS=..."). Failures are ignored: a
    // service manager that cannot be told is not a reason to stop serving.
    void notify(std::string_view state) const;

private:
    std::string socket_path_;  // '@' first: an abstract socket
};

// Whether stderr is connected to the journal ($JOURNAL_STREAM is "<device>:<inode>" of it).
bool stderr_is_journal();

}  // namespace sbx::server
