// Picks the cgroup backend: v2 when the unified hierarchy offers memory, pids and cpu to the
// daemon's cgroup, else v1 when those controllers are mounted as v1 hierarchies.

#include "common/text_file.hpp"
#include "daemon/jail/cgroup.hpp"
#include "daemon/jail/cgroup_discovery.hpp"
#include "daemon/jail/cgroup_fs.hpp"
#include "daemon/jail/cgroup_v1.hpp"
#include "daemon/jail/cgroup_v2.hpp"

namespace sbx::jail {

namespace {

bool offers_v2_controllers(const std::string& own_dir) {
    std::string text = " " + read_text_file(own_dir + "/cgroup.controllers");
    for (const char* c : {"memory", "pids", "cpu"}) {
        if (text.find(std::string(" ") + c + " ") == std::string::npos &&
            text.find(std::string(" ") + c + "\n") == std::string::npos)
            return false;
    }
    return true;
}

// The daemon may already sit in the leaf it moved itself into on v2: its "own" cgroup is then
// the one above <subtree>/daemon.
std::string strip_own_leaf(std::string path, const std::string& subtree) {
    std::string leaf = "/" + subtree + "/daemon";
    if (path.size() >= leaf.size() && path.compare(path.size() - leaf.size(), leaf.size(), leaf) == 0) {
        path.resize(path.size() - leaf.size());
        if (path.empty()) path = "/";
    }
    return path;
}

Result<std::string> own_v2_dir(const CgroupLayout& layout, const std::string& subtree) {
    const CgroupMembership* member = nullptr;
    for (const auto& m : layout.memberships)
        if (m.controllers.empty()) member = &m;
    if (member == nullptr) return Error::invalid("cgroup v2", "/proc/self/cgroup has no unified entry");
    for (const auto& mount : layout.mounts) {
        if (!mount.unified) continue;
        auto dir = cgroup_dir_in_mount(mount, strip_own_leaf(member->path, subtree));
        if (dir) return dir;
    }
    return Error::invalid("cgroup v2", "no cgroup2 mount shows this process's cgroup");
}

std::vector<CgroupV1Hierarchy> v1_hierarchies(const CgroupLayout& layout) {
    std::vector<CgroupV1Hierarchy> out;
    for (const auto& mount : layout.mounts) {
        if (mount.unified) continue;
        bool seen = false;
        for (const auto& h : out) seen = seen || h.controllers == mount.controllers;
        if (seen) continue;  // the same hierarchy mounted twice
        for (const auto& m : layout.memberships) {
            if (m.controllers != mount.controllers) continue;
            if (auto dir = cgroup_dir_in_mount(mount, m.path)) out.push_back({mount.controllers, *dir});
        }
    }
    return out;
}

Result<std::unique_ptr<CgroupBackend>> open_fake(const CgroupOptions& options) {
    std::string own = options.fake_own_path == "/" ? "" : options.fake_own_path;
    if (options.version == CgroupVersion::v1) {
        std::vector<CgroupV1Hierarchy> hierarchies;
        for (const char* c : {"memory", "pids", "cpu", "cpuacct", "freezer"})
            hierarchies.push_back({{c}, options.fake_root + "/" + c + own});
        return open_cgroup_v1(std::move(hierarchies), options.subtree);
    }
    return open_cgroup_v2({options.fake_root + own, options.subtree, {"memory", "pids", "cpu"}});
}

}  // namespace

Result<std::unique_ptr<CgroupBackend>> open_cgroup_backend(const CgroupOptions& options) {
    if (!options.fake_root.empty()) {
        if (options.version == CgroupVersion::automatic)
            return Error::invalid("cgroup options", "a fake cgroup tree needs an explicit version");
        return open_fake(options);
    }
    auto layout = read_cgroup_layout();
    if (!layout) return std::move(layout).error();

    auto v2_dir = own_v2_dir(*layout, options.subtree);
    bool v2_usable = v2_dir && offers_v2_controllers(*v2_dir);
    if (options.version == CgroupVersion::v2 || (options.version == CgroupVersion::automatic && v2_usable)) {
        if (!v2_dir) return std::move(v2_dir).error();
        return open_cgroup_v2({*v2_dir, options.subtree, {"memory", "pids", "cpu"}});
    }
    auto v1 = open_cgroup_v1(v1_hierarchies(*layout), options.subtree, options.favordynmods_mount);
    if (!v1 && options.version == CgroupVersion::automatic) {
        Error e = std::move(v1).error();
        e.detail += "; and cgroup v2 " +
                    (v2_dir ? "at " + *v2_dir + " does not offer memory, pids and cpu" : v2_dir.error().message());
        return e;
    }
    return v1;
}

}  // namespace sbx::jail
