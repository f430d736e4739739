// Attacks on the network from a jail of the default policy (network mode "none"). The test only
// listens on the host's loopback; it changes no interface, route or rule.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <gtest/gtest.h>

#include "tests/support/jail_harness.hpp"

namespace sbx::testing {
namespace {

using jail::JobStatus;

TEST(NetworkEscape, OnlyLoopbackExists) {
    auto r = JailHarness::get().py("import socket\nprint(socket.if_nameindex())");
    ASSERT_EQ(r.status, JobStatus::ok) << r.stderr_data;
    EXPECT_EQ(r.stdout_data, "[(1, 'lo')]\n");
}

TEST(NetworkEscape, HostLoopbackServerIsUnreachable) {
    int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ASSERT_GE(server, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(listen(server, 8), 0);
    socklen_t len = sizeof addr;
    ASSERT_EQ(getsockname(server, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    int port = ntohs(addr.sin_port);

    auto r = JailHarness::get().run({"/usr/bin/python3", "-c", R"(
import errno, socket, sys
port = int(sys.argv[1])
for host in ['127.0.0.1', '10.0.2.2', '8.8.8.8', '169.254.169.254']:
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((host, port if host == '127.0.0.1' else 80))
        print(host, 'connected')
    except OSError as e:
        print(host, errno.errorcode.get(e.errno, e))
)",
                                      std::to_string(port)});
    EXPECT_EQ(r.status, JobStatus::ok) << r.stderr_data;
    EXPECT_EQ(r.stdout_data,
              "127.0.0.1 ECONNREFUSED\n10.0.2.2 ENETUNREACH\n8.8.8.8 ENETUNREACH\n169.254.169.254 ENETUNREACH\n");
    // Nothing reached the host's listener.
    sockaddr_in peer{};
    socklen_t peer_len = sizeof peer;
    EXPECT_EQ(accept4(server, reinterpret_cast<sockaddr*>(&peer), &peer_len, SOCK_CLOEXEC), -1);
    EXPECT_EQ(errno, EAGAIN);
    close(server);
}

TEST(NetworkEscape, AbstractUnixSocketsOfTheHostAreUnreachable) {
    // Abstract unix sockets belong to the network namespace.
    int server = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(server, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string name = "sandboxd-test-abstract-" + std::to_string(getpid());
    std::memcpy(addr.sun_path + 1, name.data(), name.size());
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&addr), len), 0);
    ASSERT_EQ(listen(server, 8), 0);
    auto r = JailHarness::get().run({"/usr/bin/python3", "-c", R"(
import errno, socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect('\0' + sys.argv[1])
    print('connected')
except OSError as e:
    print(errno.errorcode[e.errno])
)",
                                     name});
    EXPECT_EQ(r.stdout_data, "ECONNREFUSED\n") << r.stderr_data;
    close(server);
}

}  // namespace
}  // namespace sbx::testing
