# genserver/supervisor.cmake — supervision sources and tests, included by
# genserver/CMakeLists.txt (paths relative to genserver/).
#   target_sources(polis_genserver PRIVATE ${POLIS_SUPERVISOR_SOURCES})
#   foreach(t ${POLIS_SUPERVISOR_TESTS})
#     polis_test(${t} SOURCES ${t}.cc LIBS polis::genserver polis::testing_genserver)
#   endforeach()
# The sources need absl::random_random (backoff jitter).
set(POLIS_SUPERVISOR_SOURCES
  backoff.cc
  dynamic_supervisor.cc
  supervisor.cc
  supervisor_builder.cc
  supervisor_child.cc
  supervisor_reaper.cc
)
set(POLIS_SUPERVISOR_TESTS
  server_kinds_test
  backoff_test
  supervisor_test
  dynamic_supervisor_test
)
