// Placeholder expansion in a language's argv.
#include "policy/language.hpp"

namespace sbx::policy {

namespace {

std::vector<std::string> replace_all(const std::vector<std::string>& argv, std::string_view placeholder,
                                     const std::string& value) {
    std::vector<std::string> out;
    out.reserve(argv.size());
    for (std::string arg : argv) {
        for (std::size_t at = arg.find(placeholder); at != std::string::npos;
             at = arg.find(placeholder, at + value.size())) {
            arg.replace(at, placeholder.size(), value);
        }
        out.push_back(std::move(arg));
    }
    return out;
}

}  // namespace

std::vector<std::string> Language::expand(const std::vector<std::string>& argv) const {
    return replace_all(argv, "{source}", source_file);
}

std::vector<std::string> Language::session_command(const std::string& drivers_dir) const {
    return replace_all(expand(session), "{drivers}", drivers_dir);
}

}  // namespace sbx::policy
