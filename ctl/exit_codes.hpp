// sandboxctl's exit status (also in `sandboxctl --help` and docs/operations.md):
//   the program's own exit code     it ran and exited (ok, runtime_error)
//   128 + N                         it was killed by signal N
//   124  time_limit     125  memory_limit     123  output_limit
//   122  compile_error  121  cancelled        120  sandbox error: internal_error, a refused
//                                                  request, or sandboxd unreachable
//   1    with --tests: some test case was not accepted
//   2    bad command line
#pragma once

#include <string_view>

namespace sbx::ctl {

inline constexpr int kExitUsage = 2;
inline constexpr int kExitTestsFailed = 1;
inline constexpr int kExitSandboxError = 120;
inline constexpr int kExitCancelled = 121;
inline constexpr int kExitCompileError = 122;
inline constexpr int kExitOutputLimit = 123;
inline constexpr int kExitTimeLimit = 124;
inline constexpr int kExitMemoryLimit = 125;

// The exit status for a run's status, exit code and signal.
int exit_status_for(std::string_view status, int exit_code, int signal);

inline constexpr const char* kExitStatusHelp =
    "Exit status: the program's exit code; 128+N if killed by signal N; 124 time limit; 125 memory limit;\n"
    "123 output limit; 122 compile error; 121 cancelled; 120 sandbox error or sandboxd unreachable;\n"
    "with --tests, 0 when every case is accepted, else 1; 2 bad usage.";

}  // namespace sbx::ctl
