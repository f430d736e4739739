#include "daemon/jobs/registry.hpp"

#include <unistd.h>

namespace sbx::jobs {

namespace {

// A language is offered only when every program it needs exists on the host ("./main" and
// other relative programs are built by the compile stage) and so does every path it binds.
LanguageState check_available(const policy::Language& lang) {
    LanguageState state;
    for (const auto* argv : {&lang.compile, &lang.run, &lang.version}) {
        if (argv->empty()) continue;
        const std::string& program = argv->front();
        if (program.empty() || program.front() != '/') continue;
        if (::access(program.c_str(), X_OK) != 0) {
            state.reason = program + " is not installed";
            return state;
        }
    }
    auto binds = jail::resolve_binds(lang.binds);
    if (!binds) {
        state.reason = binds.error().message();  // "bind source /etc/R: No such file or directory"
        return state;
    }
    state.binds = std::move(*binds);
    state.available = true;
    return state;
}

}  // namespace

Result<std::shared_ptr<const Registry>> Registry::load(const std::filesystem::path& policies_dir,
                                                       const std::filesystem::path& languages_dir) {
    auto catalog = policy::Catalog::load(policies_dir, languages_dir);
    if (!catalog) return std::move(catalog).error();
    auto registry = std::make_shared<Registry>();
    registry->catalog_ = std::move(*catalog);
    for (const auto& [name, p] : registry->catalog_.policies()) {
        auto tmpl = jail::compile_jail_template(p);
        if (!tmpl) return std::move(tmpl).error().within(p.source_path);
        registry->jails_[name] = std::move(*tmpl);
    }
    for (const auto& [name, lang] : registry->catalog_.languages()) registry->languages_[name] = check_available(lang);
    return std::shared_ptr<const Registry>(std::move(registry));
}

std::shared_ptr<const jail::JailTemplate> Registry::jail_for(const std::string& policy_name) const {
    auto it = jails_.find(policy_name);
    return it == jails_.end() ? nullptr : it->second;
}

const LanguageState& Registry::language_state(const std::string& language_name) const {
    static const LanguageState unknown{false, "unknown language"};
    auto it = languages_.find(language_name);
    return it == languages_.end() ? unknown : it->second;
}

}  // namespace sbx::jobs
