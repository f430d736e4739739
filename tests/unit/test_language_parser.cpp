// Language files: the shipped ones, every key, placeholders, and "<file>:<line>:" errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

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

TEST(ShippedLanguages, EveryFileParses) {
    for (const char* name : {"python", "bash", "c", "cpp", "javascript"}) {
        const Language l = load_shipped(name);
        EXPECT_EQ(l.name, name);
        EXPECT_FALSE(l.display_name.empty());
        EXPECT_FALSE(l.run.empty());
        EXPECT_FALSE(l.version.empty());
        EXPECT_FALSE(l.extensions.empty());
    }
}

TEST(ShippedLanguages, Python) {
    const Language l = load_shipped("python");
    EXPECT_EQ(l.display_name, "Python 3");
    EXPECT_EQ(l.aliases, (Argv{"py", "python3"}));
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
    EXPECT_EQ(c.expand(c.compile),
              (Argv{"/usr/bin/gcc", "-O2", "-std=c17", "-o", "main", "main.c", "-lm"}));
    EXPECT_EQ(c.run, Argv{"./main"});
    const Language cpp = load_shipped("cpp");
    EXPECT_EQ(cpp.expand(cpp.compile),
              (Argv{"/usr/bin/g++", "-O2", "-std=c++17", "-o", "main", "main.cpp"}));
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
                 "name: 'Python' must match [a-z0-9][a-z0-9_+.-]*");
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
