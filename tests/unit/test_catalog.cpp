// The catalog: loading directories all or nothing, lookups by name, alias and extension.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <fstream>

#include "policy/catalog.hpp"

namespace sbx::policy {
namespace {

namespace fs = std::filesystem;

// A fresh directory with policies/ and languages/ under it, removed at the end of the test.
class CatalogTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "sandboxd-catalog-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        root_ = pattern;
        fs::create_directory(policies());
        fs::create_directory(languages());
    }
    void TearDown() override {
        std::error_code ec;
        if (!root_.empty()) fs::remove_all(root_, ec);
    }

    fs::path policies() const { return root_ / "policies"; }
    fs::path languages() const { return root_ / "languages"; }

    static void write(const fs::path& path, std::string_view text) {
        std::ofstream out(path);
        out << text;
    }

    static std::string language_toml(std::string_view name, std::string_view aliases,
                                     std::string_view extensions) {
        return "name = \"" + std::string(name) + "\"\naliases = [" + std::string(aliases) +
               "]\nextensions = [" + std::string(extensions) +
               "]\nsource_file = \"main\"\nrun = [\"/usr/bin/true\"]\n";
    }

    Result<Catalog> load() const { return Catalog::load(policies(), languages()); }

    std::string load_error() const {
        auto r = load();
        EXPECT_FALSE(r.ok());
        return r.ok() ? std::string() : r.error().message();
    }

    fs::path root_;
};

TEST_F(CatalogTest, LoadsTheSourceTree) {
    auto r = Catalog::load(source_tree_policy_dir() / "policies", source_tree_policy_dir() / "languages");
    ASSERT_TRUE(r.ok()) << r.error().message();
    ASSERT_NE(r->policy("default"), nullptr);
    EXPECT_EQ(r->policy("default")->limits.pids.default_value, 64u);
    EXPECT_EQ(r->policy("default")->limits.pids.maximum, 512u);
    EXPECT_EQ(r->languages().size(), 35u);
    ASSERT_NE(r->language("py"), nullptr);
    EXPECT_EQ(r->language("py")->name, "python");
    ASSERT_NE(r->language("JS"), nullptr);
    EXPECT_EQ(r->language("JS")->name, "javascript");
    ASSERT_NE(r->language("C++"), nullptr);
    EXPECT_EQ(r->language("C++")->name, "cpp");
    ASSERT_NE(r->language_for_extension("c"), nullptr);
    EXPECT_EQ(r->language_for_extension("c")->name, "c");
}

TEST_F(CatalogTest, LookupsByNameAliasAndExtension) {
    write(policies() / "a.toml", "");
    write(policies() / "b.toml", "name = \"strict\"\n");
    write(languages() / "python.toml", language_toml("python", "\"py\", \"python3\"", "\"py\", \"pyw\""));
    write(languages() / "ruby.toml", language_toml("ruby", "\"rb\"", "\"rb\""));
    auto r = load();
    ASSERT_TRUE(r.ok()) << r.error().message();
    const Catalog& c = *r;

    EXPECT_EQ(c.policies().size(), 2u);
    ASSERT_NE(c.policy("a"), nullptr);
    ASSERT_NE(c.policy("strict"), nullptr);
    EXPECT_EQ(c.policy("strict")->source_path, (policies() / "b.toml").string());
    EXPECT_EQ(c.policy("b"), nullptr);
    EXPECT_EQ(c.policy("STRICT"), nullptr);  // policy names are exact

    for (const char* key : {"python", "Python", "PY", "py", "python3", "PyThOn3"}) {
        ASSERT_NE(c.language(key), nullptr) << key;
        EXPECT_EQ(c.language(key)->name, "python") << key;
    }
    EXPECT_EQ(c.language("RB")->name, "ruby");
    EXPECT_EQ(c.language("perl"), nullptr);
    EXPECT_EQ(c.language(""), nullptr);

    EXPECT_EQ(c.language_for_extension("pyw")->name, "python");
    EXPECT_EQ(c.language_for_extension("rb")->name, "ruby");
    EXPECT_EQ(c.language_for_extension(".rb"), nullptr);
    EXPECT_EQ(c.language_for_extension("pl"), nullptr);
}

