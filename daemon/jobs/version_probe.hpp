// Asks each available language's runtime for its version (its `version` command, in a jail of
// the default policy with the language's own limits and binds), one language after another in
// the background. Until a language's answer is in, its version is empty.
//
// Answers are remembered in a file (`<cache dir>/versions`), keyed by the version command and
// the identity of the programs it and the compile command name (compile_key.hpp): after a
// restart, or a reload that changed nothing, only languages whose runtime changed are asked
// again. Starting a JVM, GHC or BEAM three dozen times costs half a minute of CPU; a restart
// should not pay it again.
#pragma once

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon/jail/execution.hpp"
#include "daemon/jail/runtime.hpp"
#include "daemon/jobs/registry.hpp"

namespace sbx::jobs {

class VersionProbe : public std::enable_shared_from_this<VersionProbe> {
public:
    // `versions_file` may be empty: nothing is remembered across restarts.
    VersionProbe(boost::asio::io_context& io, jail::JailRuntime& runtime, std::shared_ptr<const Registry> registry,
                 std::string versions_file = {});
    // Starts probing what the versions file does not answer; a second call does nothing.
    void start();
    // Stops, cancelling the probe under way.
    void stop() {
        stopped_ = true;
        if (current_) current_->cancel();
    }
    std::string version(const std::string& language) const;
    bool done() const { return started_ && next_ >= pending_.size(); }

private:
    void probe_next();
    void remember(const std::string& language, const std::string& version);

    boost::asio::io_context& io_;
    jail::JailRuntime& runtime_;
    std::shared_ptr<const Registry> registry_;
    std::string versions_file_;
    std::map<std::string, std::string> keys_;      // language -> its key in the versions file
    std::map<std::string, std::string> remembered_;  // key -> version, as in the file
    std::vector<std::string> pending_;
    std::size_t next_ = 0;
    bool started_ = false;
    bool stopped_ = false;
    std::map<std::string, std::string> versions_;
    std::unique_ptr<jail::Workspace> workspace_;
    std::shared_ptr<jail::Execution> current_;
};

// The first non-empty line of a version command's output, trimmed.
std::string first_line(const std::string& text);

}  // namespace sbx::jobs
