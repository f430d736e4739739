// Language files: the shipped ones, every key, placeholders, and "<file>:<line>:" errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "policy/catalog.hpp"
#include "policy/language.hpp"

namespace sbx::policy {
namespace {

using Argv = std::vector<std::string>;

Language parse_ok(std::string_view text) {
    auto r = parse_language(text, "lang.toml");
    EXPECT_TRUE(r.ok()) << r.error().message();
    return r.ok() ? *r : Language{};
}

void expect_error(std::string_view text, int line, std::string_view what) {
    auto r = parse_language(text, "lang.toml");
    ASSERT_FALSE(r.ok()) << "parsed:\n" << text;
    const std::string message = r.error().message();
    const std::string prefix = "lang.toml:" + std::to_string(line) + ": ";
    EXPECT_EQ(message.substr(0, prefix.size()), prefix) << message;
    EXPECT_NE(message.find(what), std::string::npos) << message << "\n  lacks: " << what;
}

constexpr std::string_view kMinimal = "name = \"x\"\nsource_file = \"main.x\"\nrun = [\"/usr/bin/x\", \"{source}\"]\n";

Language load_shipped(const std::string& name) {
    auto r = load_language_file(source_tree_policy_dir() / "languages" / (name + ".toml"));
    EXPECT_TRUE(r.ok()) << name << ": " << r.error().message();
    return r.ok() ? *r : Language{};
}

// The languages the issue names, plus the MultiPL-E languages Debian 12 does not package.
const std::vector<std::string> kShipped = {
    "python", "pypy",   "javascript", "typescript", "c",           "cpp",    "csharp",  "d",      "go",
    "java",   "kotlin", "scala",      "clojure",    "lua",         "php",    "perl",    "r",      "ruby",
    "racket", "rust",   "bash",       "haskell",    "ocaml",       "common-lisp", "scheme", "fortran",
    "pascal", "cobol",  "tcl",        "elixir",     "erlang",      "prolog", "nim",     "julia",  "swift"};

TEST(ShippedLanguages, EveryFileParses) {
    for (const auto& name : kShipped) {
        const Language l = load_shipped(name);
        EXPECT_EQ(l.name, name);
        EXPECT_FALSE(l.display_name.empty()) << name;
        EXPECT_FALSE(l.run.empty()) << name;
        EXPECT_FALSE(l.version.empty()) << name;
        // Every runtime is Debian's, under /usr: never a per-user install.
        for (const auto* argv : {&l.compile, &l.run, &l.version}) {
            if (argv->empty() || argv->front().starts_with("./")) continue;
            EXPECT_TRUE(argv->front().starts_with("/usr/")) << name << ": " << argv->front();
            for (const auto& arg : *argv) {
                EXPECT_EQ(arg.find("/root/"), std::string::npos) << name << ": " << arg;
                EXPECT_EQ(arg.find("pyenv"), std::string::npos) << name << ": " << arg;
            }
        }
        // A compiled language says what its compile stage leaves for the run stage, so the
        // compile cache keeps only that.
        if (l.compiled()) {
            EXPECT_FALSE(l.artifacts.empty()) << name;
        }
    }
}

TEST(ShippedLanguages, EveryFileInTheDirectoryIsListedHere) {
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(source_tree_policy_dir() / "languages")) {
        if (entry.path().extension() != ".toml") continue;
        ++files;
        EXPECT_NE(std::find(kShipped.begin(), kShipped.end(), entry.path().stem().string()), kShipped.end())
            << entry.path();
    }
    EXPECT_EQ(files, kShipped.size());
}

// Clients name languages the way MultiPL-E and Piston do; every such name reaches a language.
TEST(ShippedLanguages, MultiplEAndPistonNamesResolve) {
    auto catalog = Catalog::load(source_tree_policy_dir() / "policies", source_tree_policy_dir() / "languages");
    ASSERT_TRUE(catalog.ok()) << catalog.error().message();
    const std::map<std::string, std::string> names = {
        // MultiPL-E's short names
        {"py", "python"}, {"js", "javascript"}, {"ts", "typescript"}, {"cpp", "cpp"}, {"cs", "csharp"},
        {"d", "d"}, {"go", "go"}, {"java", "java"}, {"jl", "julia"}, {"lua", "lua"}, {"php", "php"},
        {"pl", "perl"}, {"r", "r"}, {"rb", "ruby"}, {"rkt", "racket"}, {"rs", "rust"}, {"scala", "scala"},
        {"sh", "bash"}, {"swift", "swift"},
        // Piston's language names and aliases
        {"c++", "cpp"}, {"csharp", "csharp"}, {"c#", "csharp"}, {"mono", "csharp"}, {"rscript", "r"},
        {"lisp", "common-lisp"}, {"cl", "common-lisp"}, {"sbcl", "common-lisp"}, {"freepascal", "pascal"},
        {"pascal", "pascal"}, {"kt", "kotlin"}, {"hs", "haskell"}, {"ml", "ocaml"}, {"exs", "elixir"},
        {"erl", "erlang"}, {"escript", "erlang"}, {"plg", "prolog"}, {"clj", "clojure"}, {"cob", "cobol"},
        {"golang", "go"}, {"node-js", "javascript"}, {"node-ts", "typescript"}, {"gcc", "c"}, {"g++", "cpp"},
        {"fortran", "fortran"}, {"f90", "fortran"}, {"ruby3", "ruby"}, {"python3", "python"}, {"py3", "python"},
        {"nim", "nim"}, {"elixir", "elixir"}, {"erlang", "erlang"}, {"prolog", "prolog"}, {"racket", "racket"},
        {"dmd", "d"}, {"sc", "scala"}, {"guile", "scheme"}, {"tclsh", "tcl"}, {"pypy3", "pypy"}};
    for (const auto& [alias, name] : names) {
        const Language* l = catalog->language(alias);
        ASSERT_NE(l, nullptr) << alias;
        EXPECT_EQ(l->name, name) << alias;
    }
}

TEST(ShippedLanguages, HeavyCompilersCarryTheirOwnStageDefaults) {
    const Language kotlin = load_shipped("kotlin");
    ASSERT_TRUE(kotlin.compile_limits.memory_bytes);
    EXPECT_GE(*kotlin.compile_limits.memory_bytes, 1ull << 30);
    ASSERT_TRUE(kotlin.compile_limits.pids);
    EXPECT_GE(*kotlin.compile_limits.pids, 128u);
    const Language java = load_shipped("java");
    ASSERT_TRUE(java.run_limits.memory_bytes);
    EXPECT_GE(*java.run_limits.memory_bytes, 512ull << 20);
    ASSERT_EQ(java.binds.size(), 1u);
    EXPECT_EQ(java.binds[0].source, "/etc/java-*-openjdk");
    EXPECT_EQ(load_shipped("go").env.at("GOCACHE"), "/tmp/go-build");
}

TEST(ShippedLanguages, Python) {
    const Language l = load_shipped("python");
    EXPECT_EQ(l.display_name, "Python 3");
    EXPECT_EQ(l.aliases, (Argv{"py", "py3", "python3"}));
    EXPECT_EQ(l.extensions, Argv{"py"});
    EXPECT_EQ(l.source_file, "main.py");
    EXPECT_FALSE(l.compiled());
    EXPECT_EQ(l.expand(l.run), (Argv{"/usr/bin/python3", "main.py"}));
    EXPECT_EQ(l.version, (Argv{"/usr/bin/python3", "--version"}));
    EXPECT_EQ(l.env.at("PYTHONDONTWRITEBYTECODE"), "1");
}

TEST(ShippedLanguages, CompiledLanguagesRunTheirOutput) {
    const Language c = load_shipped("c");
    EXPECT_TRUE(c.compiled());
    EXPECT_EQ(c.expand(c.compile, {"util.c", "main.c"}),
              (Argv{"/usr/bin/gcc", "-O2", "-std=gnu17", "-pipe", "-o", "main", "util.c", "main.c", "-lm"}));
    EXPECT_EQ(c.run, Argv{"./main"});
    const Language cpp = load_shipped("cpp");
    EXPECT_EQ(cpp.expand(cpp.compile),
              (Argv{"/usr/bin/g++", "-O2", "-std=gnu++17", "-pipe", "-o", "main", "main.cpp", "-lm", "-lpthread"}));
    EXPECT_EQ(cpp.run, Argv{"./main"});
}

TEST(ShippedLanguages, BashAndJavascript) {
    const Language bash = load_shipped("bash");
    EXPECT_EQ(bash.run.front(), "/usr/bin/bash");
    const Language js = load_shipped("javascript");
    EXPECT_EQ(js.run.front(), "/usr/bin/node");
    EXPECT_NE(std::find(js.aliases.begin(), js.aliases.end(), "js"), js.aliases.end());
    EXPECT_NE(std::find(js.aliases.begin(), js.aliases.end(), "node"), js.aliases.end());
}

TEST(ParseLanguage, MinimalFileDefaultsDisplayNameToName) {
    const Language l = parse_ok(kMinimal);
    EXPECT_EQ(l.name, "x");
    EXPECT_EQ(l.display_name, "x");
    EXPECT_EQ(l.source_path, "lang.toml");
    EXPECT_TRUE(l.aliases.empty());
    EXPECT_TRUE(l.version.empty());
    EXPECT_FALSE(l.compiled());
}

TEST(ParseLanguage, ExpandReplacesEveryOccurrence) {
    Language l;
    l.source_file = "main.rs";
    EXPECT_EQ(l.expand({"/usr/bin/rustc", "--crate-name={source}", "{source}", "{source}{source}", "-"}),
              (Argv{"/usr/bin/rustc", "--crate-name=main.rs", "main.rs", "main.rsmain.rs", "-"}));
    l.source_file = "{source}";  // a replacement holding the placeholder is not expanded again
    EXPECT_EQ(l.expand({"{source}"}), Argv{"{source}"});
}

TEST(ParseLanguage, BracesThatAreNotPlaceholdersAreKept) {
    const Language l = parse_ok(
        "name = \"x\"\nsource_file = \"m\"\nrun = [\"/usr/bin/bash\", \"-c\", \"echo {1..3} {A}\"]\n");
    EXPECT_EQ(l.run[2], "echo {1..3} {A}");
}

TEST(LanguageErrors, MissingRequiredKeys) {
    expect_error("source_file = \"m\"\nrun = [\"/x\"]\n", 1, "missing required key 'name'");
    expect_error("name = \"x\"\nrun = [\"/x\"]\n", 1, "missing required key 'source_file'");
    expect_error("name = \"x\"\nsource_file = \"m\"\n", 1, "missing required key 'run'");
}

TEST(LanguageErrors, UnknownKeysAndTypes) {
    expect_error(std::string(kMinimal) + "\ncompiler = [\"/usr/bin/cc\"]\n", 5, "unknown key 'compiler'");
    expect_error(std::string(kMinimal) + "aliases = \"py\"\n", 4, "aliases: expected an array, got a string");
    expect_error(std::string(kMinimal) + "[env]\nX = 1\n", 5, "env.X: expected a string");
    expect_error("name = \"x\"\nsource_file = \"m\"\nrun = \"/usr/bin/x\"\n", 3, "run: expected an array");
    expect_error("name = \"x\"\nsource_file = \"m\"\nrun = [\"/usr/bin/x\", 1]\n", 3,
                 "run[1]: expected a string, got an integer");
    expect_error("name = \"x\" = 1\n", 1, "");
}

TEST(LanguageErrors, Names) {
    expect_error("name = \"Python\"\nsource_file = \"m\"\nrun = [\"/x\"]\n", 1,
                 "name: 'Python' must match [a-z0-9][a-z0-9_+#.-]*");
    expect_error(std::string(kMinimal) + "aliases = [\"ok\", \"Not OK\"]\n", 4, "aliases[1]: 'Not OK'");
    expect_error(std::string(kMinimal) + "aliases = [\"x\"]\n", 4, "repeats the name or another alias");
    expect_error(std::string(kMinimal) + "aliases = [\"y\", \"y\"]\n", 4, "repeats");
    expect_error(std::string(kMinimal) + "display_name = \"\"\n", 4, "display_name: must not be empty");
}

TEST(LanguageErrors, Extensions) {
    expect_error(std::string(kMinimal) + "extensions = [\".py\"]\n", 4,
                 "extensions[0]: write extensions without the dot ('py', not '.py')");
    expect_error(std::string(kMinimal) + "extensions = [\"a/b\"]\n", 4, "extensions[0]: 'a/b'");
    expect_error(std::string(kMinimal) + "extensions = [\"py\", \"py\"]\n", 4, "'py' is listed twice");
}

TEST(LanguageErrors, SourceFileIsAPlainName) {
    expect_error("name = \"x\"\nsource_file = \"src/main.x\"\nrun = [\"/x\"]\n", 2,
                 "source_file: 'src/main.x' must be a plain file name");
    expect_error("name = \"x\"\nsource_file = \"..\"\nrun = [\"/x\"]\n", 2, "plain file name");
    expect_error("name = \"x\"\nsource_file = \"\"\nrun = [\"/x\"]\n", 2, "plain file name");
}

TEST(LanguageErrors, Argv) {
    expect_error("name = \"x\"\nsource_file = \"m\"\nrun = []\n", 3, "run: must not be empty");
    expect_error("name = \"x\"\nsource_file = \"m\"\nrun = [\"python3\"]\n", 3,
                 "run[0]: 'python3' must be an absolute path or start with './'");
    expect_error("name = \"x\"\nsource_file = \"m\"\nrun = [\"./\"]\n", 3, "run[0]");
    expect_error(std::string(kMinimal) + "compile = [\"./cc\"]\n", 4, "compile[0]: './cc' must be an absolute path");
    expect_error(std::string(kMinimal) + "compile = []\n", 4, "leave it out for interpreted languages");
    expect_error(std::string(kMinimal) + "version = [\"x\", \"--version\"]\n", 4, "version[0]");
    expect_error("name = \"x\"\nsource_file = \"m\"\nrun = [\n  \"/usr/bin/x\",\n  \"{src}\",\n]\n", 5,
                 "run[1]: unknown placeholder '{src}'");
}

TEST(ParseLanguage, SourcesPlaceholderExpandsToEverySourceFile) {
    const Language l = parse_ok("name = \"c\"\nsource_file = \"main.c\"\nextensions = [\"c\"]\n"
                                "compile = [\"/usr/bin/gcc\", \"-o\", \"main\", \"{sources}\", \"-lm\"]\nrun = [\"./main\"]\n");
    EXPECT_EQ(l.expand(l.compile, {"main.c", "util.c"}), (Argv{"/usr/bin/gcc", "-o", "main", "main.c", "util.c", "-lm"}));
    EXPECT_EQ(l.expand(l.compile), (Argv{"/usr/bin/gcc", "-o", "main", "main.c", "-lm"}));
    EXPECT_TRUE(l.is_source_name("util.c"));
    EXPECT_TRUE(l.is_source_name("lib/util.c"));
    EXPECT_FALSE(l.is_source_name("util.h"));
    EXPECT_FALSE(l.is_source_name(".c"));
    EXPECT_FALSE(l.is_source_name("notc"));
}

TEST(ParseLanguage, StageLimitsBindsAndArtifacts) {
    const Language l = parse_ok(std::string(kMinimal) +
                                "artifacts = [\"main\", \"*.class\"]\n"
                                "[limits]\nmemory = \"512MiB\"\npids = 128\n"
                                "[compile_limits]\ncpu_time = \"30s\"\ncpu_cores = 2\ntmpfs = \"256MiB\"\n"
                                "[filesystem]\nread_only = [\"/etc/java-*-openjdk\"]\n"
                                "bind = [{ source = \"/etc/php\", optional = true }, { source = \"/opt/x\", target = \"/x\" }]\n");
    EXPECT_EQ(l.artifacts, (Argv{"main", "*.class"}));
    EXPECT_EQ(l.run_limits.memory_bytes, 512ull << 20);
    EXPECT_EQ(l.run_limits.pids, 128u);
    EXPECT_FALSE(l.run_limits.cpu_time);
    EXPECT_EQ(l.compile_limits.cpu_time, std::chrono::seconds(30));
    EXPECT_EQ(l.compile_limits.cpu_cores, 2.0);
    EXPECT_EQ(l.compile_limits.tmpfs_bytes, 256ull << 20);
    ASSERT_EQ(l.binds.size(), 3u);
    EXPECT_EQ(l.binds[0], (BindMount{"/etc/java-*-openjdk", "/etc/java-*-openjdk", false, false}));
    EXPECT_EQ(l.binds[1], (BindMount{"/etc/php", "/etc/php", false, true}));
    EXPECT_EQ(l.binds[2], (BindMount{"/opt/x", "/x", false, false}));
}

TEST(LanguageErrors, StageLimitsBindsAndArtifacts) {
    expect_error(std::string(kMinimal) + "[limits]\nmemroy = \"1GiB\"\n", 5, "unknown key 'memroy' in [limits]");
    expect_error(std::string(kMinimal) + "[limits]\nmemory = { default = \"1GiB\", max = \"2GiB\" }\n", 5,
                 "limits.memory: a language sets one value per limit");
    expect_error(std::string(kMinimal) + "[compile_limits]\npids = 0\n", 5, "compile_limits.pids: must be between 1");
    expect_error(std::string(kMinimal) + "[compile_limits]\nmemory = \"lots\"\n", 5, "compile_limits.memory: invalid size");
    expect_error(std::string(kMinimal) + "[filesystem]\nwritable = [\"/srv\"]\n", 5, "unknown key 'writable'");
    expect_error(std::string(kMinimal) + "[filesystem]\nread_only = [\"etc/R\"]\n", 5, "must be an absolute path");
    expect_error(std::string(kMinimal) + "[filesystem]\nread_only = [\"/proc/self\"]\n", 5, "is reserved");
    expect_error(std::string(kMinimal) + "[filesystem]\nread_only = [\"/a\", \"/a\"]\n", 5, "bound twice");
    expect_error(std::string(kMinimal) + "[filesystem]\nbind = [{ source = \"/a\", writable = true }]\n", 5,
                 "unknown key 'writable'");
    expect_error(std::string(kMinimal) + "artifacts = [\"../x\"]\n", 4, "artifacts[0]: '../x' must be a relative path");
    expect_error(std::string(kMinimal) + "artifacts = [\"/main\"]\n", 4, "artifacts[0]");
    expect_error(std::string(kMinimal) + "version = [\"/usr/bin/x\", \"{sources}\"]\n", 4,
                 "version[1]: unknown placeholder '{sources}'");
    expect_error(std::string(kMinimal) + "compile = [\"/usr/bin/cc\", \"-I{sources}\"]\n", 4,
                 "compile[1]: unknown placeholder '{sources}' (there are {source}, and {sources} as a whole argument)");
}

TEST(LoadLanguageFile, MissingFileNamesIt) {
    auto r = load_language_file("/nonexistent/l.toml");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), "read language file /nonexistent/l.toml: No such file or directory");
}

}  // namespace
}  // namespace sbx::policy

