// Child side of identity: after this the process is the box uid/gid with no supplementary
// groups, no capability in any set (bounding, permitted, effective, inheritable, ambient),
// and no_new_privs, so neither setuid binaries nor file capabilities can give any back.
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "daemon/jail/child_steps.hpp"

namespace sbx::jail {

bool drop_privileges(const LaunchPlan& p, StepError* e) noexcept {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail_step(e, SetupStep::no_new_privs);
    for (int cap = 0; cap <= p.last_capability; ++cap) {
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
            return fail_step(e, SetupStep::drop_bounding_caps);
    }
    if (::setgroups(0, nullptr) != 0) return fail_step(e, SetupStep::setgroups);
    if (::setresgid(p.gid, p.gid, p.gid) != 0) return fail_step(e, SetupStep::setresgid);
    if (::setresuid(p.uid, p.uid, p.uid) != 0) return fail_step(e, SetupStep::setresuid);
    // The uid change emptied permitted and effective; inheritable and ambient are cleared here.
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capset, &header, data) != 0) return fail_step(e, SetupStep::clear_caps);
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        return fail_step(e, SetupStep::clear_caps);
    return true;
}

}  // namespace sbx::jail