TEST_F(CatalogTest, OnlyVisibleTomlFilesAreRead) {
    write(policies() / "default.toml", "");
    write(policies() / "notes.txt", "not toml at all = = =");
    write(policies() / ".default.toml.swp.toml", "broken = = =");
    fs::create_directory(policies() / "sub.toml");
    auto r = load();
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->policies().size(), 1u);
    EXPECT_TRUE(r->languages().empty());
}

TEST_F(CatalogTest, DuplicatePolicyNamesNameBothFiles) {
    write(policies() / "a.toml", "name = \"same\"\n");
    write(policies() / "b.toml", "name = \"same\"\n");
    EXPECT_EQ(load_error(), (policies() / "b.toml").string() + ": policy 'same' is already defined in " +
                                (policies() / "a.toml").string());
}

TEST_F(CatalogTest, PolicyNameFromStemClashesWithExplicitName) {
    write(policies() / "a.toml", "name = \"b\"\n");
    write(policies() / "b.toml", "");
    const std::string message = load_error();
    EXPECT_NE(message.find("policy 'b'"), std::string::npos) << message;
    EXPECT_NE(message.find("a.toml"), std::string::npos) << message;
    EXPECT_NE(message.find("b.toml"), std::string::npos) << message;
}

TEST_F(CatalogTest, LanguageNameAliasOrExtensionClaimedTwice) {
    write(policies() / "default.toml", "");
    write(languages() / "a.toml", language_toml("one", "\"uno\"", "\"x1\""));
    write(languages() / "b.toml", language_toml("two", "\"UNO\"", "\"x2\""));
    // Aliases are case-insensitive, so "UNO" is refused (aliases must be lowercase anyway).
    EXPECT_NE(load_error().find("b.toml:2: aliases[0]"), std::string::npos);

    write(languages() / "b.toml", language_toml("two", "\"uno\"", "\"x2\""));
    EXPECT_EQ(load_error(), (languages() / "b.toml").string() +
                                ": language name or alias 'uno' is already defined in " +
                                (languages() / "a.toml").string());

    write(languages() / "b.toml", language_toml("uno", "", "\"x2\""));
    EXPECT_NE(load_error().find("language name or alias 'uno'"), std::string::npos);

    write(languages() / "b.toml", language_toml("two", "", "\"x1\""));
    EXPECT_EQ(load_error(), (languages() / "b.toml").string() + ": extension 'x1' is already defined in " +
                                (languages() / "a.toml").string());
}

TEST_F(CatalogTest, BadFileFailsTheWholeLoadWithItsLine) {
    write(policies() / "a.toml", "");
    write(policies() / "b.toml", "[limits]\nmemroy = 1\n");
    EXPECT_EQ(load_error(), (policies() / "b.toml").string() + ":2: unknown key 'memroy' in [limits]");
}

TEST_F(CatalogTest, EmptyPoliciesDirectory) {
    EXPECT_EQ(load_error(), "no policies in " + policies().string());
}

TEST_F(CatalogTest, MissingDirectoriesAreNamed) {
    EXPECT_EQ(Catalog::load(root_ / "nope", languages()).error().message(),
              "policy directory " + (root_ / "nope").string() + ": No such file or directory");
    write(policies() / "default.toml", "");
    EXPECT_EQ(Catalog::load(policies(), root_ / "nope").error().message(),
              "language directory " + (root_ / "nope").string() + ": No such file or directory");
    EXPECT_EQ(Catalog::load(policies() / "default.toml", languages()).error().message(),
              "policy directory " + (policies() / "default.toml").string() + ": Not a directory");
}

TEST(SourceTreePolicyDir, HoldsPoliciesAndLanguages) {
    EXPECT_TRUE(fs::is_directory(source_tree_policy_dir() / "policies"));
    EXPECT_TRUE(fs::is_directory(source_tree_policy_dir() / "languages"));
}

}  // namespace
}  // namespace sbx::policy
