// genserver/server_plugin.h — marks a shared library as a polis server
// plugin, loadable with `polis node --load=PATH`.
//
// A plugin is a shared library (CMake: add_library(x MODULE ...) linked
// with polis::plugin, never with polis's static libraries: the node's own
// copy of polis must be the only one, or the plugin's kinds would go to a
// second registry). Its static initializers register server kinds
// (POLIS_REGISTER_SERVER_KIND); the loader dlopens it before the node
// starts. POLIS_SERVER_PLUGIN(), written once in one of its files, defines
// the extern "C" symbol `polis_server_plugin_abi`: the polis version and a
// tag for the C++ ABI (compiler family and major version, standard library
// and its string ABI). The loader refuses a library without the symbol
// ("not a polis plugin") and one whose tag differs from its own ("built
// against another polis ABI"), naming both.
//
// Thread-safety: a macro expanding to a constant definition.
//
// Example (tally.cc, in a MODULE library linked with polis::plugin):
//   #include "genserver/server_plugin.h"
//   POLIS_SERVER_PLUGIN();
//   POLIS_REGISTER_SERVER_KIND("tally", &MakeTally);
//   // polis node --load=./libtally.so --serve=tally:t
#ifndef POLIS_GENSERVER_SERVER_PLUGIN_H_
#define POLIS_GENSERVER_SERVER_PLUGIN_H_

#include <cstddef>  // Defines the standard library's macros tested below.

// The polis release the headers belong to. A plugin built against other
// headers is refused: polis promises no binary compatibility across releases.
#define POLIS_VERSION_STRING "0.1.0"

#define POLIS_PLUGIN_STR_INNER_(x) #x
#define POLIS_PLUGIN_STR_(x) POLIS_PLUGIN_STR_INNER_(x)

#if defined(__clang__)
#define POLIS_PLUGIN_COMPILER_ "clang " POLIS_PLUGIN_STR_(__clang_major__)
#elif defined(__GNUC__)
#define POLIS_PLUGIN_COMPILER_ "gcc " POLIS_PLUGIN_STR_(__GNUC__)
#else
#define POLIS_PLUGIN_COMPILER_ "unknown compiler"
#endif

#if defined(_LIBCPP_VERSION)
#define POLIS_PLUGIN_STDLIB_ "libc++"
#elif defined(_GLIBCXX_USE_CXX11_ABI) && _GLIBCXX_USE_CXX11_ABI
#define POLIS_PLUGIN_STDLIB_ "libstdc++ cxx11-abi"
#else
#define POLIS_PLUGIN_STDLIB_ "libstdc++ old-abi"
#endif

// What the loader and every plugin compare, e.g.
// "polis 0.1.0; gcc 12; libstdc++ cxx11-abi".
#define POLIS_PLUGIN_ABI \
  "polis " POLIS_VERSION_STRING "; " POLIS_PLUGIN_COMPILER_ "; " POLIS_PLUGIN_STDLIB_

// The symbol the loader looks for (dlsym).
#define POLIS_PLUGIN_ABI_SYMBOL "polis_server_plugin_abi"

// Once per plugin, at namespace scope (a second use is a link error).
#define POLIS_SERVER_PLUGIN()                                                                    \
  extern "C" __attribute__((visibility("default"), used)) const char polis_server_plugin_abi[] = \
      POLIS_PLUGIN_ABI

#endif  // POLIS_GENSERVER_SERVER_PLUGIN_H_
