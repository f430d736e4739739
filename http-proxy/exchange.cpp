#include "http-proxy/exchange.hpp"

#include <boost/beast/http/field.hpp>
#include <cctype>

namespace sbx::http {

namespace {

// %XX and '+' in a query parameter.
std::string url_decode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
                   std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
            out.push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace

Exchange::Exchange(Request request, std::string remote_address, Send send)
    : request_(std::move(request)), remote_address_(std::move(remote_address)), send_(std::move(send)) {}

Exchange::~Exchange() {
    // A handler that dropped its request without answering is a bug; the client still gets an answer.
    if (!answered_ && !aborted_ && send_)
        respond(native_error({HttpStatus::internal_server_error, "internal_error", "the request was not answered", {}}));
}

std::string_view Exchange::path() const {
    std::string_view target(request_.target().data(), request_.target().size());
    return target.substr(0, target.find('?'));
}

std::string_view Exchange::query() const {
    std::string_view target(request_.target().data(), request_.target().size());
    auto q = target.find('?');
    return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

std::optional<std::string> Exchange::query_param(std::string_view name) const {
    std::string_view q = query();
    while (!q.empty()) {
        auto amp = q.find('&');
        std::string_view pair = q.substr(0, amp);
        auto eq = pair.find('=');
        if (url_decode(pair.substr(0, eq)) == name)
            return eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        q.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

std::optional<std::string> Exchange::header(std::string_view name) const {
    auto it = request_.find(boost::beast::string_view(name.data(), name.size()));
    if (it == request_.end()) return std::nullopt;
    return std::string(it->value());
}

void Exchange::respond(Response response) {
    if (answered_ || aborted_) return;
    answered_ = true;
    held_.clear();
    auto send = std::exchange(send_, nullptr);
    for (auto& hook : answered_hooks_) hook(response);
    answered_hooks_.clear();
    abort_hooks_.clear();
    if (send) send(std::move(response));
}

void Exchange::on_abort(std::function<void()> hook) {
    if (aborted_) {
        hook();
        return;
    }
    if (!answered_) abort_hooks_.push_back(std::move(hook));
}

void Exchange::abort() {
    if (answered_ || aborted_) return;
    aborted_ = true;
    send_ = nullptr;
    held_.clear();
    auto hooks = std::exchange(abort_hooks_, {});
    for (auto& hook : hooks) hook();
    answered_hooks_.clear();
}

}  // namespace sbx::http
