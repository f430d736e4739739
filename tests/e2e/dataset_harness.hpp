// Real workloads for the end-to-end tests: HumanEval's canonical solutions and MultiPL-E's
// model-written solutions (../shared/datasets, see its README), run through sandboxd and, for
// MultiPL-E, also with no sandbox at all (the oracle), so the two verdicts can be compared.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "policy/catalog.hpp"
#include "protocol/messages.hpp"

namespace sbx::testing {

// $SANDBOXD_DATASETS, else the shared/datasets directory beside the source tree.
std::string datasets_dir();

struct HumanEvalProblem {
    std::string task_id;
    std::string program;  // prompt + canonical_solution + test + check(entry_point)
};
std::vector<HumanEvalProblem> load_humaneval();

struct MultiplEProblem {
    std::string name;     // "HumanEval_0_has_close_elements"
    std::string program;  // composed: see compose_multipl_e
};
// MultiPL-E's short language names that have a file in the dataset directory.
std::vector<std::string> multipl_e_languages();
std::vector<MultiplEProblem> load_multipl_e(const std::string& short_name);

// One program from a problem's prompt, gpt_solution and tests. The solution is the code of the
// first Markdown fence in gpt_solution, a whole program part; the tests close the prompt's open
// function or class on their first line and often bring their own entry point. So, per language:
// the solution's own entry point (main, its own Test functions) is removed, the tests' closing
// first line is dropped where the solution is complete, and the solution's class is reopened
// where the tests add a method to it (Java, C#, Scala). Go's tests are `go test` functions: they
// are called from a generated main through testing.Main. C#'s Debug.Assert only reports to trace
// listeners, so it is replaced by a check that throws.
std::string compose_multipl_e(const std::string& short_name, const std::string& prompt,
                              const std::string& gpt_solution, const std::string& tests);

// What a program did with no sandbox: compiled and run with the language file's own commands and
// environment, in a fresh temporary directory, as the unprivileged user nobody, with the wall
// clock limits the sandbox would apply (times `time_scale`).
struct OracleOutcome {
    bool passed = false;
    bool timed_out = false;
    std::string detail;  // "compile: exit 1", "run: timeout", ...
};
OracleOutcome run_oracle(const policy::Catalog& catalog, const policy::Language& language, const std::string& program,
                         double time_scale = 1.0);

// The wall-clock limits of a language's stages under the default policy (what a request that
// asks for nothing gets), times `scale` up to the policy's maximum: {compile, run}.
std::pair<policy::Duration, policy::Duration> stage_wall_limits(const policy::Catalog& catalog,
                                                                const policy::Language& language, double scale);

// Runs `count` items on `workers` threads; `each(i)` must be thread-safe.
void run_parallel(std::size_t count, unsigned workers, const std::function<void(std::size_t)>& each);

}  // namespace sbx::testing
