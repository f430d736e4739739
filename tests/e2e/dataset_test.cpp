// Real workloads through a real daemon (../shared/datasets, see its README):
//   - HumanEval: every canonical solution passes its tests in the python language.
//   - MultiPL-E: for each language in the dataset whose runtime is installed, each problem's
//     composed program (dataset_harness.hpp) gets the same verdict through sandboxd as with no
//     sandbox at all (the oracle, run in the same test). A difference is checked again on both
//     sides (a loaded machine can push either over a time limit); one that repeats must be
//     listed with its reason in kExplained below, or the test fails.
// Built twice: into e2e_tests as a sample (every 8th HumanEval problem, three problems per
// MultiPL-E language: the default suite), and into dataset_tests with SANDBOXD_DATASET_FULL for
// every problem (ctest label `dataset`, which scripts/test.sh runs only with --datasets).
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "tests/e2e/daemon_process.hpp"
#include "tests/e2e/dataset_harness.hpp"

namespace sbx::testing {
namespace {

#ifdef SANDBOXD_DATASET_FULL
constexpr bool kFull = true;
#else
constexpr bool kFull = false;
#endif

// MultiPL-E problems whose verdict differs inside and outside the sandbox, and why.
const std::map<std::string, std::string> kExplained = {};

// Time limits of the re-check of a difference where one side ran out of time: under load the
// two sides do not get the same share of the CPU (a job's cgroup is scheduled as one group
// beside everything else on the machine, the oracle's processes each on their own), so a
// program that needs a fair part of its limit can time out on either side. With four times
// the time, a real endless loop still times out on both.
constexpr double kRecheckTimeScale = 4.0;

protocol::RunResult run_in_sandbox(const DaemonProcess& daemon, const std::string& language, const std::string& program,
                                   std::string& error, std::optional<std::pair<policy::Duration, policy::Duration>> walls = {},
                                   policy::Duration cpu_cap = {}) {
    auto client = protocol::Client::connect(daemon.socket());
    if (!client) {
        error = client.error().message();
        return {};
    }
    protocol::RunRequest req;
    req.language = language;
    req.source = program;
    if (walls) {
        req.compile_limits.wall_time = walls->first;
        req.compile_limits.cpu_time = std::min(walls->first, cpu_cap);
        req.limits.wall_time = walls->second;
        req.limits.cpu_time = std::min(walls->second, cpu_cap);
    }
    auto reply = client->call(req);
    if (!reply || reply->kind != protocol::Reply::Kind::result) {
        error = reply ? std::string(protocol::to_string(reply->error.code)) + ": " + reply->error.message
                      : reply.error().message();
        return {};
    }
    auto r = protocol::decode_result<protocol::RunResult>(*reply);
    if (!r) error = "undecodable result";
    return r ? *r : protocol::RunResult{};
}

std::string brief(const protocol::RunResult& r) {
    std::string s = r.run.status;
    if (!r.run.message.empty()) s += " (" + r.run.message + ")";
    std::string err = r.compile && r.compile->status != "ok" ? r.compile->stderr_data + r.compile->stdout_data
                                                             : r.run.stderr_data;
    if (err.size() > 300) err = err.substr(0, 300) + "...";
    return s + ": " + err;
}

TEST(HumanEvalDataset, CanonicalSolutionsPassThroughSandboxd) {
    auto problems = load_humaneval();
    ASSERT_EQ(problems.size(), 164u);
    std::vector<std::size_t> picked;
    for (std::size_t i = 0; i < problems.size(); i += kFull ? 1 : 8) picked.push_back(i);
    DaemonProcess daemon({.extra_args = {"--max-jobs", "4"}});
    std::mutex mu;
    std::vector<std::string> failures;
    std::size_t passed = 0;
    run_parallel(picked.size(), 4, [&](std::size_t k) {
        const auto& p = problems[picked[k]];
        std::string error;
        auto r = run_in_sandbox(daemon, "python", p.program, error);
        std::lock_guard lock(mu);
        if (error.empty() && r.run.status == "ok") {
            ++passed;
        } else {
            failures.push_back(p.task_id + ": " + (error.empty() ? brief(r) : error));
        }
    });
    EXPECT_EQ(passed, picked.size());
    for (const auto& f : failures) ADD_FAILURE() << f;
    std::cout << "HumanEval: " << passed << "/" << picked.size() << " canonical solutions passed through sandboxd\n";
}

class MultiplEDataset : public ::testing::TestWithParam<std::string> {};

TEST_P(MultiplEDataset, SameVerdictInsideAndOutsideTheSandbox) {
    const std::string lang = GetParam();
    auto catalog = policy::Catalog::load(policy::source_tree_policy_dir() / "policies",
                                         policy::source_tree_policy_dir() / "languages");
    ASSERT_TRUE(catalog.ok()) << catalog.error().message();
    const policy::Language* language = catalog->language(lang);
    ASSERT_NE(language, nullptr) << "no language file answers to MultiPL-E's '" << lang << "'";
    auto problems = load_multipl_e(lang);
    ASSERT_FALSE(problems.empty());
    std::vector<std::size_t> picked;
    if (kFull) {
        for (std::size_t i = 0; i < problems.size(); ++i) picked.push_back(i);
    } else {
        picked = {0, problems.size() / 2, problems.size() - 1};
    }
    DaemonProcess daemon({.extra_args = {"--max-jobs", "2"}});
    std::mutex mu;
    std::size_t oracle_passed = 0, sandbox_passed = 0, slow_rechecks = 0;
    std::vector<std::string> differences, explained;
    run_parallel(picked.size(), 2, [&](std::size_t k) {
        const auto& p = problems[picked[k]];
        OracleOutcome oracle = run_oracle(*catalog, *language, p.program);
        std::string error;
        auto r = run_in_sandbox(daemon, lang, p.program, error);
        bool sandboxed = error.empty() && r.run.status == "ok";
        if (oracle.passed != sandboxed) {
            // A shared machine under load can push either side over a time limit: a difference
            // counts only when it repeats.
            oracle = run_oracle(*catalog, *language, p.program);
            error.clear();
            r = run_in_sandbox(daemon, lang, p.program, error);
            sandboxed = error.empty() && r.run.status == "ok";
        }
        auto timed_out = [](const protocol::RunResult& result) {
            return result.run.status == "time_limit" || (result.compile && result.compile->status == "time_limit");
        };
        bool rechecked_slow = false;
        if (oracle.passed != sandboxed && (oracle.timed_out || (error.empty() && timed_out(r)))) {
            rechecked_slow = true;
            oracle = run_oracle(*catalog, *language, p.program, kRecheckTimeScale);
            error.clear();
            r = run_in_sandbox(daemon, lang, p.program, error, stage_wall_limits(*catalog, *language, kRecheckTimeScale),
                               catalog->policy("default")->limits.cpu_time.maximum);
            sandboxed = error.empty() && r.run.status == "ok";
        }
        std::lock_guard lock(mu);
        slow_rechecks += rechecked_slow ? 1 : 0;
        oracle_passed += oracle.passed ? 1 : 0;
        sandbox_passed += sandboxed ? 1 : 0;
        if (oracle.passed == sandboxed) return;
        std::string line = lang + "/" + p.name + ": no sandbox " + (oracle.passed ? "passed" : "failed (" + oracle.detail + ")") +
                           ", sandboxd " + (sandboxed ? "passed" : "failed: " + (error.empty() ? brief(r) : error));
        auto why = kExplained.find(lang + "/" + p.name);
        if (why != kExplained.end()) {
            explained.push_back(line + "\n    explained: " + why->second);
        } else {
            differences.push_back(line);
        }
    });
    std::cout << "MultiPL-E " << lang << ": " << picked.size() << " problems, " << oracle_passed
              << " pass with no sandbox, " << sandbox_passed << " through sandboxd, " << explained.size()
              << " explained differences, " << differences.size() << " unexplained; " << slow_rechecks
              << " rechecked with " << kRecheckTimeScale << "x the time after one side timed out\n";
    for (const auto& e : explained) std::cout << "  " << e << "\n";
    for (const auto& d : differences) ADD_FAILURE() << d;
}

// Every MultiPL-E language of the dataset whose runtime Debian packages (julia and swift are not).
std::vector<std::string> installed_multipl_e_languages() {
    std::vector<std::string> out;
    for (const auto& l : multipl_e_languages())
        if (l != "jl" && l != "swift") out.push_back(l);
    return out;
}

INSTANTIATE_TEST_SUITE_P(Installed, MultiplEDataset, ::testing::ValuesIn(installed_multipl_e_languages()),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace sbx::testing
