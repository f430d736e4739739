#include "daemon/jobs/version_probe.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "daemon/jobs/compile_cache.hpp"
#include "daemon/jobs/compile_key.hpp"

namespace sbx::jobs {

std::string first_line(const std::string& text) {
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
        size_t lead = line.find_first_not_of(" \t");
        if (lead != std::string::npos) return line.substr(lead);
        start = end + 1;
    }
    return {};
}

VersionProbe::VersionProbe(boost::asio::io_context& io, jail::JailRuntime& runtime,
                           std::shared_ptr<const Registry> registry, std::string versions_file)
    : io_(io), runtime_(runtime), registry_(std::move(registry)), versions_file_(std::move(versions_file)) {
    if (!versions_file_.empty()) {
        // "<key>\t<version>" per line; a line that does not parse is ignored.
        std::ifstream in(versions_file_);
        std::string line;
        while (std::getline(in, line)) {
            auto tab = line.find('\t');
            if (tab == 64 && is_cache_key(line.substr(0, tab))) remembered_[line.substr(0, tab)] = line.substr(tab + 1);
        }
    }
    for (const auto& [name, lang] : registry_->catalog().languages()) {
        if (!registry_->language_state(name).available || lang.version.empty()) continue;
        std::string argv;
        for (const auto& a : lang.version) argv += a + '\n';
        std::string key = sha256_hex(name + "\n" + compiler_identity(lang) + "\n" + argv);
        keys_[name] = key;
        auto known = remembered_.find(key);
        if (known != remembered_.end()) {
            versions_[name] = known->second;
        } else {
            pending_.push_back(name);
        }
    }
}

void VersionProbe::start() {
    if (started_) return;
    started_ = true;
    probe_next();
}

void VersionProbe::remember(const std::string& language, const std::string& version) {
    versions_[language] = version;
    if (versions_file_.empty()) return;
    remembered_[keys_[language]] = version;
    // Whole file, written aside and renamed: a crash never leaves half of it.
    std::string temp = versions_file_ + ".tmp";
    {
        std::ofstream out(temp, std::ios::trunc);
        for (const auto& [key, v] : remembered_) out << key << '\t' << v << '\n';
        if (!out) {
            spdlog::warn("cannot write {}", temp);
            return;
        }
    }
    if (std::rename(temp.c_str(), versions_file_.c_str()) != 0) spdlog::warn("cannot rename {}", temp);
}

std::string VersionProbe::version(const std::string& language) const {
    auto it = versions_.find(language);
    return it == versions_.end() ? std::string() : it->second;
}

void VersionProbe::probe_next() {
    if (stopped_ || next_ >= pending_.size()) {
        workspace_.reset();
        return;
    }
    const std::string name = pending_[next_];
    const policy::Language* lang = registry_->catalog().language(name);
    const policy::Policy* policy = registry_->catalog().policy("default");
    if (policy == nullptr) policy = &registry_->catalog().policies().begin()->second;
    auto jail = registry_->jail_for(policy->name);
    // The language's own run-stage defaults: a JVM needs more than a policy's defaults.
    policy::Limits limits = policy->limits.with_defaults(lang->run_limits).defaults();
    auto box = runtime_.box_ids.acquire(jail->box_ids);
    if (!box) {
        spdlog::warn("version of {}: {}", name, box.error().message());
        ++next_;
        probe_next();
        return;
    }
    auto ws = jail::Workspace::create(runtime_.jobs_dir, "version-" + name, limits.tmpfs_bytes, std::move(*box));
    if (!ws) {
        spdlog::warn("version of {}: {}", name, ws.error().message());
        ++next_;
        probe_next();
        return;
    }
    workspace_ = std::make_unique<jail::Workspace>(std::move(*ws));
    jail::ExecRequest req;
    req.name = "version-" + name;
    req.argv = lang->expand(lang->version);
    for (const auto& [k, v] : lang->env) req.env.push_back(k + "=" + v);
    req.limits = limits;
    req.limits.output_bytes = 4096;
    req.extra_binds = &registry_->language_state(name).binds;
    current_ = jail::start_execution(io_, runtime_, jail, *workspace_, std::move(req),
                                     [self = shared_from_this(), name](jail::ExecResult r) {
                                         self->current_.reset();
                                         (void)self->workspace_->release();
                                         std::string line = first_line(r.stdout_data);
                                         if (line.empty()) line = first_line(r.stderr_data);
                                         if (r.status == jail::JobStatus::ok && !line.empty()) {
                                             self->remember(name, line);
                                         } else {
                                             spdlog::warn("version of {}: {} {}", name, jail::to_string(r.status),
                                                          r.message);
                                         }
                                         ++self->next_;
                                         self->probe_next();
                                     });
}

}  // namespace sbx::jobs
