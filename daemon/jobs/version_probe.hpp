// Asks each available language's runtime for its version (its `version` command, in a jail of
// the default policy), one language after another in the background after start-up and after
// each reload. Until a language's answer is in, its version is empty.
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
    VersionProbe(boost::asio::io_context& io, jail::JailRuntime& runtime, std::shared_ptr<const Registry> registry);
    void start();
    // Stops, cancelling the probe under way.
    void stop() {
        stopped_ = true;
        if (current_) current_->cancel();
    }
    std::string version(const std::string& language) const;
    bool done() const { return next_ >= pending_.size(); }

private:
    void probe_next();

    boost::asio::io_context& io_;
    jail::JailRuntime& runtime_;
    std::shared_ptr<const Registry> registry_;
    std::vector<std::string> pending_;
    std::size_t next_ = 0;
    bool stopped_ = false;
    std::map<std::string, std::string> versions_;
    std::unique_ptr<jail::Workspace> workspace_;
    std::shared_ptr<jail::Execution> current_;
};

// The first non-empty line of a version command's output, trimmed.
std::string first_line(const std::string& text);

}  // namespace sbx::jobs
