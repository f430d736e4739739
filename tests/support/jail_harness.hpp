// Shared set-up for tests that run real jails (as root): a private mount namespace, a runtime
// directory and a cgroup subtree of their own (named after the test process, removed at the
// end even when tests fail), the shipped default policy, and a one-call `run`.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/jail/execution.hpp"
#include "daemon/jail/jail_template.hpp"
#include "daemon/jail/runtime.hpp"
#include "policy/policy.hpp"

namespace sbx::testing {

struct RunOptions {
    std::string stdin_data;
    std::vector<std::string> env;
    std::map<std::string, std::string> files;  // written into the workspace first
    std::optional<policy::Limits> limits;      // default: the default policy's defaults
};

class JailHarness {
public:
    // Sets the process up once; aborts the test program with a message when not root.
    static JailHarness& get();

    jail::JailRuntime& runtime() { return *runtime_; }
    const policy::Policy& default_policy() const { return policy_; }
    std::shared_ptr<const jail::JailTemplate> default_template() const { return template_; }
    policy::Limits default_limits() const { return policy_.limits.defaults(); }

    // Runs argv in a fresh jail with a fresh workspace.
    jail::ExecResult run(std::vector<std::string> argv, const RunOptions& options = {});
    jail::ExecResult sh(const std::string& script, const RunOptions& options = {});
    jail::ExecResult py(const std::string& code, const RunOptions& options = {});
    // A template of the default policy changed by `edit`.
    std::shared_ptr<const jail::JailTemplate> template_with(const std::function<void(policy::Policy&)>& edit);
    jail::ExecResult run_with(std::shared_ptr<const jail::JailTemplate> jail, std::vector<std::string> argv,
                              const RunOptions& options = {});

    Result<jail::Workspace> make_workspace(const policy::IdRange& ids, std::uint64_t size);
    std::string next_name();

    void tear_down();

private:
    JailHarness();
    std::unique_ptr<jail::JailRuntime> runtime_;
    policy::Policy policy_;
    std::shared_ptr<const jail::JailTemplate> template_;
    std::string runtime_dir_;
    unsigned counter_ = 0;
};

// Lines of /proc/self/mountinfo, entries of /proc/self/fd, children of this process, cgroups
// under the harness's subtree: what must be back to its earlier value after jobs end.
struct ResourceCounts {
    std::size_t mounts = 0;
    std::size_t fds = 0;
    std::size_t child_processes = 0;
    std::size_t job_cgroups = 0;
    bool operator==(const ResourceCounts&) const = default;
};
ResourceCounts count_resources();

}  // namespace sbx::testing
