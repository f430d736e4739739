#include "daemon/jail/cgroup_discovery.hpp"

#include <set>

#include "common/text_file.hpp"

namespace sbx::jail {

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view in) {
    std::string out;
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '\\' && i + 3 < in.size()) {
            int v = (in[i + 1] - '0') * 64 + (in[i + 2] - '0') * 8 + (in[i + 3] - '0');
            out.push_back(static_cast<char>(v));
            i += 3;
        } else {
            out.push_back(in[i]);
        }
    }
    return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    size_t start = 0;
    while (start <= s.size()) {
        size_t end = s.find(sep, start);
        if (end == std::string_view::npos) end = s.size();
        parts.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

bool is_v1_controller(std::string_view name) {
    static const std::set<std::string_view> known = {
        "cpu",   "cpuacct",    "cpuset",   "memory",  "devices", "freezer", "net_cls",
        "blkio", "perf_event", "net_prio", "hugetlb", "pids",    "rdma",    "misc"};
    return known.count(name) != 0;
}

}  // namespace

std::vector<CgroupMount> parse_cgroup_mounts(std::string_view mountinfo) {
    std::vector<CgroupMount> mounts;
    for (std::string_view line : split(mountinfo, '\n')) {
        if (line.empty()) continue;
        auto fields = split(line, ' ');
        // id parent dev root mount_point options [optional...] - fstype source super_options
        size_t dash = 0;
        for (size_t i = 6; i < fields.size(); ++i) {
            if (fields[i] == "-") {
                dash = i;
                break;
            }
        }
        if (dash == 0 || dash + 3 >= fields.size()) continue;
        std::string_view fstype = fields[dash + 1];
        if (fstype != "cgroup" && fstype != "cgroup2") continue;
        CgroupMount m;
        m.root = unescape_octal(fields[3]);
        m.mount_point = unescape_octal(fields[4]);
        m.unified = fstype == "cgroup2";
        if (!m.unified) {
            for (std::string_view opt : split(fields[dash + 3], ','))
                if (is_v1_controller(opt)) m.controllers.emplace_back(opt);
            if (m.controllers.empty()) continue;  // named hierarchies (name=systemd)
        }
        mounts.push_back(std::move(m));
    }
    return mounts;
}

std::vector<CgroupMembership> parse_proc_cgroup(std::string_view text) {
    std::vector<CgroupMembership> out;
    for (std::string_view line : split(text, '\n')) {
        if (line.empty()) continue;
        size_t first = line.find(':');
        size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
        if (second == std::string_view::npos) continue;
        CgroupMembership m;
        std::string_view ctrls = line.substr(first + 1, second - first - 1);
        if (!ctrls.empty()) {
            for (std::string_view c : split(ctrls, ','))
                if (is_v1_controller(c)) m.controllers.emplace_back(c);
            if (m.controllers.empty()) continue;  // name=systemd and friends
        }
        m.path = std::string(line.substr(second + 1));
        out.push_back(std::move(m));
    }
    return out;
}

Result<std::string> cgroup_dir_in_mount(const CgroupMount& mount, const std::string& own_path) {
    if (mount.root == "/") return own_path == "/" ? mount.mount_point : mount.mount_point + own_path;
    if (own_path == mount.root) return mount.mount_point;
    if (own_path.rfind(mount.root + "/", 0) == 0)
        return mount.mount_point + own_path.substr(mount.root.size());
    return Error::invalid("cgroup " + own_path,
                          "not visible in the mount at " + mount.mount_point + " (its root is " +
                              mount.root + ")");
}

Result<CgroupLayout> read_cgroup_layout() {
    CgroupLayout layout;
    std::string mountinfo = read_text_file("/proc/self/mountinfo");
    if (mountinfo.empty()) return Error::invalid("/proc/self/mountinfo", "empty or unreadable");
    std::string cgroups = read_text_file("/proc/self/cgroup");
    if (cgroups.empty()) return Error::invalid("/proc/self/cgroup", "empty or unreadable");
    layout.mounts = parse_cgroup_mounts(mountinfo);
    layout.memberships = parse_proc_cgroup(cgroups);
    return layout;
}

}  // namespace sbx::jail
