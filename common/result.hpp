// Errors as values. An Error says which step failed, on what, and why (errno and/or a detail);
// it becomes one human message at the edge of the program (log line, protocol error, exit).
#pragma once

#include <cerrno>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace sbx {

struct Error {
    std::string context;  // the step or object: "mkdir /sys/fs/cgroup/pids/sandboxd/jobs/7"
    std::string detail;   // what is wrong, when errno alone does not say it
    int errnum = 0;       // errno of the failed call, 0 when not a system error

    static Error system(std::string context, int errnum = errno) {
        return Error{std::move(context), {}, errnum};
    }
    static Error invalid(std::string context, std::string detail) {
        return Error{std::move(context), std::move(detail), 0};
    }

    // Prefixes an outer step: "load policy default: memory: invalid size".
    Error&& within(const std::string& outer) && {
        context = context.empty() ? outer : outer + ": " + context;
        return std::move(*this);
    }

    std::string message() const;
};

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
    Result(Error error) : v_(std::move(error)) {}    // NOLINT(google-explicit-constructor)

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const& { return std::get<1>(v_); }
    Error&& error() && { return std::get<1>(std::move(v_)); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : e_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    bool ok() const { return !e_.has_value(); }
    explicit operator bool() const { return ok(); }
    const Error& error() const& { return *e_; }
    Error&& error() && { return std::move(*e_); }

private:
    std::optional<Error> e_;
};

using Status = Result<void>;

}  // namespace sbx
