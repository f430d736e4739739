#include "ctl/exit_codes.hpp"

namespace sbx::ctl {

int exit_status_for(std::string_view status, int exit_code, int signal) {
    if (status == "ok" || status == "runtime_error") return exit_code;
    if (status == "signaled") return 128 + signal;
    if (status == "time_limit") return kExitTimeLimit;
    if (status == "memory_limit") return kExitMemoryLimit;
    if (status == "output_limit") return kExitOutputLimit;
    if (status == "compile_error") return kExitCompileError;
    if (status == "cancelled") return kExitCancelled;
    return kExitSandboxError;
}

}  // namespace sbx::ctl
