// Loading the policy and language directories into one catalog, all or nothing.
#include "policy/catalog.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <vector>

#ifndef SANDBOXD_SOURCE_POLICY_DIR
#error "SANDBOXD_SOURCE_POLICY_DIR must be defined by the build (policy/CMakeLists.txt)"
#endif

namespace sbx::policy {
namespace {

std::string lowercase(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

// The *.toml files in `dir`, sorted by name. Hidden files (editor leftovers) are skipped.
Result<std::vector<std::filesystem::path>> toml_files(const std::filesystem::path& dir,
                                                      std::string_view what) {
    const std::string context = std::string(what) + " directory " + dir.string();
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return Error::system(context);
    if (!S_ISDIR(st.st_mode)) return Error::system(context, ENOTDIR);
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    std::filesystem::directory_iterator it(dir, ec);
    if (ec) return Error::system(context, ec.value());
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
        const std::filesystem::path& path = it->path();
        const std::string name = path.filename().string();
        if (path.extension() != ".toml" || name.starts_with('.')) continue;
        if (!it->is_regular_file(ec)) continue;  // follows symlinks, as an operator would expect
        files.push_back(path);
    }
    if (ec) return Error::system(context, ec.value());
    std::sort(files.begin(), files.end());
    return files;
}

Error claimed_twice(const std::string& file, std::string_view what, std::string_view value,
                    const std::string& other_file) {
    return Error::invalid(file, std::string(what) + " '" + std::string(value) +
                                    "' is already defined in " + other_file);
}

}  // namespace

Result<Catalog> Catalog::load(const std::filesystem::path& policies_dir,
                              const std::filesystem::path& languages_dir) {
    Catalog catalog;

    auto policy_files = toml_files(policies_dir, "policy");
    if (!policy_files) return std::move(policy_files).error();
    if (policy_files->empty()) {
        return Error::invalid("no policies in " + policies_dir.string(), "");
    }
    for (const auto& path : *policy_files) {
        auto policy = load_policy_file(path);
        if (!policy) return std::move(policy).error();
        if (auto it = catalog.policies_.find(policy->name); it != catalog.policies_.end()) {
            return claimed_twice(policy->source_path, "policy", policy->name, it->second.source_path);
        }
        std::string name = policy->name;
        catalog.policies_.emplace(std::move(name), std::move(policy).value());
    }

    auto language_files = toml_files(languages_dir, "language");
    if (!language_files) return std::move(language_files).error();
    for (const auto& path : *language_files) {
        auto language = load_language_file(path);
        if (!language) return std::move(language).error();
        const Language& l = *language;
        auto owner_file = [&](const std::string& name) -> const std::string& {
            return catalog.languages_.at(name).source_path;
        };
        // Every key of this file is checked before any is added, so a failure leaves no trace.
        std::vector<std::string> keys{lowercase(l.name)};
        for (const auto& alias : l.aliases) keys.push_back(lowercase(alias));
        for (const auto& key : keys) {
            if (auto it = catalog.language_keys_.find(key); it != catalog.language_keys_.end()) {
                return claimed_twice(l.source_path, "language name or alias", key, owner_file(it->second));
            }
        }
        for (const auto& ext : l.extensions) {
            if (auto it = catalog.extensions_.find(ext); it != catalog.extensions_.end()) {
                return claimed_twice(l.source_path, "extension", ext, owner_file(it->second));
            }
        }
        for (const auto& key : keys) catalog.language_keys_.emplace(key, l.name);
        for (const auto& ext : l.extensions) catalog.extensions_.emplace(ext, l.name);
        std::string name = l.name;
        catalog.languages_.emplace(std::move(name), std::move(language).value());
    }
    return catalog;
}

const Policy* Catalog::policy(std::string_view name) const {
    auto it = policies_.find(std::string(name));
    return it == policies_.end() ? nullptr : &it->second;
}

const Language* Catalog::language(std::string_view name_or_alias) const {
    auto key = language_keys_.find(lowercase(name_or_alias));
    if (key == language_keys_.end()) return nullptr;
    auto it = languages_.find(key->second);
    return it == languages_.end() ? nullptr : &it->second;
}

const Language* Catalog::language_for_extension(std::string_view extension) const {
    auto ext = extensions_.find(std::string(extension));
    if (ext == extensions_.end()) return nullptr;
    auto it = languages_.find(ext->second);
    return it == languages_.end() ? nullptr : &it->second;
}

std::filesystem::path source_tree_policy_dir() { return SANDBOXD_SOURCE_POLICY_DIR; }

}  // namespace sbx::policy
