# polis_add_proto: protobuf generation for a target's own .proto files, the
# one helper for polis's tree (examples/, tools/) and for projects that use
# the installed package (polisConfig.cmake includes this file).
#
#   polis_add_proto(TARGET accounts_lib PROTOS accounts.proto
#                   [IMPORT_DIRS dir...] [INCLUDE_PREFIX accounts])
#
# - Runs protoc on PROTOS (paths relative to the calling CMakeLists.txt's
#   folder, which is the first import dir: protoc names each file relative to
#   it) and adds the generated .pb.cc files to TARGET.
# - The generated files land in <binary dir>/gen/[INCLUDE_PREFIX/] (the
#   binary dir of the calling CMakeLists.txt: two targets there must not
#   generate the same .proto), and gen/ is a PUBLIC include dir of TARGET, so
#   code includes "accounts.pb.h" (or "INCLUDE_PREFIX/accounts.pb.h").
# - Links TARGET PUBLIC to protobuf::libprotobuf and polis::proto, and puts
#   polis's own .proto files on the import path, so a .proto may write
#   `import "polis/envelope.proto";` (and google/protobuf/*.proto as usual).
#   A MODULE library (a --load plugin) gets polis::plugin instead of
#   polis::proto: polis's generated code comes from the `polis` executable
#   that loads it, and a second copy in the plugin would register polis's
#   .proto files twice.
#   It uses the keyword form of target_link_libraries (PUBLIC): link TARGET
#   with PUBLIC/PRIVATE/INTERFACE keywords too.
# - IMPORT_DIRS: further folders .proto imports are looked up in.
#
# Needs find_package(Protobuf) done (polisConfig.cmake and polis's own
# CMakeLists.txt do it) and the polis::proto target.
include_guard(GLOBAL)

# Where polis's own .proto files are (the folder holding polis/envelope.proto):
# set once by whoever includes this file (the tree: proto/; the installed
# package: include/polis), kept in a global property so that it holds in every
# directory scope, as the function does.
function(polis_set_proto_import_dir dir)
  set_property(GLOBAL PROPERTY POLIS_PROTO_IMPORT_DIR "${dir}")
endfunction()

function(polis_add_proto)
  cmake_parse_arguments(P "" "TARGET;INCLUDE_PREFIX" "PROTOS;IMPORT_DIRS" ${ARGN})
  if(P_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "polis_add_proto: unknown arguments: ${P_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT P_TARGET OR NOT TARGET ${P_TARGET})
    message(FATAL_ERROR "polis_add_proto: TARGET must name an existing target (got \"${P_TARGET}\")")
  endif()
  if(NOT P_PROTOS)
    message(FATAL_ERROR "polis_add_proto(TARGET ${P_TARGET}): no PROTOS given")
  endif()
  if(NOT COMMAND protobuf_generate OR NOT TARGET protobuf::libprotobuf)
    message(FATAL_ERROR "polis_add_proto: find_package(Protobuf) first")
  endif()
  get_property(polis_dir GLOBAL PROPERTY POLIS_PROTO_IMPORT_DIR)
  if(NOT polis_dir OR NOT EXISTS "${polis_dir}/polis/envelope.proto")
    message(FATAL_ERROR "polis_add_proto: polis's .proto files are not found "
                        "(import dir \"${polis_dir}\")")
  endif()
  foreach(proto ${P_PROTOS})
    get_filename_component(abs "${proto}" ABSOLUTE)
    if(NOT EXISTS "${abs}")
      message(FATAL_ERROR "polis_add_proto(TARGET ${P_TARGET}): no such file: ${abs}")
    endif()
  endforeach()

  set(gen_root "${CMAKE_CURRENT_BINARY_DIR}/gen")
  set(out_dir "${gen_root}")
  if(P_INCLUDE_PREFIX)
    set(out_dir "${gen_root}/${P_INCLUDE_PREFIX}")
  endif()
  file(MAKE_DIRECTORY "${out_dir}")
  # OUT_VAR, not TARGET: protobuf_generate(TARGET) would also pick up the
  # .proto files listed among the target's sources and generate them twice.
  protobuf_generate(OUT_VAR generated
                    PROTOS ${P_PROTOS}
                    IMPORT_DIRS ${CMAKE_CURRENT_SOURCE_DIR} ${P_IMPORT_DIRS} "${polis_dir}"
                    PROTOC_OUT_DIR "${out_dir}")
  target_sources(${P_TARGET} PRIVATE ${generated})
  target_include_directories(${P_TARGET} PUBLIC "$<BUILD_INTERFACE:${gen_root}>")
  get_target_property(type ${P_TARGET} TYPE)
  if(type STREQUAL "MODULE_LIBRARY")
    target_link_libraries(${P_TARGET} PUBLIC polis::plugin protobuf::libprotobuf)
  else()
    target_link_libraries(${P_TARGET} PUBLIC polis::proto protobuf::libprotobuf)
  endif()
endfunction()
