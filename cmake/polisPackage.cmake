# Debian packages: `cd build && cpack -G DEB` writes two .deb files.
#   polis_<v>_amd64.deb          component "runtime": /usr/bin/polis (and the
#                                systemd unit template once it exists). What a
#                                machine that runs nodes installs: it pulls in
#                                only the shared libraries the binary uses.
#   libpolis-dev_<v>_amd64.deb   component "development": static libraries,
#                                headers, .proto files, the CMake package and
#                                polis.pc. What a machine that builds servers
#                                installs: it pulls in the -dev packages and
#                                protoc that find_package(polis) needs.
# Two packages, not one: the libraries are static, so a node machine needs
# none of the development part, and one package would drag compilers'
# headers, protoc and every -dev package onto each server and container.
include_guard(GLOBAL)

set(CPACK_PACKAGE_NAME polis)
set(CPACK_PACKAGE_VENDOR "polis")
set(CPACK_PACKAGE_CONTACT "polis maintainers <polis@localhost>")
# No CPACK_PACKAGE_DESCRIPTION_SUMMARY: CPack would put it before each
# component's own synopsis line below.
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime development)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# gzip: a few times faster than xz on the static libraries' debug info.
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME polis)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION net)
# First line: the synopsis; the rest: the long description (CPack indents it).
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION
    "OTP-style GenServers in C++20 over ZeroMQ - the polis tool
The polis command line: run a node (polis node) hosting named servers
under a supervision tree; call, cast and send to them from the shell
(polis call); list nodes and processes, query traces, benchmark.")
# The shared libraries /usr/bin/polis links (ldd), by their Debian 12 packages.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS
    "libc6 (>= 2.36), libstdc++6 (>= 12), libgcc-s1, libzmq5 (>= 4.3.4), libprotobuf32 (>= 3.21.12), libabsl20220623, libcpp-httplib0.11, libsodium23")

set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME libpolis-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEVELOPMENT_DESCRIPTION
    "OTP-style GenServers in C++20 over ZeroMQ - development files
Static libraries, headers and .proto files of polis, with a CMake package
(find_package(polis), polis::genserver, polis_add_proto) and a pkg-config
file (polis.pc).")
# What find_package(polis) / pkg-config --libs polis find, and protoc for
# polis_add_proto.
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS
    "libzmq3-dev, cppzmq-dev, libprotobuf-dev, protobuf-compiler, libabsl-dev, libcpp-httplib-dev, libsodium-dev, pkg-config")
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_RECOMMENDS "cmake (>= 3.25), g++ (>= 4:12)")
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SUGGESTS "polis")

# The systemd unit template (tools/deploy/polis-node@.service, written
# elsewhere) goes to /usr/lib/systemd/system/ in the runtime package when the
# file is there at configure time.
set(POLIS_SYSTEMD_UNIT "${PROJECT_SOURCE_DIR}/tools/deploy/polis-node@.service")
if(EXISTS "${POLIS_SYSTEMD_UNIT}")
  install(FILES "${POLIS_SYSTEMD_UNIT}" DESTINATION lib/systemd/system COMPONENT runtime)
endif()

include(CPack)
