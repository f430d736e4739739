// The loaded set of policies and languages. Loading is all-or-nothing: one bad file fails the
// whole load (so a reload keeps the old catalog), and the error names that file and line.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "policy/language.hpp"
#include "policy/policy.hpp"

namespace sbx::policy {

class Catalog {
public:
    // Reads every *.toml in each directory (sorted by name). Duplicate policy names, or a
    // language name/alias/extension claimed twice, are errors naming both files.
    static Result<Catalog> load(const std::filesystem::path& policies_dir,
                                const std::filesystem::path& languages_dir);

    const Policy* policy(std::string_view name) const;
    // By name or alias, case-insensitive.
    const Language* language(std::string_view name_or_alias) const;
    // By file extension without the dot ("py"); nullptr when none claims it.
    const Language* language_for_extension(std::string_view extension) const;

    const std::map<std::string, Policy>& policies() const { return policies_; }
    const std::map<std::string, Language>& languages() const { return languages_; }

private:
    std::map<std::string, Policy> policies_;
    std::map<std::string, Language> languages_;
    std::map<std::string, std::string> language_keys_;  // lowercase name/alias -> name
    std::map<std::string, std::string> extensions_;     // extension -> name
};

// The directory holding policies/ and languages/ in the source tree (set at build time), used
// when the daemon runs from a checkout.
std::filesystem::path source_tree_policy_dir();

}  // namespace sbx::policy
