#include "daemon/server/stale_cleanup.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/mount.h>

#include <filesystem>
#include <sstream>

#include "common/text_file.hpp"

namespace sbx::server {

namespace {

// The real uid from /proc/<pid>/status, or -1; also -1 for zombies, which are dead already
// and only wait for their parent (or init) to reap them.
long uid_of(const std::string& pid) {
    std::istringstream status(read_text_file("/proc/" + pid + "/status"));
    std::string line;
    long uid = -1;
    while (std::getline(status, line)) {
        if (line.rfind("State:", 0) == 0 && line.find('Z') != std::string::npos) return -1;
        if (line.rfind("Uid:", 0) == 0) uid = std::strtol(line.c_str() + 4, nullptr, 10);
    }
    return uid;
}

bool in_box_range(long uid, const jobs::Registry& registry) {
    for (const auto& [name, p] : registry.catalog().policies()) {
        if (uid >= static_cast<long>(p.box_ids.first) && uid < static_cast<long>(p.box_ids.first + p.box_ids.count))
            return true;
    }
    return false;
}

void remove_box_processes(const jobs::Registry& registry, const std::string& subtree, CleanupReport& report) {
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return;
    const std::string ours = "/" + subtree + "/jobs/";
    while (dirent* e = ::readdir(proc)) {
        std::string pid = e->d_name;
        if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
        long uid = uid_of(pid);
        if (uid < 0 || !in_box_range(uid, registry)) continue;
        std::string cgroups = read_text_file("/proc/" + pid + "/cgroup");
        if (cgroups.find(ours) != std::string::npos) {
            ::kill(std::stoi(pid), SIGKILL);
            report.removed.push_back("process " + pid + " (uid " + std::to_string(uid) + ")");
        } else {
            report.warnings.push_back("process " + pid + " runs as box uid " + std::to_string(uid) +
                                      " outside sandboxd's cgroups; left alone");
        }
    }
    ::closedir(proc);
}

void remove_workspaces(const std::string& jobs_dir, CleanupReport& report) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(jobs_dir, ec)) {
        std::string path = entry.path().string();
        ::umount2(path.c_str(), MNT_DETACH);  // only mounted if the daemon shared the host's namespace
        std::filesystem::remove_all(entry.path(), ec);
        report.removed.push_back("workspace " + path);
    }
}

}  // namespace

CleanupReport remove_leftovers(jail::JailRuntime& runtime, const jobs::Registry& registry,
                               const std::string& cgroup_subtree) {
    CleanupReport report;
    // Processes first, by cgroup: a stale cgroup's processes die with it.
    auto cgroups = runtime.cgroups->remove_stale_jobs();
    if (cgroups) {
        for (auto& path : *cgroups) report.removed.push_back("cgroup " + path);
    } else {
        report.warnings.push_back(cgroups.error().message());
    }
    remove_box_processes(registry, cgroup_subtree, report);
    remove_workspaces(runtime.jobs_dir, report);
    return report;
}

}  // namespace sbx::server
