#include "http-proxy/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <vector>

namespace sbx::http {

namespace {

struct Account {
    uid_t uid = 0;
    gid_t gid = 0;
    std::string name;
};

Result<Account> lookup(const std::string& user) {
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr)
        return Error::invalid("--user " + user, "no such user (scripts/install-deps.sh creates sandbox-http)");
    return Account{found->pw_uid, found->pw_gid, found->pw_name};
}

}  // namespace

Status check_identity(const std::string& user) {
    if (::geteuid() == 0) {
        if (user.empty())
            return Error::invalid("sandbox-http", "refusing to run as root: pass --user NAME (e.g. --user sandbox-http) "
                                                  "to switch to an unprivileged user after start-up, or start it as "
                                                  "that user");
        auto account = lookup(user);
        if (!account) return std::move(account).error();
        if (account->uid == 0) return Error::invalid("--user " + user, "is root; name an unprivileged user");
        return {};
    }
    if (!user.empty()) {
        auto account = lookup(user);
        if (!account) return std::move(account).error();
        if (account->uid != ::geteuid())
            return Error::invalid("--user " + user, "switching users needs root; start sandbox-http as root or as " + user);
    }
    return {};
}

Status drop_privileges(const std::string& user) {
    if (::geteuid() != 0) return {};
    auto account = lookup(user);
    if (!account) return std::move(account).error();
    const std::string where = "switch to user " + user;
    if (::initgroups(account->name.c_str(), account->gid) != 0) return Error::system(where + ": initgroups");
    if (::setresgid(account->gid, account->gid, account->gid) != 0) return Error::system(where + ": setresgid");
    if (::setresuid(account->uid, account->uid, account->uid) != 0) return Error::system(where + ": setresuid");
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Error::system(where + ": PR_SET_NO_NEW_PRIVS");
    // Nothing may be left to get root back with.
    if (::setuid(0) == 0 || ::seteuid(0) == 0) return Error::invalid(where, "root could be regained after the switch");
    return {};
}

}  // namespace sbx::http
