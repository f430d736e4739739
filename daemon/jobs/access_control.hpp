// Whether a caller may use a policy: root always; otherwise its uid must be in the policy's
// users, or its primary or a supplementary group in the policy's groups. Names are resolved
// when checked, so a user or group created after start-up counts.
#pragma once

#include "daemon/jobs/caller.hpp"
#include "policy/policy.hpp"

namespace sbx::jobs {

bool may_use(const policy::AccessPolicy& access, const Caller& caller);

}  // namespace sbx::jobs
