#include "daemon/jobs/compile_key.hpp"

#include <openssl/evp.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <memory>

namespace sbx::jobs {

namespace {

// Length-prefixed fields: "3:abc", so ("ab","c") and ("a","bc") differ.
class Serializer {
public:
    void add(std::string_view field) {
        out_ += std::to_string(field.size());
        out_ += ':';
        out_ += field;
    }
    void add(const std::vector<std::string>& fields) {
        add(std::to_string(fields.size()));
        for (const auto& f : fields) add(f);
    }
    const std::string& data() const { return out_; }

private:
    std::string out_;
};

std::string identity_of(const std::string& program) {
    std::error_code ec;
    auto real = std::filesystem::canonical(program, ec);
    struct stat st{};
    if (ec || ::stat(real.c_str(), &st) != 0) return program + ":missing";
    return real.string() + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
           std::to_string(st.st_mtim.tv_nsec) + ":" + std::to_string(st.st_ino);
}

}  // namespace

std::string sha256_hex(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), digest.data(), &length) != 1) {
        return {};  // never cached under an empty key: the caller checks
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(length * 2);
    for (unsigned int i = 0; i < length; ++i) {
        hex += kHex[digest[i] >> 4];
        hex += kHex[digest[i] & 0xf];
    }
    return hex;
}

std::string compiler_identity(const policy::Language& language) {
    std::vector<std::string> programs;
    for (const auto* argv : {&language.compile, &language.version})
        for (const auto& arg : *argv)
            if (arg.size() > 1 && arg.front() == '/' && std::find(programs.begin(), programs.end(), arg) == programs.end())
                programs.push_back(arg);
    std::string out;
    for (const auto& p : programs) out += identity_of(p) + "\n";
    return out;
}

std::string compile_key(const CompileKeyInput& in) {
    Serializer s;
    s.add("sandboxd compile cache 1");
    s.add(in.language->name);
    s.add(compiler_identity(*in.language));
    s.add(in.compile_argv);
    s.add(in.language->artifacts);
    std::vector<std::string> env = in.env;
    std::sort(env.begin(), env.end());
    s.add(env);
    s.add(in.jail->policy_name);
    s.add(in.jail->base_env);
    std::vector<std::string> binds;
    for (const auto* list : {&in.jail->binds, in.language_binds}) {
        if (list == nullptr) continue;
        for (const auto& b : *list) binds.push_back(b.source + ">" + b.target + (b.writable ? ":rw" : ":ro"));
    }
    s.add(binds);
    // Files in name order: the order a client lists them in does not change the compile.
    std::vector<const protocol::FileEntry*> files;
    for (const auto& f : in.request->files) files.push_back(&f);
    std::sort(files.begin(), files.end(), [](const auto* a, const auto* b) { return a->name < b->name; });
    s.add(in.request->source.empty() ? std::string() : in.language->source_file);
    s.add(in.request->source);
    s.add(std::to_string(files.size()));
    for (const auto* f : files) {
        s.add(f->name);
        s.add(f->executable ? "x" : "-");
        s.add(f->content);
    }
    return sha256_hex(s.data());
}

}  // namespace sbx::jobs
