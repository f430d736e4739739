// The compile cache's key: a SHA-256 over everything that decides what a compile stage produces,
//   - the language's name, its expanded compile command and artifact globs,
//   - the compiler's version, as the identity of its files: path (after symlinks), size,
//     modification time and inode of every program its compile and version commands name. A
//     package upgrade changes them all; unlike the printed version string it is known at once,
//     without running anything, and also changes for a rebuild of the same version,
//   - the policy's name, jail binds and the stage's whole environment (policy, language, request),
//   - every submitted file: name, mode and content (the source as the language's source file).
// Each part is length-prefixed, so no two different inputs serialize alike.
#pragma once

#include <string>
#include <vector>

#include "daemon/jail/jail_template.hpp"
#include "policy/language.hpp"
#include "protocol/messages.hpp"

namespace sbx::jobs {

struct CompileKeyInput {
    const policy::Language* language = nullptr;
    std::vector<std::string> compile_argv;  // expanded
    std::vector<std::string> env;           // "KEY=VALUE" as the stage gets it (any order)
    const jail::JailTemplate* jail = nullptr;
    const std::vector<jail::ResolvedBind>* language_binds = nullptr;
    const protocol::RunRequest* request = nullptr;
};

// 64 lowercase hex digits.
std::string compile_key(const CompileKeyInput& input);

// "path:size:mtime:inode" of each absolute program the language's compile and version commands
// name, "path:missing" for one that is gone.
std::string compiler_identity(const policy::Language& language);

// SHA-256 of `data` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace sbx::jobs
