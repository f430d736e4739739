// Placeholder expansion in a language's argv.
#include "policy/language.hpp"

namespace sbx::policy {

std::vector<std::string> Language::expand(const std::vector<std::string>& argv) const {
    static constexpr std::string_view kSource = "{source}";
    std::vector<std::string> out;
    out.reserve(argv.size());
    for (std::string arg : argv) {
        for (std::size_t at = arg.find(kSource); at != std::string::npos;
             at = arg.find(kSource, at + source_file.size())) {
            arg.replace(at, kSource.size(), source_file);
        }
        out.push_back(std::move(arg));
    }
    return out;
}

}  // namespace sbx::policy