namespace sbx::policy {
namespace {

TEST(SessionCommand, ShippedDriversForPythonJavascriptAndBash) {
    for (const char* name : {"python", "javascript", "bash"}) {
        const Language l = load_shipped(name);
        ASSERT_TRUE(l.has_session()) << name;
        auto argv = l.session_command("/drivers");
        EXPECT_TRUE(std::any_of(argv.begin(), argv.end(),
                                [](const std::string& a) { return a.starts_with("/drivers/") && a.find("_driver") != std::string::npos; }))
            << name;
        // Each driver the command names ships in policy/drivers.
        for (const auto& a : argv) {
            if (a.starts_with("/drivers/")) {
                EXPECT_TRUE(std::filesystem::exists(source_tree_policy_dir() / "drivers" / a.substr(9))) << a;
            }
        }
    }
    EXPECT_FALSE(load_shipped("c").has_session());
}

TEST(SessionCommand, DriversPlaceholderOnlyInTheSessionCommand) {
    Language l = parse_ok(std::string(kMinimal) + "session = [\"/usr/bin/x\", \"{drivers}/x_driver\", \"{source}\"]\n");
    EXPECT_EQ(l.session_command("/d"), (Argv{"/usr/bin/x", "/d/x_driver", "main.x"}));
    expect_error(std::string(kMinimal) + "version = [\"/usr/bin/x\", \"{drivers}\"]\n", 4, "the only one is {source}");
    expect_error(std::string(kMinimal) + "session = [\"/usr/bin/x\", \"{driver}\"]\n", 4, "known: {source}, {drivers}");
    expect_error(std::string(kMinimal) + "session = [\"x_driver\"]\n", 4, "must be an absolute path");
    expect_error(std::string(kMinimal) + "session = []\n", 4, "session: must not be empty");
}

}  // namespace
}  // namespace sbx::policy
