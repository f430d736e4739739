// Internal to the protocol library: building one msgpack payload into a std::string.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>

namespace sbx::protocol::detail {

class Writer {
public:
    Writer() : packer_(sink_) {}
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    // Containers announce their size first: map(n) is followed by n key/value pairs.
    void map(std::size_t entries);
    void array(std::size_t elements);

    void str(std::string_view value);
    // A string for a client in any language: invalid UTF-8 is replaced by U+FFFD. Replies use
    // this for every string; requests carry the caller's strings as given.
    void text(std::string_view value);
    void bin(std::string_view value);
    void uint(std::uint64_t value);
    void integer(std::int64_t value);
    void number(double value);
    void boolean(bool value);
    void nil();

    void key(std::string_view name) { str(name); }
    void strings(const std::vector<std::string>& values);
    void texts(const std::vector<std::string>& values);
    void numbers(const std::vector<double>& values);
    void uints(const std::vector<std::uint64_t>& values);
    void string_map(const std::map<std::string, std::string>& values);
    void uint_map(const std::map<std::string, std::uint64_t>& values);  // keys as text()

    std::string take() { return std::move(sink_.out); }

private:
    struct Sink {
        std::string out;
        void write(const char* data, std::size_t size) { out.append(data, size); }
    };
    Sink sink_;
    msgpack::packer<Sink> packer_;
};

}  // namespace sbx::protocol::detail
