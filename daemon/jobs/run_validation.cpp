#include "daemon/jobs/run_validation.hpp"

#include "daemon/jobs/access_control.hpp"

namespace sbx::jobs {

namespace {

using protocol::ErrorCode;
using protocol::ProtocolError;

ProtocolError refuse(ErrorCode code, std::string message) { return ProtocolError{code, std::move(message), {}}; }

bool valid_file_name(const std::string& name) {
    if (name.empty() || name.front() == '/' || name.size() > 255 * 4) return false;
    size_t start = 0;
    while (start <= name.size()) {
        size_t end = name.find('/', start);
        if (end == std::string::npos) end = name.size();
        std::string part = name.substr(start, end - start);
        if (part.empty() || part == "." || part == ".." || part.find('\0') != std::string::npos) return false;
        start = end + 1;
    }
    return true;
}

bool valid_env_name(const std::string& name) {
    return !name.empty() && name.find('=') == std::string::npos && name.find('\0') == std::string::npos;
}

}  // namespace

protocol::Decoded<const policy::Policy*> usable_policy(const Registry& registry, const Caller& caller,
                                                       const std::string& name) {
    std::string policy_name = name.empty() ? "default" : name;
    const policy::Policy* policy = registry.catalog().policy(policy_name);
    if (policy == nullptr) return refuse(ErrorCode::unknown_policy, "no policy named '" + policy_name + "'");
    if (!may_use(policy->access, caller))
        return refuse(ErrorCode::forbidden,
                      "uid " + std::to_string(caller.uid) + " may not use policy '" + policy_name + "'");
    return policy;
}

protocol::Decoded<const policy::Language*> available_language(const Registry& registry, const std::string& name) {
    const policy::Language* language = registry.catalog().language(name);
    if (language == nullptr) return refuse(ErrorCode::unknown_language, "no language named '" + name + "'");
    const LanguageState& state = registry.language_state(language->name);
    if (!state.available)
        return refuse(ErrorCode::language_unavailable,
                      "language '" + language->name + "' is unavailable: " + state.reason);
    return language;
}

std::optional<protocol::ProtocolError> check_env(const std::map<std::string, std::string>& env,
                                                 const std::string& field) {
    for (const auto& [key, value] : env) {
        if (!valid_env_name(key)) return refuse(ErrorCode::invalid_request, field + ": invalid name '" + key + "'");
        if (value.find('\0') != std::string::npos)
            return refuse(ErrorCode::invalid_request, field + "." + key + ": NUL byte");
    }
    return std::nullopt;
}

protocol::Decoded<JobSpec> validate_run(std::shared_ptr<const Registry> registry, const Caller& caller,
                                        protocol::RunRequest request) {
    JobSpec spec;
    auto policy = usable_policy(*registry, caller, request.policy);
    if (!policy) return policy.error();
    spec.policy = *policy;
    spec.jail = registry->jail_for(spec.policy->name);

    if (!request.language.empty()) {
        auto language = available_language(*registry, request.language);
        if (!language) return language.error();
        spec.language = *language;
        if (request.source.empty() && request.files.empty())
            return refuse(ErrorCode::invalid_request, "run.source: a language run needs source code or files");
    } else {
        if (request.argv.empty()) return refuse(ErrorCode::invalid_request, "run needs a language or an argv");
        if (request.argv.front().empty()) return refuse(ErrorCode::invalid_request, "run.argv[0] is empty");
    }
    for (const auto& arg : request.argv)
        if (arg.find('\0') != std::string::npos) return refuse(ErrorCode::invalid_request, "run.argv: NUL byte");
    for (const auto& arg : request.args)
        if (arg.find('\0') != std::string::npos) return refuse(ErrorCode::invalid_request, "run.args: NUL byte");

    // A language's stage defaults replace the policy's, capped at its maximums; a request may
    // still ask for anything up to those maximums.
    policy::LimitBounds run_bounds = spec.policy->limits;
    policy::LimitBounds compile_bounds = spec.policy->limits;
    if (spec.language != nullptr) {
        run_bounds = run_bounds.with_defaults(spec.language->run_limits);
        compile_bounds =
            compile_bounds.with_defaults(spec.language->run_limits.overridden_by(spec.language->compile_limits));
    }
    auto limits = policy::resolve_limits(run_bounds, request.limits);
    if (!limits) return refuse(ErrorCode::limit_exceeded, "run.limits: " + limits.error().message());
    spec.limits = *limits;
    auto compile_limits = policy::resolve_limits(compile_bounds, request.compile_limits);
    if (!compile_limits)
        return refuse(ErrorCode::limit_exceeded, "run.compile_limits: " + compile_limits.error().message());
    spec.compile_limits = *compile_limits;
    for (size_t i = 0; i < request.tests.size(); ++i) {
        // A test case's limits start from the run's; the policy bounds both.
        auto case_limits = policy::resolve_limits(run_bounds, request.limits.overridden_by(request.tests[i].limits));
        if (!case_limits)
            return refuse(ErrorCode::limit_exceeded,
                          "run.tests[" + std::to_string(i) + "].limits: " + case_limits.error().message());
        spec.test_limits.push_back(*case_limits);
    }

    std::uint64_t total = request.source.size() + request.stdin_data.size();
    for (size_t i = 0; i < request.files.size(); ++i) {
        const auto& f = request.files[i];
        if (!valid_file_name(f.name))
            return refuse(ErrorCode::invalid_request, "run.files[" + std::to_string(i) + "].name '" + f.name +
                                                          "' must be a relative path without '.' or '..'");
        if (spec.language != nullptr && !request.source.empty() && f.name == spec.language->source_file)
            return refuse(ErrorCode::invalid_request,
                          "run.files[" + std::to_string(i) + "] would overwrite the source file " + f.name);
        total += f.content.size();
    }
    if (total > spec.limits.tmpfs_bytes)
        return refuse(ErrorCode::invalid_request, "run: source, files and stdin total " + policy::format_size(total) +
                                                      ", more than the work directory's " +
                                                      policy::format_size(spec.limits.tmpfs_bytes));
    if (auto e = check_env(request.env, "run.env")) return *e;
    spec.registry = std::move(registry);
    spec.request = std::move(request);
    return spec;
}

}  // namespace sbx::jobs
