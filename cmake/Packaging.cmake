# The Debian package, built by CPack from the same install rules as `cmake --install`:
#   cmake --build build && (cd build && cpack)        -> build/sandboxd_<version>_<arch>.deb
# (scripts/package.sh does this). Contents: the programs in /usr/sbin and /usr/bin, policies and
# languages in /etc/sandboxd as conffiles, units, sysusers.d, tmpfiles.d, man pages, bash
# completion, documents. Maintainer scripts (cmake/deb/) create the group and user, the
# directories, enable sandboxd, and on purge remove all of it again.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sandboxd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "sandboxd")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "jails for untrusted code: daemon, command-line client, HTTP API")
set(CPACK_PACKAGE_DESCRIPTION "\
sandboxd runs other people's programs fast and never lets them out: each job gets fresh
namespaces, an empty root with read-only binds, cgroup limits, an unprivileged box uid, no
capabilities and a seccomp filter, all from TOML policy files. sandboxctl is its command-line
client; sandbox-http serves its HTTP API, compatible with the APIs of other code-execution
servers.")
set(SANDBOXD_DEB_MAINTAINER "sandboxd maintainers <maintainers@users.noreply.b-seed-134a2b8f.example>"
  CACHE STRING "Maintainer field of the Debian package")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${SANDBOXD_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)

# The shared libraries the programs link (libseccomp2, libnl-route-3-200, libnftables1,
# libsqlite3-0, libspdlog, libfmt, libstdc++...), found by dpkg-shlibdeps, plus what the
# maintainer scripts and the unit run: deb-systemd-helper, useradd/groupadd, /bin/kill.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "init-system-helpers (>= 1.52), passwd, procps")
# The shipped languages run /usr/bin/python3, gcc, g++, node and bash.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "gcc, g++, nodejs, nftables")

# Absolute destinations (/etc/sandboxd) and units written for the final prefix need the staging
# tree to be a DESTDIR below which the real prefix, /usr, is installed.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# The programs are stripped; their symbols go to sandboxd-dbgsym_<version>_<arch>.ddeb (found by
# build id, as Debian's own -dbgsym packages), for backtraces of a crash.
set(CPACK_DEBIAN_DEBUGINFO_PACKAGE ON)

get_property(SANDBOXD_CONFFILES GLOBAL PROPERTY SANDBOXD_CONFFILES)
list(JOIN SANDBOXD_CONFFILES "\n" conffiles)
file(WRITE ${PROJECT_BINARY_DIR}/deb/conffiles "${conffiles}\n")
foreach(script postinst prerm postrm)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/deb/${script} ${PROJECT_BINARY_DIR}/deb/${script} COPYONLY)
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_BINARY_DIR}/deb/conffiles
  ${PROJECT_BINARY_DIR}/deb/postinst
  ${PROJECT_BINARY_DIR}/deb/prerm
  ${PROJECT_BINARY_DIR}/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
