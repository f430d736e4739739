// The compile cache on a temporary directory: round trip, LRU eviction under the size bound,
// restart, what is refused (oversized entries, unsafe directories, corrupt or hostile entry
// files), single flight; what a compile produced (workspace snapshots); and the cache key.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <msgpack.hpp>

#include "daemon/jobs/compile_cache.hpp"
#include "daemon/jobs/compile_key.hpp"
#include "daemon/jobs/workspace_snapshot.hpp"

namespace sbx::jobs {
namespace {

namespace fs = std::filesystem;

class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/sandboxd-unit-XXXXXX";
        path_ = ::mkdtemp(tmpl);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

std::string key_of(char c) { return std::string(64, c); }

CompileCacheEntry entry_of(std::size_t bytes, std::string name = "main") {
    CompileCacheEntry e;
    e.artifacts.files.push_back({std::move(name), 0755, std::string(bytes, 'x')});
    e.stdout_data = "warning: something\n";
    return e;
}

TEST(CompileCache, StoredEntryComesBackWithItsFilesModesAndOutput) {
    TempDir dir;
    auto cache = CompileCache::open(dir.path() + "/compile", 1 << 20);
    ASSERT_TRUE(cache.ok()) << cache.error().message();
    EXPECT_FALSE((*cache)->find(key_of('a')));
    CompileCacheEntry e;
    e.artifacts.files.push_back({"main", 0755, std::string("\x7f" "ELF\0binary", 10)});
    e.artifacts.files.push_back({"classes/pkg/Main.class", 0644, "cafebabe"});
    e.stdout_data = "out";
    e.stderr_data = "warning: unused variable";
    ASSERT_TRUE((*cache)->store(key_of('a'), e).ok());
    auto found = (*cache)->find(key_of('a'));
    ASSERT_TRUE(found);
    ASSERT_EQ(found->artifacts.files.size(), 2u);
    EXPECT_EQ(found->artifacts.files[0].path, "main");
    EXPECT_EQ(found->artifacts.files[0].mode, 0755u);
    EXPECT_EQ(found->artifacts.files[0].content, std::string("\x7f" "ELF\0binary", 10));
    EXPECT_EQ(found->artifacts.files[1].path, "classes/pkg/Main.class");
    EXPECT_EQ(found->stderr_data, "warning: unused variable");
    auto s = (*cache)->stats();
    EXPECT_EQ(s.entries, 1u);
    EXPECT_EQ(s.hits, 1u);
    EXPECT_EQ(s.misses, 1u);
    EXPECT_EQ(s.stores, 1u);
    // Root-only: a job never reaches it, and no other user can plant an entry.
    struct stat st{};
    ASSERT_EQ(::stat((dir.path() + "/compile").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ASSERT_EQ(::stat((dir.path() + "/compile/" + key_of('a')).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(CompileCache, LeastRecentlyUsedGoesFirstWhenFull) {
    TempDir dir;
    // Room for four 10 KB entries, not five (and each is under a quarter of the bound).
    auto cache = CompileCache::open(dir.path() + "/c", 45000);
    ASSERT_TRUE(cache.ok());
    auto& c = **cache;
    for (char k : {'a', 'b', 'c', 'd'}) ASSERT_TRUE(c.store(key_of(k), entry_of(10000)).ok()) << k;
    EXPECT_TRUE(c.find(key_of('a')));  // a is now the most recent; b the least
    ASSERT_TRUE(c.store(key_of('e'), entry_of(10000)).ok());
    EXPECT_FALSE(c.find(key_of('b')));
    for (char k : {'a', 'c', 'd', 'e'}) EXPECT_TRUE(c.find(key_of(k))) << k;
    EXPECT_EQ(c.stats().evictions, 1u);
    EXPECT_LE(c.stats().bytes, c.stats().max_bytes);
    EXPECT_FALSE(fs::exists(dir.path() + "/c/" + key_of('b')));
}

TEST(CompileCache, EntriesAndTheirOrderSurviveARestart) {
    TempDir dir;
    {
        auto cache = CompileCache::open(dir.path() + "/c", 1 << 20);
        ASSERT_TRUE(cache.ok());
        ASSERT_TRUE((*cache)->store(key_of('a'), entry_of(100)).ok());
        ASSERT_TRUE((*cache)->store(key_of('b'), entry_of(100)).ok());
        // An interrupted store and a stranger's file.
        std::ofstream(dir.path() + "/c/.tmp-" + key_of('z')) << "half";
        std::ofstream(dir.path() + "/c/README") << "not an entry";
    }
    // Make a older than b on disk, then reopen with room for one: b (the newer) stays.
    struct timespec old_times[2] = {{1, 0}, {1, 0}};
    ::utimensat(AT_FDCWD, (dir.path() + "/c/" + key_of('a')).c_str(), old_times, 0);
    auto size = fs::file_size(dir.path() + "/c/" + key_of('b'));
    auto cache = CompileCache::open(dir.path() + "/c", size + 10);
    ASSERT_TRUE(cache.ok());
    EXPECT_EQ((*cache)->stats().entries, 1u);
    EXPECT_TRUE((*cache)->find(key_of('b')));
    EXPECT_FALSE((*cache)->find(key_of('a')));
    EXPECT_FALSE(fs::exists(dir.path() + "/c/.tmp-" + key_of('z')));
    EXPECT_TRUE(fs::exists(dir.path() + "/c/README"));  // never read, never removed
}

TEST(CompileCache, AnEntryLargerThanAQuarterIsNotKept) {
    TempDir dir;
    auto cache = CompileCache::open(dir.path() + "/c", 40000);
    ASSERT_TRUE(cache.ok());
    ASSERT_TRUE((*cache)->store(key_of('a'), entry_of(1000)).ok());
    auto big = (*cache)->store(key_of('b'), entry_of(20000));
    EXPECT_FALSE(big.ok());
    EXPECT_FALSE((*cache)->find(key_of('b')));
    EXPECT_TRUE((*cache)->find(key_of('a')));  // nothing was evicted for it
}

TEST(CompileCache, CorruptOrHostileEntriesAreDroppedAsMisses) {
    TempDir dir;
    const std::string root = dir.path() + "/c";
    {
        auto cache = CompileCache::open(root, 1 << 20);
        ASSERT_TRUE(cache.ok());
    }
    std::ofstream(root + "/" + key_of('a')) << "not msgpack at all";
    // Well-formed, but its file would land outside the work directory.
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk(buf);
    pk.pack_map(2);
    pk.pack("v");
    pk.pack(1);
    pk.pack("files");
    pk.pack_array(1);
    pk.pack_array(3);
    pk.pack("../../etc/cron.d/x");
    pk.pack(0644);
    pk.pack("* * * * * root sh");
    std::ofstream(root + "/" + key_of('b'), std::ios::binary).write(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto cache = CompileCache::open(root, 1 << 20);
    ASSERT_TRUE(cache.ok());
    EXPECT_EQ((*cache)->stats().entries, 2u);
    EXPECT_FALSE((*cache)->find(key_of('a')));
    EXPECT_FALSE((*cache)->find(key_of('b')));
    EXPECT_EQ((*cache)->stats().entries, 0u);
    EXPECT_FALSE(fs::exists(root + "/" + key_of('a')));
    EXPECT_FALSE(fs::exists(root + "/" + key_of('b')));
}

TEST(CompileCache, UnsafeDirectoriesAreRefused) {
    TempDir dir;
    fs::create_directories(dir.path() + "/elsewhere");
    fs::create_symlink(dir.path() + "/elsewhere", dir.path() + "/link");
    auto via_link = CompileCache::open(dir.path() + "/link", 1 << 20);
    ASSERT_FALSE(via_link.ok());
    EXPECT_NE(via_link.error().message().find("not a directory"), std::string::npos) << via_link.error().message();
    if (::geteuid() == 0) {
        fs::create_directories(dir.path() + "/theirs");
        ASSERT_EQ(::chown((dir.path() + "/theirs").c_str(), 65534, 65534), 0);
        auto theirs = CompileCache::open(dir.path() + "/theirs", 1 << 20);
        ASSERT_FALSE(theirs.ok());
        EXPECT_NE(theirs.error().message().find("owned by uid 65534"), std::string::npos) << theirs.error().message();
    }
    EXPECT_FALSE(CompileCache::open(dir.path() + "/c", 1 << 20).ok() == false);
    EXPECT_FALSE((*CompileCache::open(dir.path() + "/c", 1 << 20))->store("../x", entry_of(1)).ok());
}

TEST(CompileCache, SingleFlightLetsOneJobCompileAndWakesTheOthers) {
    TempDir dir;
    auto cache = CompileCache::open(dir.path() + "/c", 1 << 20);
    ASSERT_TRUE(cache.ok());
    auto& c = **cache;
    EXPECT_TRUE(c.claim(key_of('a')));
    EXPECT_FALSE(c.claim(key_of('a')));
    EXPECT_TRUE(c.claim(key_of('b')));  // other keys are independent
    int woken = 0;
    c.wait(key_of('a'), [&] { ++woken; });
    c.wait(key_of('a'), [&] { ++woken; });
    c.release(key_of('a'));
    EXPECT_EQ(woken, 2);
    EXPECT_TRUE(c.claim(key_of('a')));  // free again
    c.release(key_of('a'));
    c.release(key_of('b'));
    EXPECT_EQ(woken, 2);
}

// ---- what a compile produced ------------------------------------------------------------------

void write_file(const std::string& path, const std::string& content) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << content;
}

TEST(WorkspaceSnapshot, ArtifactsAreTheNewAndChangedFilesMatchingTheGlobs) {
    TempDir dir;
    const std::string w = dir.path();
    write_file(w + "/main.c", "int main(){}");
    write_file(w + "/notes.txt", "unchanged");
    write_file(w + "/data.bin", "old");
    auto before = snapshot_workspace(w);
    ASSERT_TRUE(before.ok()) << before.error().message();
    write_file(w + "/main", "binary");
    ::chmod((w + "/main").c_str(), 0755);
    write_file(w + "/main.o", "object");
    write_file(w + "/out/Main.class", "class");
    write_file(w + "/data.bin", "new contents");
    auto after = snapshot_workspace(w);
    ASSERT_TRUE(after.ok());

    auto all = collect_artifacts(w, *before, *after, {});
    ASSERT_TRUE(all.ok()) << all.error().message();
    std::vector<std::string> paths;
    for (const auto& f : all->files) paths.push_back(f.path);
    EXPECT_EQ(paths, (std::vector<std::string>{"data.bin", "main", "main.o", "out/Main.class"}));

    auto some = collect_artifacts(w, *before, *after, {"main", "*/*.class"});
    ASSERT_TRUE(some.ok());
    ASSERT_EQ(some->files.size(), 2u);
    EXPECT_EQ(some->files[0].path, "main");
    EXPECT_EQ(some->files[0].mode, 0755u);
    EXPECT_EQ(some->files[0].content, "binary");
    EXPECT_EQ(some->files[1].path, "out/Main.class");
}

TEST(WorkspaceSnapshot, SymlinksAreNeverFollowedNorCached) {
    TempDir dir;
    const std::string w = dir.path() + "/w";
    fs::create_directories(w);
    write_file(dir.path() + "/secret", "host file");
    auto before = snapshot_workspace(w);
    ASSERT_TRUE(before.ok());
    // A compile stage that plants links to host files, hoping the daemon copies them.
    fs::create_symlink(dir.path() + "/secret", w + "/main");
    fs::create_directory_symlink(dir.path(), w + "/up");
    auto after = snapshot_workspace(w);
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after->size(), 2u);  // "up" is listed, not walked into
    auto artifacts = collect_artifacts(w, *before, *after, {"main"});
    EXPECT_FALSE(artifacts.ok());  // not cached at all
    auto other = collect_artifacts(w, *before, *after, {"up/*"});
    ASSERT_TRUE(other.ok());
    EXPECT_TRUE(other->files.empty());
}

// ---- the key ----------------------------------------------------------------------------------

TEST(CompileKey, EveryInputChangesTheKeyButFileOrderDoesNot) {
    policy::Language lang;
    lang.name = "c";
    lang.source_file = "main.c";
    lang.compile = {"/usr/bin/gcc", "-O2", "-o", "main", "main.c"};
    lang.version = {"/usr/bin/gcc", "--version"};
    jail::JailTemplate jail;
    jail.policy_name = "default";
    jail.base_env = {"PATH=/usr/bin"};
    protocol::RunRequest req;
    req.source = "int main(){}";
    req.files = {{"a.h", "#define A 1", false}, {"b.h", "#define B 2", false}};
    CompileKeyInput in{&lang, lang.compile, {"X=1"}, &jail, nullptr, &req};
    const std::string base = compile_key(in);
    EXPECT_EQ(base.size(), 64u);
    EXPECT_TRUE(is_cache_key(base));
    EXPECT_EQ(compile_key(in), base);

    auto changed = [&](auto mutate) {
        policy::Language l2 = lang;
        jail::JailTemplate j2;
        j2.policy_name = jail.policy_name;
        j2.base_env = jail.base_env;
        protocol::RunRequest r2 = req;
        CompileKeyInput i2{&l2, in.compile_argv, in.env, &j2, nullptr, &r2};
        mutate(l2, j2, r2, i2);
        return compile_key(i2);
    };
    EXPECT_NE(changed([](auto& l, auto&, auto&, auto&) { l.name = "cpp"; }), base);
    EXPECT_NE(changed([](auto&, auto&, auto&, auto& i) { i.compile_argv.push_back("-g"); }), base);
    EXPECT_NE(changed([](auto&, auto&, auto&, auto& i) { i.env = {"X=2"}; }), base);
    EXPECT_NE(changed([](auto&, auto& j, auto&, auto&) { j.policy_name = "judge"; }), base);
    EXPECT_NE(changed([](auto&, auto& j, auto&, auto&) { j.base_env.push_back("Y=1"); }), base);
    EXPECT_NE(changed([](auto&, auto&, auto& r, auto&) { r.source += " "; }), base);
    EXPECT_NE(changed([](auto&, auto&, auto& r, auto&) { r.files[0].content += "x"; }), base);
    EXPECT_NE(changed([](auto&, auto&, auto& r, auto&) { r.files[1].executable = true; }), base);
    EXPECT_NE(changed([](auto&, auto&, auto& r, auto&) { r.files[0].name = "c.h"; }), base);
    EXPECT_NE(changed([](auto& l, auto&, auto&, auto&) { l.artifacts = {"main"}; }), base);
    // The compiler's identity: another program under the same command line.
    EXPECT_NE(changed([](auto& l, auto&, auto&, auto&) { l.version = {"/usr/bin/g++", "--version"}; }), base);
    EXPECT_EQ(changed([](auto&, auto&, auto& r, auto&) { std::swap(r.files[0], r.files[1]); }), base);
    // Stdin, arguments and run limits do not change what a compile produces.
    EXPECT_EQ(changed([](auto&, auto&, auto& r, auto&) {
                  r.stdin_data = "input";
                  r.args = {"x"};
                  r.limits.memory_bytes = 1 << 20;
              }),
              base);
}

TEST(CompileKey, CompilerIdentityFollowsSymlinksAndNamesMissingPrograms) {
    policy::Language lang;
    lang.compile = {"/usr/bin/sh", "-c", "x"};
    lang.version = {"/nonexistent/cc", "--version"};
    const std::string id = compiler_identity(lang);
    EXPECT_NE(id.find("/nonexistent/cc:missing"), std::string::npos) << id;
    EXPECT_EQ(id.find("/usr/bin/sh:"), std::string::npos) << "symlinks are resolved: " << id;
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace sbx::jobs
