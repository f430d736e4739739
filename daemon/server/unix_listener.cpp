#include "daemon/server/unix_listener.hpp"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <vector>

namespace sbx::server {

namespace {

Result<sockaddr_un> address_of(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path)
        return Error::invalid("--socket " + path, "path must be 1 to " + std::to_string(sizeof addr.sun_path - 1) + " bytes");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return addr;
}

Result<gid_t> group_id(const std::string& name) {
    group gr{};
    group* found = nullptr;
    std::vector<char> buf(16384);
    if (::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr)
        return Error::invalid("--group " + name,
                              "no such group (create it: groupadd --system " + name + ", or pass --group)");
    return found->gr_gid;
}

// A leftover socket file is replaced only when nothing answers on it.
Status check_not_in_use(const std::string& path, const sockaddr_un& addr) {
    struct stat st{};
    if (::lstat(path.c_str(), &st) != 0) return {};
    if (!S_ISSOCK(st.st_mode)) return Error::invalid("--socket " + path, "exists and is not a socket");
    UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (probe && ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0)
        return Error::invalid("--socket " + path, "another sandboxd is listening on it");
    if (::unlink(path.c_str()) != 0) return Error::system("remove stale socket " + path);
    return {};
}

}  // namespace

Result<UniqueFd> bind_control_socket(const std::string& path, const std::string& group) {
    auto addr = address_of(path);
    if (!addr) return std::move(addr).error();
    auto gid = group_id(group);
    if (!gid) return std::move(gid).error();
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) {
        std::filesystem::create_directories(dir, ec);
        if (ec) return Error::invalid("create " + dir.string(), ec.message());
    }
    if (auto s = check_not_in_use(path, *addr); !s) return std::move(s).error();

    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return Error::system("socket");
    // Never reachable with wider permissions than 0660, not even between bind and chmod.
    mode_t old = ::umask(0117);
    int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr);
    int saved = errno;
    ::umask(old);
    if (rc != 0) return Error::system("bind " + path, saved);
    if (::chown(path.c_str(), 0, *gid) != 0 || ::chmod(path.c_str(), 0660) != 0) {
        Error e = Error::system("set owner and mode of " + path);
        ::unlink(path.c_str());
        return e;
    }
    if (::listen(fd.get(), 1024) != 0) {
        Error e = Error::system("listen " + path);
        ::unlink(path.c_str());
        return e;
    }
    return fd;
}

}  // namespace sbx::server
