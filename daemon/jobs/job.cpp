#include "daemon/jobs/job.hpp"

namespace sbx::jobs {

const std::string& Job::language_name() const {
    static const std::string none;
    return spec.language != nullptr ? spec.language->name : none;
}

}  // namespace sbx::jobs
