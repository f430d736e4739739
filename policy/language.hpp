// A language: how to name it, where its source goes, how to compile, run and version it, what
// its stages need beyond a policy's defaults. Parsed from TOML (docs/policies.md, "Language files").
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "policy/limits.hpp"
#include "policy/policy.hpp"

namespace sbx::policy {

struct Language {
    std::string name;                     // "python"
    std::string display_name;             // "Python 3"; defaults to name
    std::vector<std::string> aliases;     // "py", "python3"
    std::vector<std::string> extensions;  // without dot: "py"
    std::string source_file;              // file name the source is stored as: "main.py"
    std::vector<std::string> compile;     // empty for interpreted languages
    std::vector<std::string> run;         // argv; "{source}" is replaced by source_file
    std::vector<std::string> version;     // argv printing the runtime's version
    // argv of the interpreter driver of stateful sessions (docs/sessions.md); "{drivers}" is the
    // directory the drivers are bound on in the jail. Empty: no sessions in this language.
    std::vector<std::string> session;
    std::map<std::string, std::string> env;
    // Stage defaults ([limits], [compile_limits]): they replace the policy's defaults for this
    // language, capped at the policy's maximums (LimitBounds::with_defaults).
    LimitRequest run_limits;
    LimitRequest compile_limits;
    // Host paths the runtime needs beyond the policy's binds ([filesystem]): read-only, added to
    // every jail of this language. A required one that is missing makes the language unavailable.
    std::vector<BindMount> binds;
    // Globs (relative to the work directory) naming what the compile stage produces for the run
    // stage; what the compile cache keeps. Empty: every file the compile stage created or changed.
    std::vector<std::string> artifacts;
    std::string source_path;              // the file it came from, for messages

    bool compiled() const { return !compile.empty(); }
    bool has_session() const { return !session.empty(); }

    // argv with every "{source}" (anywhere inside an argument) replaced by source_file, and every
    // argument that is exactly "{sources}" replaced by `sources` (the submission's source files:
    // the other files in the order given, then source_file last, so that compilers that need
    // dependencies first, OCaml and Fortran modules, get them; just source_file when empty).
    // Used on compile, run and version.
    std::vector<std::string> expand(const std::vector<std::string>& argv,
                                    const std::vector<std::string>& sources = {}) const;

    // Whether a submitted file is a source file of this language: its name ends in one of the
    // extensions.
    bool is_source_name(std::string_view file_name) const;
    // The session command with "{drivers}" replaced by `drivers_dir` (and "{source}" expanded).
    std::vector<std::string> session_command(const std::string& drivers_dir) const;
};

Result<Language> parse_language(std::string_view toml_text, const std::string& source_path);
Result<Language> load_language_file(const std::filesystem::path& path);

}  // namespace sbx::policy
