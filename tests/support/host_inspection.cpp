#include "tests/support/host_inspection.hpp"

#include <dirent.h>

#include "common/text_file.hpp"
#include "daemon/jail/cgroup_discovery.hpp"
#include "daemon/jail/cgroup_fs.hpp"

namespace sbx::testing {

int processes_with(const std::string& marker) {
    int n = 0;
    DIR* proc = opendir("/proc");
    while (dirent* e = readdir(proc)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        if (read_text_file(std::string("/proc/") + e->d_name + "/cmdline").find(marker) != std::string::npos) ++n;
    }
    closedir(proc);
    return n;
}

std::vector<std::string> job_cgroup_dirs(const std::string& subtree) {
    std::vector<std::string> out;
    auto layout = jail::read_cgroup_layout();
    if (!layout) return out;
    for (const auto& m : layout->mounts) {
        for (const auto& member : layout->memberships) {
            bool same = m.unified ? member.controllers.empty() : member.controllers == m.controllers;
            if (!same) continue;
            auto dir = jail::cgroup_dir_in_mount(m, member.path);
            if (!dir) continue;
            std::string jobs = *dir + "/" + subtree + "/jobs";
            if (auto subdirs = jail::cgfs::list_subdirs(jobs))
                for (const auto& s : *subdirs) out.push_back(jobs + "/" + s);
        }
    }
    return out;
}

}  // namespace sbx::testing
