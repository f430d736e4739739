// Turns a run request into a JobSpec, or refuses it with the protocol error a client can act
// on: unknown_policy, forbidden, unknown_language, language_unavailable, limit_exceeded,
// invalid_request.
#pragma once

#include "daemon/jobs/caller.hpp"
#include "daemon/jobs/job.hpp"
#include "daemon/jobs/registry.hpp"
#include "protocol/messages.hpp"

namespace sbx::jobs {

// The steps of validation that sessions share: the policy by name ("default" when empty) that
// the caller may use (unknown_policy, forbidden); an installed language by name or alias
// (unknown_language, language_unavailable); environment names and values (invalid_request,
// naming `field`).
protocol::Decoded<const policy::Policy*> usable_policy(const Registry& registry, const Caller& caller,
                                                       const std::string& name);
protocol::Decoded<const policy::Language*> available_language(const Registry& registry, const std::string& name);
std::optional<protocol::ProtocolError> check_env(const std::map<std::string, std::string>& env,
                                                 const std::string& field);

protocol::Decoded<JobSpec> validate_run(std::shared_ptr<const Registry> registry, const Caller& caller,
                                        protocol::RunRequest request);

}  // namespace sbx::jobs
