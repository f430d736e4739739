// What a policy means for the jail, worked out once per policy (at load and reload) instead of
// per job: bind globs expanded and classified (directory, file or symlink to recreate), the
// seccomp filter compiled, the base environment flattened, the nftables chains of an egress
// policy written out.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "daemon/jail/nft_rules.hpp"
#include "daemon/jail/seccomp_filter.hpp"
#include "policy/policy.hpp"

namespace sbx::jail {

struct ResolvedBind {
    enum class Kind { directory, file, symlink };
    Kind kind = Kind::directory;
    std::string source;
    std::string target;
    std::string link_text;  // symlink: recreated with the same text (/lib -> usr/lib)
    bool writable = false;
    bool optional = false;
};

struct JailTemplate {
    std::string policy_name;
    std::vector<ResolvedBind> binds;       // parents before children
    policy::FilesystemPolicy filesystem;
    bool etc_is_bound = false;             // else the jail gets generated passwd/group/hosts
    std::unique_ptr<SeccompProgram> seccomp;
    policy::IdRange box_ids;
    std::vector<std::string> base_env;     // "KEY=VALUE"
    policy::NetworkPolicy network;
    nft::PolicyChains nft_chains;          // egress only
};

Result<std::shared_ptr<const JailTemplate>> compile_jail_template(const policy::Policy& policy);

// Binds with their globs expanded and each source classified, parents before children; a
// missing optional source is left out, a missing required one is an error naming it.
Result<std::vector<ResolvedBind>> resolve_binds(const std::vector<policy::BindMount>& binds);

}  // namespace sbx::jail
