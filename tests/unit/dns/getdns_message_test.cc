// The answer reader both resolver backends share, on DNS messages built
// here in wire format (hostile ones included): CNAME chains, their limit
// and loops, records of the asked type at the chain's end, denials and
// failures.
#include "service/dns/getdns_message.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace danegate::dns {
namespace {

std::string Name(const std::string& dotted) {
  std::string wire;
  size_t start = 0;
  while (start < dotted.size()) {
    size_t dot = dotted.find('.', start);
    if (dot == std::string::npos) dot = dotted.size();
    wire += static_cast<char>(dot - start);
    wire += dotted.substr(start, dot - start);
    start = dot + 1;
  }
  return wire + '\0';
}

std::string U16(uint16_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)}; }
std::string U32(uint32_t v) { return U16(v >> 16) + U16(v & 0xffff); }

struct Rr {
  std::string owner;
  uint16_t type;
  std::string rdata;
};

// A response to (qname, qtype) with `rcode` and `answers`.
std::string Message(const std::string& qname, uint16_t qtype, uint16_t rcode,
                    const std::vector<Rr>& answers) {
  std::string m =
      U16(0x1234) + U16(0x8180 | rcode) + U16(1) + U16(answers.size()) + U16(0) + U16(0);
  m += Name(qname) + U16(qtype) + U16(1);
  for (const Rr& rr : answers) {
    m += Name(rr.owner) + U16(rr.type) + U16(1) + U32(300) + U16(rr.rdata.size()) + rr.rdata;
  }
  return m;
}

Rr Cname(const std::string& owner, const std::string& target) { return {owner, 5, Name(target)}; }
Rr Mx(const std::string& owner, uint16_t preference, const std::string& exchange) {
  return {owner, 15, U16(preference) + Name(exchange)};
}

DnsAnswer Read(const std::string& message, const std::string& qname = "a.example",
               RrType type = RrType::kMx) {
  return AnswerFromWire(qname, type, DnssecState::kSecure,
                        reinterpret_cast<const unsigned char*>(message.data()), message.size());
}

// RFC 7672 §2.2.2 needs the alias's own answer: a CNAME question is
// answered by the CNAME at the name, not followed.
TEST(AnswerFromWireTest, CnameQuestionReadsTheAliasItself) {
  const DnsAnswer alias = Read(Message("mx.example", 5, 0, {Cname("mx.example", "t.example")}),
                               "mx.example", RrType::kCname);
  EXPECT_EQ(alias.status, LookupStatus::kOk);
  EXPECT_EQ(alias.canonical_name, "t.example");
  EXPECT_EQ(alias.dnssec, DnssecState::kSecure);
  const DnsAnswer none = Read(Message("mx.example", 5, 0, {}), "mx.example", RrType::kCname);
  EXPECT_EQ(none.status, LookupStatus::kNoData);
  EXPECT_EQ(none.canonical_name, "mx.example");
}

// RFC 7671 §9: TLSA records that cannot be read are unusable, never
// absent: an RRset of them is not NODATA (which would allow cleartext).
TEST(AnswerFromWireTest, TlsaRecordsThatCannotBeReadAreNotNoData) {
  for (const std::string& rdata : {std::string("\x03\x01", 2), std::string()}) {
    const DnsAnswer got =
        Read(Message("_25._tcp.mx.example", 52, 0, {{"_25._tcp.mx.example", 52, rdata}}),
             "_25._tcp.mx.example", RrType::kTlsa);
    EXPECT_NE(got.status, LookupStatus::kNoData) << rdata.size();
    EXPECT_TRUE(got.status == LookupStatus::kFailure ||
                (got.status == LookupStatus::kOk && got.undecodable_records == 1))
        << rdata.size() << " " << LookupStatusName(got.status) << " " << got.error;
  }
  // Beside a good record, the bad one is counted.
  const DnsAnswer mixed = Read(
      Message("_25._tcp.mx.example", 52, 0,
              {{"_25._tcp.mx.example", 52, std::string("\x03\x01", 2)},
               {"_25._tcp.mx.example", 52, std::string("\x03\x01\x01", 3) + std::string(32, 'a')}}),
      "_25._tcp.mx.example", RrType::kTlsa);
  EXPECT_NE(mixed.status, LookupStatus::kNoData);
}

TEST(AnswerFromWireTest, FollowsTheCnameChainToTheRecords) {
  const DnsAnswer got = Read(
      Message("a.example", 15, 0,
              {Cname("a.example", "b.example"), Cname("b.example", "c.example"),
               Mx("c.example", 10, "mx.example"), Mx("a.example", 20, "not-at-the-end.example")}));
  EXPECT_EQ(got.status, LookupStatus::kOk);
  EXPECT_EQ(got.canonical_name, "c.example");
  ASSERT_EQ(got.mx.size(), 1u);
  EXPECT_EQ(got.mx[0].exchange, "mx.example");
  EXPECT_EQ(got.ttl, 300u);
}

TEST(AnswerFromWireTest, LoopingOrEndlessCnameChainsAreFailuresNotNoData) {
  const DnsAnswer loop = Read(Message(
      "a.example", 15, 0, {Cname("a.example", "b.example"), Cname("b.example", "a.example")}));
  EXPECT_EQ(loop.status, LookupStatus::kFailure);
  EXPECT_EQ(loop.dnssec, DnssecState::kIndeterminate);
  EXPECT_NE(loop.error.find("CNAME"), std::string::npos) << loop.error;

  std::vector<Rr> chain;
  for (int i = 0; i < 20; ++i) {
    chain.push_back(
        Cname("n" + std::to_string(i) + ".example", "n" + std::to_string(i + 1) + ".example"));
  }
  EXPECT_EQ(Read(Message("n0.example", 15, 0, chain), "n0.example").status, LookupStatus::kFailure);

  // A chain within the limit that ends without records is NODATA.
  EXPECT_EQ(Read(Message("a.example", 15, 0, {Cname("a.example", "b.example")})).status,
            LookupStatus::kNoData);
}

TEST(AnswerFromWireTest, RcodesAndGarbage) {
  EXPECT_EQ(Read(Message("a.example", 15, 3, {})).status, LookupStatus::kNxDomain);
  const DnsAnswer servfail = Read(Message("a.example", 15, 2, {}));
  EXPECT_EQ(servfail.status, LookupStatus::kFailure);
  EXPECT_EQ(servfail.dnssec, DnssecState::kIndeterminate);
  for (const std::string& garbage : {std::string(), std::string("\x12\x34\x81", 3),
                                     Message("a.example", 15, 0, {}).substr(0, 20)}) {
    EXPECT_EQ(Read(garbage).status, LookupStatus::kFailure);
  }
}

}  // namespace
}  // namespace danegate::dns
