// The payload: from fork to execve of the user's program. Order matters: stdio and fds first
// (so nothing of the daemon's leaks), then limits, then identity, and the seccomp filter last,
// right before execve, so the setup itself needs none of the denied calls.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "daemon/jail/child_steps.hpp"

namespace sbx::jail {

namespace {

constexpr int kStatusFd = 3;  // the status pipe's place in the payload, close-on-exec

// Moves stdin/stdout/stderr/status to 0..3. They are first copied to >= 4 so a dup2 onto a
// low number can never overwrite a source that sits there.
bool install_stdio(const LaunchPlan& p, StepError* e) noexcept {
    int src[4] = {p.stdin_fd, p.stdout_fd, p.stderr_fd, p.status_fd};
    int high[4];
    for (int i = 0; i < 4; ++i) {
        high[i] = ::fcntl(src[i], F_DUPFD_CLOEXEC, 4);
        if (high[i] < 0) return fail_step(e, SetupStep::stdio);
    }
    for (int i = 0; i < 3; ++i)
        if (::dup2(high[i], i) != i) return fail_step(e, SetupStep::stdio);
    if (::dup3(high[3], kStatusFd, O_CLOEXEC) != kStatusFd) return fail_step(e, SetupStep::stdio);
    return true;
}

bool close_inherited_fds(StepError* e) noexcept {
    if (::close_range(kStatusFd + 1, ~0u, 0) != 0) return fail_step(e, SetupStep::close_fds);
    return true;
}

const char* find_path_variable(const char* const* envp) noexcept {
    for (; *envp != nullptr; ++envp)
        if (std::strncmp(*envp, "PATH=", 5) == 0) return *envp + 5;
    return "/usr/local/bin:/usr/bin:/bin";
}

// execvpe without allocation: a name without '/' is looked up in the jail's PATH.
void exec_program(const LaunchPlan& p) noexcept {
    const char* name = p.argv[0];
    if (std::strchr(name, '/') != nullptr) {
        ::execve(name, const_cast<char* const*>(p.argv), const_cast<char* const*>(p.envp));
        return;
    }
    const char* path = find_path_variable(p.envp);
    std::size_t name_len = std::strlen(name);
    int first_error = ENOENT;
    char candidate[4096];
    while (*path != '\0') {
        const char* end = std::strchr(path, ':');
        std::size_t dir_len = end != nullptr ? static_cast<std::size_t>(end - path) : std::strlen(path);
        if (dir_len > 0 && dir_len + 1 + name_len < sizeof candidate) {
            std::memcpy(candidate, path, dir_len);
            candidate[dir_len] = '/';
            std::memcpy(candidate + dir_len + 1, name, name_len + 1);
            ::execve(candidate, const_cast<char* const*>(p.argv), const_cast<char* const*>(p.envp));
            if (errno != ENOENT && errno != ENOTDIR && first_error == ENOENT) first_error = errno;
        }
        if (end == nullptr) break;
        path = end + 1;
    }
    errno = first_error;
}

}  // namespace

void run_payload(const LaunchPlan& p) noexcept {
    StepError e;
    int status_fd = p.status_fd;
    if (::setsid() < 0) {
        fail_step(&e, SetupStep::setsid);
        report_failure_and_exit(status_fd, e);
    }
    if (!install_stdio(p, &e)) report_failure_and_exit(status_fd, e);
    status_fd = kStatusFd;
    bool ready = close_inherited_fds(&e) &&
                 (::chdir(p.cwd) == 0 || fail_step(&e, SetupStep::chdir)) && apply_rlimits(p, &e) &&
                 drop_privileges(p, &e) && install_seccomp(p.seccomp, &e);
    if (!ready) report_failure_and_exit(status_fd, e);
    ::umask(022);
    exec_program(p);
    fail_step(&e, SetupStep::execve);
    report_failure_and_exit(status_fd, e);
}

}  // namespace sbx::jail
