# Every dependency comes from a Debian 12 package; scripts/install-deps.sh installs them.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
pkg_check_modules(SECCOMP REQUIRED IMPORTED_TARGET libseccomp)
pkg_check_modules(NL_ROUTE REQUIRED IMPORTED_TARGET libnl-route-3.0)
pkg_check_modules(NFTABLES REQUIRED IMPORTED_TARGET libnftables)
find_package(Boost 1.74 REQUIRED)
find_package(msgpack-cxx QUIET)
if(NOT msgpack-cxx_FOUND)
  find_package(msgpack REQUIRED)  # Debian 12 names the package config "msgpack"
endif()
find_package(CLI11 REQUIRED)

if(SANDBOXD_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
