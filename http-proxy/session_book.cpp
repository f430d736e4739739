#include "http-proxy/session_book.hpp"

namespace sbx::http {

std::optional<std::string> SessionBook::find(const std::string& owner, const std::string& language) const {
    for (const auto& [id, e] : entries_)
        if (e.owner == owner && (e.language == language || e.aliases.count(language) != 0)) return id;
    return std::nullopt;
}

const SessionBook::Entry* SessionBook::entry(const std::string& session_id) const {
    auto it = entries_.find(session_id);
    return it == entries_.end() ? nullptr : &it->second;
}

void SessionBook::add(const std::string& client, const std::string& owner, const protocol::SessionInfo& info,
                      const std::string& asked) {
    auto [it, added] = entries_.try_emplace(info.session_id);
    Entry& e = it->second;
    if (added) e.added = clock_++;
    e.session_id = info.session_id;
    e.client = client;
    e.owner = owner;
    e.language = info.language;
    if (!asked.empty() && asked != info.language) e.aliases.insert(asked);
}

void SessionBook::forget(const std::string& session_id) { entries_.erase(session_id); }

void SessionBook::sync(const std::string& client, const std::string& owner,
                       const std::vector<protocol::SessionInfo>& listed, std::uint64_t asked) {
    std::set<std::string> alive;
    for (const auto& info : listed) {
        alive.insert(info.session_id);
        if (entries_.count(info.session_id) == 0) add(client, owner, info);
    }
    for (auto it = entries_.begin(); it != entries_.end();)
        it = it->second.owner == owner && it->second.added < asked && alive.count(it->first) == 0 ? entries_.erase(it)
                                                                                                 : std::next(it);
}

std::size_t SessionBook::held(const std::string& client) const {
    std::size_t n = 0;
    for (const auto& [id, e] : entries_) n += e.client == client ? 1 : 0;
    auto r = reserved_.find(client);
    return n + (r == reserved_.end() ? 0 : r->second);
}

void SessionBook::unreserve(const std::string& client) {
    auto it = reserved_.find(client);
    if (it == reserved_.end()) return;
    if (--it->second == 0) reserved_.erase(it);
}

std::vector<std::string> SessionBook::owners_of(const std::string& client) const {
    std::set<std::string> owners;
    for (const auto& [id, e] : entries_)
        if (e.client == client) owners.insert(e.owner);
    return {owners.begin(), owners.end()};
}

std::vector<std::pair<std::string, std::string>> SessionBook::all_owners() const {
    std::set<std::pair<std::string, std::string>> owners;
    for (const auto& [id, e] : entries_) owners.insert({e.client, e.owner});
    return {owners.begin(), owners.end()};
}

}  // namespace sbx::http
