#include "http-proxy/submission_store.hpp"

#include <sqlite3.h>
#include <sys/random.h>

#include <array>
#include <cstdio>

namespace sbx::http {

namespace {

Error sqlite_error(sqlite3* db, const std::string& context) {
    return Error::invalid(context, db != nullptr ? sqlite3_errmsg(db) : "out of memory");
}

// Owner of one prepared statement.
class Statement {
public:
    Statement(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    bool ok() const { return rc_ == SQLITE_OK; }
    sqlite3_stmt* get() const { return stmt_; }
    void text(int i, const std::string& s) { sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT); }
    void blob(int i, const std::string& s) { sqlite3_bind_blob(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT); }
    std::string column(int i) const {
        const void* p = sqlite3_column_blob(stmt_, i);
        return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, i)));
    }

private:
    sqlite3_stmt* stmt_ = nullptr;
    int rc_ = SQLITE_ERROR;
};

constexpr const char* kSchema = R"sql(
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS submissions (
    id         TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    language   TEXT NOT NULL,
    code       BLOB NOT NULL,
    stdin      BLOB NOT NULL,
    status     TEXT NOT NULL,
    output     BLOB NOT NULL,
    time_s     REAL NOT NULL,
    memory_kb  INTEGER NOT NULL,
    exit_code  INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
)sql";

}  // namespace

std::string random_id() {
    std::array<unsigned char, 16> bytes{};
    size_t got = 0;
    while (got < bytes.size()) {
        ssize_t n = getrandom(bytes.data() + got, bytes.size() - got, 0);
        if (n > 0) got += static_cast<size_t>(n);
    }
    std::string out;
    char buf[3];
    for (unsigned char b : bytes) {
        std::snprintf(buf, sizeof buf, "%02x", b);
        out += buf;
    }
    return out;
}

Result<std::unique_ptr<SubmissionStore>> SubmissionStore::open(const std::string& path) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        Error e = sqlite_error(db, "open submissions database " + path);
        sqlite3_close(db);
        return e;
    }
    sqlite3_busy_timeout(db, 2000);
    char* message = nullptr;
    if (sqlite3_exec(db, kSchema, nullptr, nullptr, &message) != SQLITE_OK) {
        Error e = Error::invalid("create the submissions table in " + path, message != nullptr ? message : "unknown error");
        sqlite3_free(message);
        sqlite3_close(db);
        return e;
    }
    return std::unique_ptr<SubmissionStore>(new SubmissionStore(db));
}

SubmissionStore::~SubmissionStore() { sqlite3_close(db_); }

Status SubmissionStore::insert(Submission& s) {
    s.id = random_id();
    Statement st(db_,
                 "INSERT INTO submissions (id, owner, language, code, stdin, status, output, time_s, memory_kb, "
                 "exit_code, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) "
                 "RETURNING created_at");
    if (!st.ok()) return sqlite_error(db_, "store submission");
    st.text(1, s.id);
    st.text(2, s.owner);
    st.text(3, s.language);
    st.blob(4, s.code);
    st.blob(5, s.stdin_data);
    st.text(6, s.status);
    st.blob(7, s.output);
    sqlite3_bind_double(st.get(), 8, s.time_s);
    sqlite3_bind_int64(st.get(), 9, static_cast<sqlite3_int64>(s.memory_kb));
    sqlite3_bind_int(st.get(), 10, s.exit_code);
    if (sqlite3_step(st.get()) != SQLITE_ROW) return sqlite_error(db_, "store submission");
    s.created_at = st.column(0);
    return {};
}

Result<std::optional<Submission>> SubmissionStore::find(const std::string& id) {
    Statement st(db_,
                 "SELECT id, owner, language, code, stdin, status, output, time_s, memory_kb, exit_code, created_at "
                 "FROM submissions WHERE id = ?");
    if (!st.ok()) return sqlite_error(db_, "read submission");
    st.text(1, id);
    int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) return std::optional<Submission>();
    if (rc != SQLITE_ROW) return sqlite_error(db_, "read submission");
    Submission s;
    s.id = st.column(0);
    s.owner = st.column(1);
    s.language = st.column(2);
    s.code = st.column(3);
    s.stdin_data = st.column(4);
    s.status = st.column(5);
    s.output = st.column(6);
    s.time_s = sqlite3_column_double(st.get(), 7);
    s.memory_kb = static_cast<std::uint64_t>(sqlite3_column_int64(st.get(), 8));
    s.exit_code = sqlite3_column_int(st.get(), 9);
    s.created_at = st.column(10);
    return std::optional<Submission>(std::move(s));
}

}  // namespace sbx::http
