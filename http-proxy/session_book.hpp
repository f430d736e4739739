// What sandbox-http remembers of the sessions its clients hold in sandboxd, for the two things
// sandboxd cannot do for it: finding the session of an interpreter user (user_uuid) without a
// round trip, and counting all the sessions of one client (token) across its owner names for the
// per-client cap (sandboxd counts per owner, and each user_uuid is an owner of its own).
//
// sandboxd stays the truth: an entry may outlive its session (reaped for idleness, closed by a
// restart of sandboxd); whoever finds it gone (a not_found, or a session.list without it) says so
// with forget() or sync(), and the back end's periodic sweep lists every owner here. After a
// restart of sandbox-http the book starts empty and fills again from session.list as clients come
// back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "protocol/messages.hpp"

namespace sbx::http {

class SessionBook {
public:
    struct Entry {
        std::string session_id;
        std::string client;  // the principal's owner name ("token:grader"), which the cap is counted on
        std::string owner;   // sandboxd's owner of the session (the client, or "<client>/user:<uuid>")
        std::string language;           // the language's name (sandboxd's)
        std::set<std::string> aliases;  // other names it was asked by ("py")
        std::uint64_t added = 0;        // when, in the book's own clock (see sync)
    };

    // The book's clock: a session.list sent now cannot speak of entries added from now on.
    std::uint64_t now() const { return clock_; }

    // The session `owner` has for `language` (a name or an alias it was asked by before).
    std::optional<std::string> find(const std::string& owner, const std::string& language) const;
    const Entry* entry(const std::string& session_id) const;

    // A session opened (or found) for `owner`; `asked` is the language as the client named it.
    void add(const std::string& client, const std::string& owner, const protocol::SessionInfo& info,
             const std::string& asked = "");
    void forget(const std::string& session_id);
    // sandboxd's session.list for `owner`, sent at `asked` (now() then): entries added before
    // that it does not list are forgotten (an open answered while the list was on its way is
    // kept), the ones it lists and the book lacks are added.
    void sync(const std::string& client, const std::string& owner, const std::vector<protocol::SessionInfo>& listed,
              std::uint64_t asked);

    // Sessions of `client` known here, plus opens in progress (reserved, not yet answered).
    std::size_t held(const std::string& client) const;
    void reserve(const std::string& client) { ++reserved_[client]; }
    void unreserve(const std::string& client);

    // Owner names with entries: of one client, or of everyone (for the sweep).
    std::vector<std::string> owners_of(const std::string& client) const;
    std::vector<std::pair<std::string, std::string>> all_owners() const;  // (client, owner)
    std::size_t size() const { return entries_.size(); }

private:
    std::map<std::string, Entry> entries_;              // by session id
    std::map<std::string, std::size_t> reserved_;       // by client
    std::uint64_t clock_ = 0;
};

}  // namespace sbx::http
