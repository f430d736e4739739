// One program run in a fresh jail, driven by a Boost.Asio event loop: its stdin a sealed memfd,
// stdout and stderr captured up to the cap, the wall clock and the cgroup's CPU time checked
// (jail_process.hpp does the networking, launching and watching). Any limit kills the whole
// cgroup. The result is delivered once, after every process of the job is gone and its cgroup
// removed.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/jail/jail_process.hpp"
#include "daemon/jail/jail_template.hpp"
#include "daemon/jail/job_result.hpp"
#include "daemon/jail/runtime.hpp"
#include "daemon/jail/workspace.hpp"
#include "policy/limits.hpp"

namespace boost::asio {
class io_context;
}

namespace sbx::jail {

struct ExecRequest {
    std::string name;               // unique among running executions; names the cgroup
    std::vector<std::string> argv;  // argv[0] absolute, relative to the work dir, or looked up in PATH
    std::vector<std::string> env;   // "KEY=VALUE", added to (and overriding) the policy's
    std::string stdin_data;
    policy::Limits limits;
    // Read-only binds added to the policy's (a language's runtime files); kept alive by the caller.
    const std::vector<ResolvedBind>* extra_binds = nullptr;
    // Called with each captured chunk as it arrives (for streaming), in the event loop.
    std::function<void(OutputStream, std::string_view)> on_output;
    // For benchmarks and tests only (the daemon never sets it): join this network namespace
    // instead of the one the policy's network mode calls for. The fd stays the caller's.
    int netns_fd = -1;
};

class Execution {
public:
    virtual ~Execution() = default;
    // Kills the job; its result says `cancelled`. Safe to call from the event loop only.
    virtual void cancel() = 0;
};

using ExecDone = std::function<void(ExecResult)>;

// `runtime`, `jail` and `workspace` must outlive the execution. `done` runs in the event loop,
// never from inside this call.
std::shared_ptr<Execution> start_execution(boost::asio::io_context& io, JailRuntime& runtime,
                                           std::shared_ptr<const JailTemplate> jail, const Workspace& workspace,
                                           ExecRequest request, ExecDone done);

// Runs one execution on a private event loop and returns its result.
ExecResult execute(JailRuntime& runtime, std::shared_ptr<const JailTemplate> jail, const Workspace& workspace,
                   ExecRequest request);

}  // namespace sbx::jail
