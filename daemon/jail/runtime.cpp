#include "daemon/jail/runtime.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <fstream>

#include "daemon/jail/cgroup_fs.hpp"

namespace sbx::jail {

namespace {
int read_last_capability() {
    std::ifstream in("/proc/sys/kernel/cap_last_cap");
    int value = 40;
    in >> value;
    return value;
}
}  // namespace

Result<std::unique_ptr<JailRuntime>> open_jail_runtime(const std::string& runtime_dir, const CgroupOptions& cgroups) {
    auto rt = std::make_unique<JailRuntime>();
    rt->runtime_dir = runtime_dir;
    rt->staging_root = runtime_dir + "/root";
    rt->jobs_dir = runtime_dir + "/jobs";
    for (const std::string& dir : {rt->runtime_dir, rt->staging_root, rt->jobs_dir}) {
        if (auto s = cgfs::ensure_dir(dir); !s) return std::move(s).error().within("runtime directory");
    }
    ::chmod(rt->runtime_dir.c_str(), 0755);
    ::chmod(rt->jobs_dir.c_str(), 0711);  // box uids reach their own workspace, list nothing
    CgroupOptions options = cgroups;
    if (options.favordynmods_mount == "auto") options.favordynmods_mount = runtime_dir + "/cgroup-favordynmods";
    auto backend = open_cgroup_backend(options);
    if (!backend) return std::move(backend).error();
    rt->cgroups = std::move(*backend);
    rt->last_capability = read_last_capability();
    return rt;
}

Status isolate_mount_namespace() {
    if (::unshare(CLONE_NEWNS) != 0) return Error::system("unshare mount namespace");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0)
        return Error::system("make mounts slave");
    return {};
}

}  // namespace sbx::jail
