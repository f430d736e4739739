// The policies and languages in force, with each policy's compiled jail template and each
// language's availability. Immutable once built: a reload builds a new Registry and swaps the
// pointer, so running jobs keep the set they started with and a broken file changes nothing.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "daemon/jail/jail_template.hpp"
#include "policy/catalog.hpp"

namespace sbx::jobs {

struct LanguageState {
    bool available = false;
    std::string reason;  // why not available: "/usr/bin/pypy3 is not installed"
    std::vector<jail::ResolvedBind> binds;  // the language's own read-only binds, resolved
};

class Registry {
public:
    static Result<std::shared_ptr<const Registry>> load(const std::filesystem::path& policies_dir,
                                                        const std::filesystem::path& languages_dir);

    const policy::Catalog& catalog() const { return catalog_; }
    std::shared_ptr<const jail::JailTemplate> jail_for(const std::string& policy_name) const;
    const LanguageState& language_state(const std::string& language_name) const;

private:
    policy::Catalog catalog_;
    std::map<std::string, std::shared_ptr<const jail::JailTemplate>> jails_;
    std::map<std::string, LanguageState> languages_;
};

}  // namespace sbx::jobs
