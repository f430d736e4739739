// Turns a run request into a JobSpec, or refuses it with the protocol error a client can act
// on: unknown_policy, forbidden, unknown_language, language_unavailable, limit_exceeded,
// invalid_request.
#pragma once

#include "daemon/jobs/caller.hpp"
#include "daemon/jobs/job.hpp"
#include "daemon/jobs/registry.hpp"
#include "protocol/messages.hpp"

namespace sbx::jobs {

protocol::Decoded<JobSpec> validate_run(std::shared_ptr<const Registry> registry, const Caller& caller,
                                        protocol::RunRequest request);

}  // namespace sbx::jobs
