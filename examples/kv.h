// examples/kv.h — the `kv` server: a string-to-string map.
//
// Calls take polis.examples.KvRequest and reply polis.examples.KvReply:
//   put {key, value} -> {existed}     get {key} -> {value}, or NOT_FOUND
//   delete {key}     -> {existed}     list {}   -> {keys (sorted)}
// A get of a missing key answers NOT_FOUND and the server keeps running
// (a typed call handler's returned error is its caller's answer).
// Registered as server kind "kv"; takes no args.
//
// Thread-safety: a GenServer; its map is touched only by its own hooks.
//
// Example:
//   node->Spawn(std::make_unique<polis::examples::Kv>(), {.name = "kv"});
//   KvRequest put; put.mutable_put()->set_key("a"); put.mutable_put()->set_value("1");
//   node->Call<KvReply>("kv", put);
#ifndef POLIS_EXAMPLES_KV_H_
#define POLIS_EXAMPLES_KV_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "examples/examples.pb.h"
#include "genserver/genserver.h"

namespace polis::examples {

class Kv : public GenServer {
 public:
  Kv();

 private:
  // The call handler (GenServer::OnCall): KvRequest -> KvReply, or the
  // error that answers the caller (NOT_FOUND, INVALID_ARGUMENT).
  Task<absl::StatusOr<KvReply>> Answer(const KvRequest& request);

  std::map<std::string, std::string> entries_;  // Sorted, for `list`.
};

}  // namespace polis::examples

#endif  // POLIS_EXAMPLES_KV_H_
