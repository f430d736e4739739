// The jail's seccomp filter. The daemon compiles it once per policy with libseccomp into a
// BPF program; the payload installs that program with one prctl right before execve, so the
// child needs no library call (and no allocation) to load it.
//
// Default action: allow. Denied calls fail with EPERM (clone3 with ENOSYS, so libc falls back
// to clone, whose flags the filter can inspect). Any non-native architecture (i386, x32)
// kills the process.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "common/result.hpp"
#include "policy/policy.hpp"

namespace sbx::jail {

class SeccompProgram {
public:
    explicit SeccompProgram(std::vector<sock_filter> code) : code_(std::move(code)) {
        fprog_.len = static_cast<unsigned short>(code_.size());
        fprog_.filter = code_.data();
    }
    SeccompProgram(const SeccompProgram&) = delete;
    SeccompProgram& operator=(const SeccompProgram&) = delete;

    const sock_fprog* fprog() const { return &fprog_; }
    std::size_t instructions() const { return code_.size(); }

private:
    std::vector<sock_filter> code_;
    sock_fprog fprog_{};
};

// The built-in deny list (names as libseccomp knows them).
const std::vector<std::string>& default_denied_syscalls();

// Built-in list, plus policy.deny, minus policy.allow.
Result<std::unique_ptr<SeccompProgram>> compile_seccomp(const policy::SeccompPolicy& policy);

}  // namespace sbx::jail
