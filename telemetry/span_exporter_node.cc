// telemetry/span_exporter_node.cc — the SpanSource over a polis::Node's
// span store, and SpanExporter::Start(Node&). Apart from span_exporter.cc
// so that the exporter can be tested with a source of its own.
#include "telemetry/span_exporter.h"

namespace polis::telemetry {
namespace {

class NodeSource : public SpanSource {
 public:
  explicit NodeSource(Node& node) : node_(node), cursor_(node.NewSpanCursor()) {}
  std::vector<wire::Span> Read(size_t max) override { return node_.ReadSpans(&cursor_, max); }
  uint64_t missed() const override { return cursor_.missed; }

 private:
  Node& node_;
  SpanCursor cursor_;
};

}  // namespace

std::unique_ptr<SpanSource> NodeSpanSource(Node& node) {
  return std::make_unique<NodeSource>(node);
}

void SpanExporter::Start(Node& node) { Start(NodeSpanSource(node)); }

}  // namespace polis::telemetry
