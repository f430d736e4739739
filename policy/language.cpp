// Placeholder expansion in a language's argv.
#include "policy/language.hpp"

namespace sbx::policy {

std::vector<std::string> Language::expand(const std::vector<std::string>& argv,
                                          const std::vector<std::string>& sources) const {
    static constexpr std::string_view kSource = "{source}";
    std::vector<std::string> out;
    out.reserve(argv.size() + sources.size());
    for (std::string arg : argv) {
        if (arg == "{sources}") {
            if (sources.empty()) {
                out.push_back(source_file);
            } else {
                out.insert(out.end(), sources.begin(), sources.end());
            }
            continue;
        }
        for (std::size_t at = arg.find(kSource); at != std::string::npos;
             at = arg.find(kSource, at + source_file.size())) {
            arg.replace(at, kSource.size(), source_file);
        }
        out.push_back(std::move(arg));
    }
    return out;
}

std::vector<std::string> Language::session_command(const std::string& drivers_dir) const {
    static constexpr std::string_view kDrivers = "{drivers}";
    std::vector<std::string> out = expand(session);
    for (std::string& arg : out) {
        for (std::size_t at = arg.find(kDrivers); at != std::string::npos; at = arg.find(kDrivers, at + drivers_dir.size()))
            arg.replace(at, kDrivers.size(), drivers_dir);
    }
    return out;
}

bool Language::is_source_name(std::string_view file_name) const {
    for (const auto& ext : extensions) {
        if (file_name.size() > ext.size() + 1 && file_name.ends_with(ext) &&
            file_name[file_name.size() - ext.size() - 1] == '.')
            return true;
    }
    return false;
}

}  // namespace sbx::policy
