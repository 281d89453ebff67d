# What `cmake --install` puts where (README.md, "Install"; WORKSPACE.md,
# "Packaging"):
#   lib/                  the exported static libraries
#   include/polis/        their headers, folders kept (genserver/genserver.h),
#                         the generated polis/*.pb.h and polis/*.proto
#   bin/polis             the command-line tool (tools/CMakeLists.txt)
#   lib/cmake/polis/      polisConfig.cmake, polisConfigVersion.cmake,
#                         polisTargets.cmake (polis::base, polis::genserver...),
#                         polisProto.cmake (polis_add_proto)
#   lib/pkgconfig/polis.pc
# Components: "runtime" (bin/polis, the systemd unit) and "development"
# (the rest); cmake/polisPackage.cmake makes one .deb of each.
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(POLIS_INSTALL_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}/polis")
set(POLIS_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/polis")

# polis_install_library(TARGET EXPORT_NAME [HEADERS h...]): TARGET becomes
# polis::EXPORT_NAME in the installed package, and its API headers are
# installed with every polis header they reach: HEADERS (paths from the
# source root, e.g. tools/node_main.h) when given, else every top-level
# header of the folder whose CMakeLists.txt calls this (but *test* ones).
# The one list of exported targets: a new library adds one such line beside
# its add_library (and its include dirs as $<BUILD_INTERFACE:...> /
# $<INSTALL_INTERFACE:${POLIS_INSTALL_INCLUDEDIR}>).
function(polis_install_library target export_name)
  cmake_parse_arguments(L "" "" "HEADERS" ${ARGN})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name})
  set_property(GLOBAL APPEND PROPERTY POLIS_EXPORTED_TARGETS ${target})
  if(L_HEADERS)
    set_property(GLOBAL APPEND PROPERTY POLIS_API_HEADERS ${L_HEADERS})
  else()
    file(GLOB hs RELATIVE "${PROJECT_SOURCE_DIR}" "${CMAKE_CURRENT_SOURCE_DIR}/*.h")
    list(FILTER hs EXCLUDE REGEX "test")
    set_property(GLOBAL APPEND PROPERTY POLIS_API_HEADERS ${hs})
  endif()
endfunction()

# Every polis header (relative to the source root) that `roots` include,
# directly or through others: `#include "folder/x.h"` lines naming a file of
# the source tree. Generated (.pb.h) and system headers are not followed.
function(_polis_header_closure out)
  set(todo ${ARGN})
  set(seen)
  while(todo)
    list(POP_FRONT todo rel)
    if(rel IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${rel})
    file(STRINGS "${PROJECT_SOURCE_DIR}/${rel}" lines REGEX "^#include \"[^\"]+\"")
    foreach(line ${lines})
      string(REGEX REPLACE "^#include \"([^\"]+)\".*" "\\1" inc "${line}")
      if(EXISTS "${PROJECT_SOURCE_DIR}/${inc}" AND NOT inc IN_LIST seen)
        list(APPEND todo ${inc})
      endif()
    endforeach()
  endwhile()
  list(SORT seen)
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

# Called once, at the end of the top-level CMakeLists.txt.
function(polis_install_package)
  get_property(targets GLOBAL PROPERTY POLIS_EXPORTED_TARGETS)
  get_property(roots GLOBAL PROPERTY POLIS_API_HEADERS)
  install(TARGETS ${targets} EXPORT polisTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development)
  install(EXPORT polisTargets NAMESPACE polis:: DESTINATION ${POLIS_INSTALL_CMAKEDIR}
          COMPONENT development)

  # Headers: the API headers, and internal/ ones where an API header reaches them.
  _polis_header_closure(headers ${roots})
  foreach(h ${headers})
    get_filename_component(sub "${h}" DIRECTORY)
    install(FILES "${PROJECT_SOURCE_DIR}/${h}" DESTINATION "${POLIS_INSTALL_INCLUDEDIR}/${sub}"
            COMPONENT development)
  endforeach()
  # polis::proto: the generated headers and the .proto files beside them, so
  # a user's .proto imports "polis/envelope.proto" (polis_add_proto).
  install(DIRECTORY "${PROJECT_BINARY_DIR}/proto/polis/" "${PROJECT_SOURCE_DIR}/proto/polis/"
          DESTINATION "${POLIS_INSTALL_INCLUDEDIR}/polis" COMPONENT development
          FILES_MATCHING PATTERN "*.pb.h" PATTERN "*.proto")

  configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/polisConfig.cmake.in"
                                "${PROJECT_BINARY_DIR}/polisConfig.cmake"
                                INSTALL_DESTINATION ${POLIS_INSTALL_CMAKEDIR}
                                PATH_VARS POLIS_INSTALL_INCLUDEDIR)
  write_basic_package_version_file("${PROJECT_BINARY_DIR}/polisConfigVersion.cmake"
                                   COMPATIBILITY SameMinorVersion)
  install(FILES "${PROJECT_BINARY_DIR}/polisConfig.cmake"
                "${PROJECT_BINARY_DIR}/polisConfigVersion.cmake"
                "${PROJECT_SOURCE_DIR}/cmake/polisProto.cmake"
          DESTINATION ${POLIS_INSTALL_CMAKEDIR} COMPONENT development)

  # pkg-config: static libraries, so Libs names every one, users first.
  set(libs)
  foreach(t polis_telemetry polis_genserver polis_node polis_seeds polis_bus polis_proto
            polis_base)
    if(NOT t IN_LIST targets)
      message(FATAL_ERROR "polis.pc: ${t} is not an exported target")
    endif()
    string(APPEND libs " -l${t}")
  endforeach()
  set(POLIS_PC_LIBS "${libs}")
  # The .pc files Debian's libzmq3-dev, libprotobuf-dev, libcpp-httplib-dev,
  # libsodium-dev and libabsl-dev ship (one per Abseil library polis links).
  set(POLIS_PC_REQUIRES "libzmq protobuf cpp-httplib libsodium absl_status absl_statusor absl_strings \
absl_synchronization absl_time absl_flat_hash_map absl_flat_hash_set absl_random_random absl_span")
  file(RELATIVE_PATH POLIS_PC_PREFIX_FROM_PCDIR
       "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
  string(REGEX REPLACE "/$" "" POLIS_PC_PREFIX_FROM_PCDIR "${POLIS_PC_PREFIX_FROM_PCDIR}")
  configure_file("${PROJECT_SOURCE_DIR}/cmake/polis.pc.in" "${PROJECT_BINARY_DIR}/polis.pc" @ONLY)
  install(FILES "${PROJECT_BINARY_DIR}/polis.pc"
          DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig" COMPONENT development)
endfunction()
