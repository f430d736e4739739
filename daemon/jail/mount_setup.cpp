// Child side of the jail's filesystem: a fresh tmpfs root on the staging directory, the
// planned steps (binds, /proc, /dev, /tmp, work dir, /etc files), pivot_root into it, detach
// the old root, and make the root itself read-only.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include "daemon/jail/child_steps.hpp"

namespace sbx::jail {

namespace {

bool write_all(int fd, const char* data, std::size_t len) noexcept {
    while (len > 0) {
        ssize_t n = ::write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data += n;
        len -= static_cast<std::size_t>(n);
    }
    return true;
}

// True on success; otherwise errno says why.
bool run_step(const MountStep& s) noexcept {
    switch (s.op) {
        case MountStep::Op::make_dir:
            return ::mkdir(s.target, s.mode) == 0 || errno == EEXIST;
        case MountStep::Op::bind: {
            if (::mount(s.source, s.target, nullptr, MS_BIND | MS_REC, nullptr) != 0)
                return s.optional && errno == ENOENT;
            mount_attr attr{};
            attr.attr_set = s.attr;
            return ::mount_setattr(AT_FDCWD, s.target, AT_RECURSIVE, &attr, sizeof attr) == 0;
        }
        case MountStep::Op::mount_fs:
            return ::mount(s.source, s.target, s.fstype, s.flags, s.data) == 0;
        case MountStep::Op::symlink:
            return ::symlink(s.source, s.target) == 0;
        case MountStep::Op::make_node:
            return ::mknod(s.target, S_IFCHR | s.mode, static_cast<dev_t>(s.dev)) == 0;
        case MountStep::Op::write_file: {
            int fd = ::open(s.target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, s.mode);
            if (fd < 0) return false;
            bool ok = write_all(fd, s.content, s.content_len);
            int saved = errno;
            ::close(fd);
            errno = saved;
            return ok;
        }
    }
    errno = EINVAL;
    return false;
}

}  // namespace

bool build_root_filesystem(const LaunchPlan& p, StepError* e) noexcept {
    // Nothing we mount may propagate back to the host, nor host mounts into the jail.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return fail_step(e, SetupStep::mount_private);
    if (::mount("tmpfs", p.staging_root, "tmpfs", MS_NOSUID | MS_NODEV, p.root_tmpfs_options) != 0)
        return fail_step(e, SetupStep::mount_root);
    for (std::size_t i = 0; i < p.mount_step_count; ++i)
        if (!run_step(p.mount_steps[i])) return fail_step(e, SetupStep::mount_step, static_cast<int>(i));

    // pivot_root(".", ".") stacks the old root under the new one; detaching "." then drops it.
    if (::chdir(p.staging_root) != 0 || ::syscall(SYS_pivot_root, ".", ".") != 0)
        return fail_step(e, SetupStep::pivot_root);
    if (::umount2(".", MNT_DETACH) != 0 || ::chdir("/") != 0) return fail_step(e, SetupStep::pivot_root);
    if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0)
        return fail_step(e, SetupStep::remount_root);
    return true;
}

}  // namespace sbx::jail
