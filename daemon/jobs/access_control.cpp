#include "daemon/jobs/access_control.hpp"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <vector>

namespace sbx::jobs {

namespace {

std::optional<unsigned> numeric(const std::string& s) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
    return value;
}

std::optional<uid_t> resolve_user(const std::string& name) {
    if (auto n = numeric(name)) return static_cast<uid_t>(*n);
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) return std::nullopt;
    return found->pw_uid;
}

std::optional<gid_t> resolve_group(const std::string& name) {
    if (auto n = numeric(name)) return static_cast<gid_t>(*n);
    group gr{};
    group* found = nullptr;
    std::vector<char> buf(16384);
    if (::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr) return std::nullopt;
    return found->gr_gid;
}

}  // namespace

bool may_use(const policy::AccessPolicy& access, const Caller& caller) {
    if (caller.is_root()) return true;
    for (const auto& user : access.users)
        if (resolve_user(user) == caller.uid) return true;
    for (const auto& name : access.groups) {
        auto gid = resolve_group(name);
        if (!gid) continue;
        if (*gid == caller.gid) return true;
        if (std::find(caller.groups.begin(), caller.groups.end(), *gid) != caller.groups.end()) return true;
    }
    return false;
}

}  // namespace sbx::jobs
