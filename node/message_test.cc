// node/message_test.cc — Message type checks by interned name, including
// once the intern table is full (the overflow name matches no type).
#include "node/message.h"

#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
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

// Message::From names a generated class from a per-thread memo, a dynamic
// message (one C++ class for every dynamic type) from its descriptor: two
// dynamic types alternating with generated ones each keep their own name,
// and the bytes are the message's.
TEST(MessageTest, FromNamesGeneratedAndDynamicMessagesByTheirOwnType) {
  google::protobuf::FileDescriptorProto file;
  file.set_name("dynamic_test.proto");
  file.set_package("dyn");
  for (const char* name : {"First", "Second"}) {
    google::protobuf::DescriptorProto* type = file.add_message_type();
    type->set_name(name);
    google::protobuf::FieldDescriptorProto* field = type->add_field();
    field->set_name("value");
    field->set_number(1);
    field->set_type(google::protobuf::FieldDescriptorProto::TYPE_INT64);
    field->set_label(google::protobuf::FieldDescriptorProto::LABEL_OPTIONAL);
  }
  google::protobuf::DescriptorPool pool;
  ASSERT_NE(pool.BuildFile(file), nullptr);
  google::protobuf::DynamicMessageFactory factory(&pool);
  std::unique_ptr<google::protobuf::Message> first(
      factory.GetPrototype(pool.FindMessageTypeByName("dyn.First"))->New());
  std::unique_ptr<google::protobuf::Message> second(
      factory.GetPrototype(pool.FindMessageTypeByName("dyn.Second"))->New());
  first->GetReflection()->SetInt64(first.get(), first->GetDescriptor()->field(0), 7);
  Int64Value generated;
  generated.set_value(7);
  for (int round = 0; round < 3; ++round) {
    const Message a = Message::From(*first);
    const Message b = Message::From(*second);
    const Message g = Message::From(generated);
    const Message s = Message::From(StringValue());
    EXPECT_EQ(a.type(), "dyn.First");
    EXPECT_EQ(b.type(), "dyn.Second");
    EXPECT_TRUE(g.Is<Int64Value>());
    EXPECT_TRUE(s.Is<StringValue>());
    EXPECT_EQ(a.bytes(), generated.SerializeAsString());  // field 1 = 7 in both
    EXPECT_EQ(g.bytes(), generated.SerializeAsString());
  }
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

// A stream of one unknown type shares one copy of the name and skips the
// shared table; once local code interns the name, the next message (and a
// queued one, on Reintern) has the interned copy.
TEST(MessageTest, AStreamOfAnUnknownTypeSharesItsNameUntilTheNameIsInterned) {
  const std::string name = "polis.test.NotYetDeclared";
  ASSERT_EQ(FindType(name), nullptr);
  Message first = Message::FromWire(name, "a");
  const Message second = Message::FromWire(name, "b");
  EXPECT_EQ(first.interned_type(), nullptr);
  EXPECT_EQ(&first.type(), &second.type());  // one shared copy
  EXPECT_EQ(first.type(), name);
  EXPECT_EQ(Message::FromWire("polis.test.Other", "").type(), "polis.test.Other");
  EXPECT_EQ(Message::FromWire(name, "").type(), name);
  first.Reintern();
  EXPECT_EQ(first.interned_type(), nullptr);  // still unknown

  const std::string* interned = InternType(name);
  const Message third = Message::FromWire(name, "c");
  EXPECT_EQ(third.interned_type(), interned);
  first.Reintern();
  EXPECT_EQ(first.interned_type(), interned);
  EXPECT_EQ(first.bytes(), "a");
}

// Empties this thread's free list of payload buffers (held by the caller
// to the end of a test): what earlier tests left there must not take the
// room.
std::vector<Message> DrainFreeList() {
  StringValue v;
  v.set_value(std::string(100, 'f'));
  std::vector<Message> drained;
  for (int i = 0; i < 300; ++i) drained.push_back(Message::From(v));
  return drained;
}

// A destroyed message's payload buffer is reused by the next message this
// thread makes (From, FromWireCopy), which then holds exactly its own bytes.
TEST(MessageTest, PayloadBuffersAreRecycledWithoutStaleBytes) {
  StringValue longer;
  longer.set_value(std::string(200, 'x'));
  StringValue shorter;
  shorter.set_value("abc");
  const std::vector<Message> drained = DrainFreeList();
  std::set<const char*> freed;
  {
    std::vector<Message> held;
    for (int i = 0; i < 300; ++i) held.push_back(Message::From(longer));
    for (const Message& m : held) freed.insert(m.bytes().data());
  }
  // The free list keeps 256 of them; every one comes back.
  std::vector<Message> again;
  int reused = 0;
  for (int i = 0; i < 300; ++i) {
    again.push_back(i % 2 == 0 ? Message::From(shorter)
                               : Message::FromWireCopy("polis.test.Raw", "raw"));
    reused += freed.count(again.back().bytes().data());
  }
  EXPECT_GE(reused, 256);
  for (int i = 0; i < 300; ++i) {
    if (i % 2 == 0) {
      EXPECT_EQ(again[i].bytes(), shorter.SerializeAsString());
      EXPECT_EQ(again[i].As<StringValue>()->value(), "abc");
    } else {
      EXPECT_EQ(again[i].bytes(), "raw");
      EXPECT_EQ(again[i].type(), "polis.test.Raw");
    }
  }
}

// A copy fills a recycled buffer too, and is whole, type included (an
// unknown wire type's name too).
TEST(MessageTest, ACopyFillsARecycledBuffer) {
  const std::vector<Message> drained = DrainFreeList();
  const Message original = Message::FromWireCopy("polis.test.Copied", std::string(100, 'c'));
  const char* freed;
  {
    const Message first = Message::From(StringValue());  // Empty payload: inline.
    Message big = Message::FromWireCopy("polis.test.Copied", std::string(200, 'd'));
    freed = big.bytes().data();
  }
  const Message copy = original;
  EXPECT_EQ(copy.bytes().data(), freed);
  EXPECT_EQ(copy.bytes(), original.bytes());
  EXPECT_EQ(copy.type(), "polis.test.Copied");
  Message small = Message::FromWireCopy("polis.test.Copied", "s");
  const Message small_copy = small;
  EXPECT_EQ(small_copy.bytes(), "s");
}

// A buffer over Message::kKeptCapacity is freed, not kept; moved-from and
// copied messages stay whole.
TEST(MessageTest, BigBuffersAreNotKeptAndCopiesStayWhole) {
  StringValue big;
  big.set_value(std::string(Message::kKeptCapacity * 4, 'b'));
  Message first = Message::From(big);
  Message copy = first;
  Message moved = std::move(first);
  EXPECT_EQ(copy.bytes(), moved.bytes());
  EXPECT_EQ(copy.type(), moved.type());
  EXPECT_EQ(moved.As<StringValue>()->value(), big.value());
  { Message gone = std::move(copy); }
  const Message next = Message::From(big);
  EXPECT_EQ(next.bytes(), moved.bytes());
}

// A message destroyed at thread exit after the thread's free list (a
// thread_local made before it) frees its buffer: ASan would see a use of
// the destroyed list otherwise.
TEST(MessageTest, AMessageOutlivingItsThreadsFreeListIsFreed) {
  StringValue v;
  v.set_value(std::string(100, 'v'));
  std::thread([&v] {
    struct Holder {
      Message m;
    };
    thread_local Holder held;  // Made before the free list: destroyed after it.
    held.m = Message::From(v);
    { Message recycled = Message::From(v); }  // Into the free list.
    EXPECT_EQ(held.m.As<StringValue>()->value(), v.value());
  }).join();
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
