// The list of filesystem steps for one jail, built by the daemon from the policy's template
// and the job's specifics (work directory, sizes, box uid). Owns every string the steps point
// to, so the child can run the steps without allocating.
#pragma once

#include <sys/types.h>

#include <deque>
#include <set>
#include <string>
#include <vector>

#include "daemon/jail/jail_template.hpp"
#include "daemon/jail/launch_plan.hpp"
#include "policy/limits.hpp"

namespace sbx::jail {

struct MountPlanInput {
    std::string staging_root;  // empty directory the new root is mounted on (in the child's namespace)
    std::string work_source;   // the job's workspace directory on the host
    std::uint64_t tmpfs_bytes = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    // Read-only binds added to the policy's (resolved, parents first): a language's runtime
    // files, a session's drivers. Those the policy's binds already show are skipped. May be null.
    const std::vector<ResolvedBind>* extra_binds = nullptr;
};

class MountPlan {
public:
    MountPlan(const JailTemplate& jail, const MountPlanInput& input);
    MountPlan(const MountPlan&) = delete;
    MountPlan& operator=(const MountPlan&) = delete;

    const MountStep* steps() const { return steps_.data(); }
    std::size_t size() const { return steps_.size(); }
    const char* root_tmpfs_options() const { return root_options_.c_str(); }
    // "bind /usr on /usr", for the message of a failed step.
    std::string describe(std::size_t index) const;

private:
    const char* keep(std::string s);
    std::string in_root(const std::string& jail_path) const { return staging_ + jail_path; }
    void make_parents(const std::string& jail_path);
    void make_dir(const std::string& jail_path, unsigned mode);
    void bind(const std::string& source, const std::string& jail_path, std::uint64_t attr, bool optional);
    void mount_fs(const char* fstype, const std::string& jail_path, unsigned long flags, std::string data);
    void symlink(const std::string& link_text, const std::string& jail_path);
    void make_node(const std::string& jail_path, unsigned major, unsigned minor);
    void write_file(const std::string& jail_path, std::string content, unsigned mode);

    void add_bind(const ResolvedBind& b, std::uint64_t attr);
    void add_binds(const JailTemplate& jail);
    void add_extra_binds(const JailTemplate& jail, const std::vector<ResolvedBind>& binds);
    void add_dev(const JailTemplate& jail, const MountPlanInput& input);
    void add_etc(const JailTemplate& jail, const MountPlanInput& input);

    std::string staging_;
    std::string root_options_;
    std::deque<std::string> strings_;  // a deque never moves its elements: c_str() stays valid
    std::vector<MountStep> steps_;
    std::set<std::string> dirs_;
};

}  // namespace sbx::jail
