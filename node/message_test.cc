// node/message_test.cc — Message type checks by interned name, including
// once the intern table is full (the overflow name matches no type).
#include "node/message.h"

#include <string>

#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"

namespace polis {
namespace {

using google::protobuf::Int64Value;
using google::protobuf::StringValue;
using google::protobuf::UInt32Value;

TEST(MessageTest, IsMatchesExactlyTheMessagesType) {
  Int64Value v;
  v.set_value(5);
  const Message m = Message::From(v);
  EXPECT_TRUE(m.Is<Int64Value>());
  EXPECT_FALSE(m.Is<StringValue>());
  EXPECT_TRUE(Message("google.protobuf.StringValue", "").Is<StringValue>());
  EXPECT_FALSE(Message().Is<Int64Value>());
}

// What peers send is looked up, never interned: 70,000 distinct names from
// the wire leave the table as it was, and local types are still interned.
TEST(MessageTest, WireTypesNeverEnterTheInternTable) {
  for (int i = 0; i < 70'000; ++i) {
    const std::string name = "peer.Junk" + std::to_string(i);
    const Message m = Message::FromWire(name, "");
    ASSERT_EQ(m.type(), name);
    ASSERT_EQ(m.interned_type(), nullptr);
    ASSERT_FALSE(m.Is<UInt32Value>());
  }
  EXPECT_EQ(FindType("peer.Junk5"), nullptr);
  // A local type interned afterwards gets its own name, not the overflow.
  EXPECT_EQ(*InternType("test.LocalAfterFlood"), "test.LocalAfterFlood");
  EXPECT_TRUE(Message::From(UInt32Value()).Is<UInt32Value>());
  // A known type from the wire shares the interned name (pointer compare).
  const Message known = Message::FromWire("google.protobuf.UInt32Value", "");
  EXPECT_EQ(&known.type(), FindType("google.protobuf.UInt32Value"));
  EXPECT_TRUE(known.Is<UInt32Value>());
}

TEST(MessageTest, AnUnknownWireTypeMatchesOnceInternedAndAfterReintern) {
  Message m = Message::FromWire("google.protobuf.StringValue", "");  // Not interned yet here?
  EXPECT_TRUE(m.Is<StringValue>());  // By name if it was carried as its own string.
  m.Reintern();
  EXPECT_NE(m.interned_type(), nullptr);
  EXPECT_EQ(&m.type(), FindType("google.protobuf.StringValue"));
}

// Fills the process-wide intern table for good: declared last, so that a
// run of the whole binary (declaration order) does it last; ctest runs each
// test in a process of its own.
TEST(MessageTest, OnceTheTableIsFullTheOverflowNameMatchesNoType) {
  const Message before = Message::From(Int64Value());  // interned while there is room
  for (int i = 0; i < 70'000; ++i) InternType("test.Filler" + std::to_string(i));
  const Message over("test.NeverSeenBefore", "");
  EXPECT_EQ(over.type(), "polis.TooManyTypes");
  // UInt32Value is first looked up now, when it too maps to the overflow
  // name: a message of any unknown type must still not pass as one.
  EXPECT_FALSE(over.Is<UInt32Value>());
  // Types interned before the table filled still work.
  EXPECT_TRUE(before.Is<Int64Value>());
  EXPECT_TRUE(Message("google.protobuf.Int64Value", "").Is<Int64Value>());
}

}  // namespace
}  // namespace polis
