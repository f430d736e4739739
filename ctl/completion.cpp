// sandboxctl completion bash: prints ctl/sandboxctl.bash (embedded at build time).
#include <cstdio>

#include "ctl/commands.hpp"
#include "ctl/exit_codes.hpp"

namespace sbx::ctl {

extern const char* const kBashCompletion;

int print_completion(const std::string& shell) {
    if (shell != "bash") return kExitUsage;
    std::fputs(kBashCompletion, stdout);
    return 0;
}

}  // namespace sbx::ctl
