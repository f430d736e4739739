// Stored submissions of POST /submit: code and result in SQLite, read back by
// GET /submissions/{id}. The database is opened after privileges are dropped, so its directory
// must be writable by sandbox-http's user; WAL journaling keeps readers and the writer apart.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/result.hpp"

struct sqlite3;

namespace sbx::http {

struct Submission {
    std::string id;     // 32 hex digits, random
    std::string owner;  // the token's name (anonymous mode: "anonymous")
    std::string language;
    std::string code;
    std::string stdin_data;
    std::string status;  // sandboxd's status of the run
    std::string output;  // stdout followed by stderr
    double time_s = 0;
    std::uint64_t memory_kb = 0;
    std::int32_t exit_code = 0;
    std::string created_at;  // ISO 8601, UTC, set by the store
};

class SubmissionStore {
public:
    // Opens (creating when needed) the database at `path`; ":memory:" for a private one.
    static Result<std::unique_ptr<SubmissionStore>> open(const std::string& path);
    ~SubmissionStore();
    SubmissionStore(const SubmissionStore&) = delete;
    SubmissionStore& operator=(const SubmissionStore&) = delete;

    // Stores a submission, giving it a new id (and created_at).
    Status insert(Submission& submission);
    // The submission, or nullopt when there is none with this id.
    Result<std::optional<Submission>> find(const std::string& id);

private:
    explicit SubmissionStore(sqlite3* db) : db_(db) {}
    sqlite3* db_;
};

// 32 random hex digits (getrandom).
std::string random_id();

}  // namespace sbx::http
