#include "daemon/jail/jail_template.hpp"

#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace sbx::jail {

namespace {

bool has_glob(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

std::size_t depth(const std::string& path) { return static_cast<std::size_t>(std::count(path.begin(), path.end(), '/')); }

Result<ResolvedBind> classify(const std::string& source, const std::string& target, const policy::BindMount& b) {
    ResolvedBind r;
    r.source = source;
    r.target = target;
    r.writable = b.writable;
    r.optional = b.optional;
    struct stat st{};
    if (::lstat(source.c_str(), &st) != 0) return Error::system("bind source " + source);
    if (S_ISLNK(st.st_mode)) {
        char buf[4096];
        ssize_t n = ::readlink(source.c_str(), buf, sizeof buf - 1);
        if (n < 0) return Error::system("readlink " + source);
        r.kind = ResolvedBind::Kind::symlink;
        r.link_text.assign(buf, static_cast<size_t>(n));
    } else if (S_ISDIR(st.st_mode)) {
        r.kind = ResolvedBind::Kind::directory;
    } else if (S_ISREG(st.st_mode)) {
        r.kind = ResolvedBind::Kind::file;
    } else {
        return Error::invalid("bind source " + source, "not a directory, regular file or symlink");
    }
    return r;
}

}  // namespace

Result<std::vector<ResolvedBind>> resolve_binds(const std::vector<policy::BindMount>& binds) {
    std::vector<ResolvedBind> out;
    for (const auto& b : binds) {
        if (!has_glob(b.source)) {
            struct stat st{};
            if (::lstat(b.source.c_str(), &st) != 0 && errno == ENOENT && b.optional) continue;
            auto r = classify(b.source, b.target.empty() ? b.source : b.target, b);
            if (!r) return std::move(r).error();
            out.push_back(std::move(*r));
            continue;
        }
        glob_t g{};
        int rc = ::glob(b.source.c_str(), GLOB_NOSORT, nullptr, &g);
        if (rc == GLOB_NOMATCH) {
            ::globfree(&g);
            if (b.optional) continue;
            return Error::invalid("bind source " + b.source, "matches nothing");
        }
        if (rc != 0) {
            ::globfree(&g);
            return Error::invalid("bind source " + b.source, "glob failed");
        }
        for (size_t i = 0; i < g.gl_pathc; ++i) {
            auto r = classify(g.gl_pathv[i], g.gl_pathv[i], b);  // a glob binds each match onto itself
            if (!r) {
                ::globfree(&g);
                return std::move(r).error();
            }
            out.push_back(std::move(*r));
        }
        ::globfree(&g);
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const ResolvedBind& a, const ResolvedBind& b) { return depth(a.target) < depth(b.target); });
    return out;
}

Result<std::shared_ptr<const JailTemplate>> compile_jail_template(const policy::Policy& policy) {
    auto t = std::make_shared<JailTemplate>();
    t->policy_name = policy.name;
    t->filesystem = policy.filesystem;
    t->box_ids = policy.box_ids;
    auto binds = resolve_binds(policy.filesystem.binds);
    if (!binds) return std::move(binds).error().within("policy " + policy.name);
    t->binds = std::move(*binds);
    t->etc_is_bound = std::any_of(t->binds.begin(), t->binds.end(),
                                  [](const ResolvedBind& b) { return b.target == "/etc"; });
    t->network = policy.network;
    if (policy.network.mode == policy::NetworkMode::egress) {
        // The jail's /etc/resolv.conf is written into the generated /etc; a bound host /etc
        // would show the host's resolvers instead.
        if (t->etc_is_bound && !policy.network.dns.empty())
            return Error::invalid("policy " + policy.name,
                                  "network.dns needs the jail's generated /etc, but the policy binds the host's /etc");
        t->nft_chains = nft::policy_chains(policy.network);
    }
    auto seccomp = compile_seccomp(policy.seccomp);
    if (!seccomp) return std::move(seccomp).error().within("policy " + policy.name);
    t->seccomp = std::move(*seccomp);
    // HOME is the work dir unless the policy sets it.
    if (policy.env.count("HOME") == 0) t->base_env.push_back("HOME=" + policy.filesystem.work_dir);
    for (const auto& [key, value] : policy.env) t->base_env.push_back(key + "=" + value);
    return std::shared_ptr<const JailTemplate>(std::move(t));
}

}  // namespace sbx::jail
