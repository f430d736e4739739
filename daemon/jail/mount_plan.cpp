#include "daemon/jail/mount_plan.hpp"

#include <sys/mount.h>
#include <sys/sysmacros.h>

#include <algorithm>

namespace sbx::jail {

namespace {
constexpr std::uint64_t kReadOnly = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
constexpr std::uint64_t kWritable = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
}  // namespace

MountPlan::MountPlan(const JailTemplate& jail, const MountPlanInput& input)
    : staging_(input.staging_root), root_options_("size=1m,nr_inodes=4096,mode=0755") {
    steps_.reserve(48);
    dirs_.insert("/");
    add_binds(jail);
    if (input.extra_binds != nullptr) add_extra_binds(jail, *input.extra_binds);

    make_dir("/proc", 0555);
    // hidepid=invisible: a process sees only processes of its own uid (all of the jail's).
    mount_fs("proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible");

    add_dev(jail, input);

    make_dir("/tmp", 01777);
    mount_fs("tmpfs", "/tmp", MS_NOSUID | MS_NODEV,
             "size=" + std::to_string(input.tmpfs_bytes) + ",mode=1777");

    make_parents(jail.filesystem.work_dir);
    make_dir(jail.filesystem.work_dir, 0755);
    bind(input.work_source, jail.filesystem.work_dir, kWritable, false);

    add_etc(jail, input);
}

const char* MountPlan::keep(std::string s) { return strings_.emplace_back(std::move(s)).c_str(); }

void MountPlan::make_parents(const std::string& jail_path) {
    for (size_t pos = jail_path.find('/', 1); pos != std::string::npos; pos = jail_path.find('/', pos + 1))
        make_dir(jail_path.substr(0, pos), 0755);
}

void MountPlan::make_dir(const std::string& jail_path, unsigned mode) {
    if (!dirs_.insert(jail_path).second) return;
    MountStep s{};
    s.op = MountStep::Op::make_dir;
    s.target = keep(in_root(jail_path));
    s.mode = mode;
    steps_.push_back(s);
}

void MountPlan::bind(const std::string& source, const std::string& jail_path, std::uint64_t attr, bool optional) {
    MountStep s{};
    s.op = MountStep::Op::bind;
    s.source = keep(source);
    s.target = keep(in_root(jail_path));
    s.attr = attr;
    s.optional = optional;
    steps_.push_back(s);
}

void MountPlan::mount_fs(const char* fstype, const std::string& jail_path, unsigned long flags, std::string data) {
    MountStep s{};
    s.op = MountStep::Op::mount_fs;
    s.source = fstype;
    s.fstype = fstype;
    s.target = keep(in_root(jail_path));
    s.flags = flags;
    s.data = keep(std::move(data));
    steps_.push_back(s);
}

void MountPlan::symlink(const std::string& link_text, const std::string& jail_path) {
    MountStep s{};
    s.op = MountStep::Op::symlink;
    s.source = keep(link_text);
    s.target = keep(in_root(jail_path));
    steps_.push_back(s);
}

void MountPlan::make_node(const std::string& jail_path, unsigned major, unsigned minor) {
    MountStep s{};
    s.op = MountStep::Op::make_node;
    s.target = keep(in_root(jail_path));
    s.mode = 0666;
    s.dev = makedev(major, minor);
    steps_.push_back(s);
}

void MountPlan::write_file(const std::string& jail_path, std::string content, unsigned mode) {
    MountStep s{};
    s.op = MountStep::Op::write_file;
    s.target = keep(in_root(jail_path));
    const std::string& kept = strings_.emplace_back(std::move(content));
    s.content = kept.data();
    s.content_len = kept.size();
    s.mode = mode;
    steps_.push_back(s);
}

void MountPlan::add_bind(const ResolvedBind& b, std::uint64_t attr) {
    make_parents(b.target);
    switch (b.kind) {
        case ResolvedBind::Kind::symlink:
            symlink(b.link_text, b.target);
            break;
        case ResolvedBind::Kind::directory:
            make_dir(b.target, 0755);
            bind(b.source, b.target, attr, b.optional);
            break;
        case ResolvedBind::Kind::file:
            write_file(b.target, {}, 0644);
            bind(b.source, b.target, attr, b.optional);
            break;
    }
}

void MountPlan::add_binds(const JailTemplate& jail) {
    for (const auto& b : jail.binds) add_bind(b, b.writable ? kWritable : kReadOnly);
}

void MountPlan::add_extra_binds(const JailTemplate& jail, const std::vector<ResolvedBind>& binds) {
    auto at_or_under = [](const std::string& path, const std::string& dir) {
        return path == dir || (path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/');
    };
    for (const auto& b : binds) {
        // Visible already (and a mount point could not be made inside a read-only bind), or
        // where the jail mounts its work directory.
        bool shown = std::any_of(jail.binds.begin(), jail.binds.end(), [&](const ResolvedBind& p) {
            return p.kind == ResolvedBind::Kind::directory && at_or_under(b.target, p.target);
        });
        if (shown || at_or_under(b.target, jail.filesystem.work_dir)) continue;
        add_bind(b, kReadOnly);
    }
}

void MountPlan::add_dev(const JailTemplate& jail, const MountPlanInput& input) {
    make_dir("/dev", 0755);
    mount_fs("tmpfs", "/dev", MS_NOSUID | MS_NOEXEC, "size=64k,nr_inodes=64,mode=0755");
    make_node("/dev/null", 1, 3);
    make_node("/dev/zero", 1, 5);
    make_node("/dev/full", 1, 7);
    make_node("/dev/random", 1, 8);
    make_node("/dev/urandom", 1, 9);
    symlink("/proc/self/fd", "/dev/fd");
    symlink("/proc/self/fd/0", "/dev/stdin");
    symlink("/proc/self/fd/1", "/dev/stdout");
    symlink("/proc/self/fd/2", "/dev/stderr");
    if (jail.filesystem.dev_shm) {
        make_dir("/dev/shm", 01777);
        mount_fs("tmpfs", "/dev/shm", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 "size=" + std::to_string(input.tmpfs_bytes) + ",mode=1777");
    }
    if (jail.filesystem.dev_pts) {
        make_dir("/dev/pts", 0755);
        mount_fs("devpts", "/dev/pts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620");
        symlink("pts/ptmx", "/dev/ptmx");
    }
}

void MountPlan::add_etc(const JailTemplate& jail, const MountPlanInput& input) {
    if (jail.etc_is_bound) return;
    const std::string uid = std::to_string(input.uid);
    const std::string gid = std::to_string(input.gid);
    const std::string& home = jail.filesystem.work_dir;
    make_dir("/etc", 0755);
    // getpwuid() of the box uid finds a name, and the hostname resolves without DNS.
    write_file("/etc/passwd",
               "root:x:0:0:root:/root:/usr/sbin/nologin\n"
               "sandbox:x:" + uid + ":" + gid + ":sandbox:" + home + ":/bin/sh\n"
               "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
               0644);
    write_file("/etc/group", "root:x:0:\nsandbox:x:" + gid + ":\nnogroup:x:65534:\n", 0644);
    write_file("/etc/hosts", "127.0.0.1\tlocalhost " + jail.filesystem.hostname + "\n::1\tlocalhost\n", 0644);
    // Egress jails resolve names through the policy's resolvers (the rules let port 53 to them
    // through); without any, there is no resolv.conf and only addresses work.
    if (!jail.network.dns.empty()) {
        std::string resolv;
        for (const auto& server : jail.network.dns) resolv += "nameserver " + server.to_string() + "\n";
        resolv += "options timeout:2 attempts:2\n";
        write_file("/etc/resolv.conf", std::move(resolv), 0644);
    }
}

std::string MountPlan::describe(std::size_t index) const {
    if (index >= steps_.size()) return "step " + std::to_string(index);
    const MountStep& s = steps_[index];
    std::string target = s.target != nullptr ? std::string(s.target).substr(staging_.size()) : "";
    switch (s.op) {
        case MountStep::Op::make_dir: return "mkdir " + target;
        case MountStep::Op::bind: return "bind " + std::string(s.source) + " on " + target;
        case MountStep::Op::mount_fs: return "mount " + std::string(s.fstype) + " on " + target;
        case MountStep::Op::symlink: return "symlink " + target + " -> " + s.source;
        case MountStep::Op::make_node: return "mknod " + target;
        case MountStep::Op::write_file: return "write " + target;
    }
    return "step " + std::to_string(index);
}

}  // namespace sbx::jail
