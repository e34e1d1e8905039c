#include "service/tlsa/record.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace danegate::tlsa {
namespace {

using ::testing::HasSubstr;

std::string Der(size_t content) {
  // A DER SEQUENCE header for `content` octets followed by that many zeros.
  std::string out = "\x30";
  if (content < 0x80) {
    out += static_cast<char>(content);
  } else if (content < 0x100) {
    out += "\x81";
    out += static_cast<char>(content);
  } else {
    out += "\x82";
    out += static_cast<char>(content >> 8);
    out += static_cast<char>(content & 0xff);
  }
  return out + std::string(content, '\0');
}

// One DER element: `tag`, a minimal length, `content`.
std::string Tlv(uint8_t tag, const std::string& content) {
  std::string out(1, static_cast<char>(tag));
  if (content.size() < 0x80) {
    out += static_cast<char>(content.size());
  } else if (content.size() < 0x100) {
    out += "\x81";
    out += static_cast<char>(content.size());
  } else {
    out += "\x82";
    out += static_cast<char>(content.size() >> 8);
    out += static_cast<char>(content.size() & 0xff);
  }
  return out + content;
}

std::string Seq(const std::string& content) { return Tlv(0x30, content); }
// A BIT STRING with no unused bits.
std::string Bits(const std::string& bits) { return Tlv(0x03, std::string(1, '\0') + bits); }
const std::string kEcOid = Tlv(0x06, "\x2a\x86\x48\xce\x3d\x02\x01");
const std::string kP256Oid = Tlv(0x06, "\x2a\x86\x48\xce\x3d\x03\x01\x07");
const std::string kEcdsaSha256Oid = Tlv(0x06, "\x2a\x86\x48\xce\x3d\x04\x03\x02");

std::string Spki(size_t key_octets = 65) {
  return Seq(Seq(kEcOid + kP256Oid) + Bits(std::string(key_octets, '\x04')));
}

std::string Certificate() {
  return Seq(Seq(Tlv(0x02, "\x01") + Spki()) + Seq(kEcdsaSha256Oid) + Bits(std::string(70, 'x')));
}

TEST(ClassifyTest, Table) {
  struct Row {
    std::string name;
    TlsaRecord record;
    bool want_usable;
    std::string want_why;
  };
  const std::string d32(32, 'x'), d64(64, 'x');
  const Row rows[] = {
      {"3 1 1", {3, 1, 1, d32}, true, ""},
      {"3 0 1", {3, 0, 1, d32}, true, ""},
      {"3 1 2", {3, 1, 2, d64}, true, ""},
      {"2 1 1", {2, 1, 1, d32}, true, ""},
      {"2 0 0 a certificate", {2, 0, 0, Certificate()}, true, ""},
      {"3 0 0 a certificate", {3, 0, 0, Certificate()}, true, ""},
      {"3 1 0 a SubjectPublicKeyInfo", {3, 1, 0, Spki()}, true, ""},
      {"3 1 0 long form lengths", {3, 1, 0, Spki(400)}, true, ""},
      {"2 1 0 algorithm without parameters", {2, 1, 0, Seq(Seq(kEcOid) + Bits("k"))}, true, ""},
      // RFC 7671 §9: malformed records are unusable, discarded before the
      // rest (OpenSSL would drop them at match time: a host that never
      // authenticates).
      {"3 1 0 a SEQUENCE that is no SPKI",
       {3, 1, 0, Der(100)},
       false,
       "not a DER SubjectPublicKeyInfo"},
      {"3 1 0 a certificate is no SPKI", {3, 1, 0, Certificate()}, false, "SubjectPublicKeyInfo"},
      {"3 0 0 an SPKI is no certificate", {3, 0, 0, Spki()}, false, "not a DER certificate"},
      {"2 0 0 a SEQUENCE of zeros", {2, 0, 0, Der(300)}, false, "not a DER certificate"},
      {"3 1 0 an element after the key",
       {3, 1, 0, Seq(Seq(kEcOid) + Bits("k") + Tlv(0x05, ""))},
       false,
       "SubjectPublicKeyInfo"},
      {"3 1 0 algorithm is not an OID",
       {3, 1, 0, Seq(Seq(Tlv(0x02, "\x01")) + Bits("k"))},
       false,
       "SubjectPublicKeyInfo"},
      {"3 1 0 unused bits past 7",
       {3, 1, 0, Seq(Seq(kEcOid) + Tlv(0x03, "\x08k"))},
       false,
       "SubjectPublicKeyInfo"},
      {"3 1 0 empty bit string",
       {3, 1, 0, Seq(Seq(kEcOid) + Tlv(0x03, ""))},
       false,
       "SubjectPublicKeyInfo"},
      {"3 1 0 a length past the end",
       {3, 1, 0, Spki().substr(0, 40)},
       false,
       "SubjectPublicKeyInfo"},
      {"3 1 0 length with a leading zero octet",
       {3, 1, 0, std::string("\x30\x82\x00\x80", 4) + std::string(0x80, '\0')},
       false,
       "SubjectPublicKeyInfo"},
      {"PKIX-TA", {0, 1, 1, d32}, false, "PKIX"},
      {"PKIX-EE", {1, 1, 1, d32}, false, "PKIX"},
      {"unknown usage", {4, 1, 1, d32}, false, "unknown usage 4"},
      {"unknown selector", {3, 2, 1, d32}, false, "unknown selector 2"},
      {"unknown mtype", {3, 1, 3, d32}, false, "unknown matching type 3"},
      {"sha256 too short", {3, 1, 1, std::string(31, 'x')}, false, "31 octets, not 32"},
      {"sha256 with sha512 length", {3, 1, 1, d64}, false, "64 octets, not 32"},
      {"sha512 too short", {3, 1, 2, d32}, false, "not 64"},
      {"empty digest", {3, 1, 1, ""}, false, "0 octets"},
      {"exact not DER", {3, 1, 0, "hello"}, false, "not a DER"},
      {"exact DER trailing", {3, 1, 0, Der(10) + "x"}, false, "not a DER"},
      {"exact DER truncated", {3, 1, 0, Der(10).substr(0, 8)}, false, "not a DER"},
      {"exact DER non-minimal length",
       {3, 1, 0, "\x30\x81\x05" + std::string(5, '\0')},
       false,
       "not a DER"},
  };
  for (const Row& row : rows) {
    const Usability got = Classify(row.record);
    EXPECT_EQ(got.usable, row.want_usable) << row.name;
    EXPECT_THAT(got.why, HasSubstr(row.want_why)) << row.name;
  }
}

TEST(ParseTlsaTextTest, Table) {
  struct Row {
    std::string in;
    bool want_ok;
    TlsaRecord want;
  };
  const Row rows[] = {
      {"3 1 1 00ff", true, {3, 1, 1, std::string("\x00\xff", 2)}},
      {"  3\t1 1 00 FF ", true, {3, 1, 1, std::string("\x00\xff", 2)}},
      {"255 255 255 ab", true, {255, 255, 255, "\xab"}},
      {"3 1 1", false, {}},
      {"256 1 1 00", false, {}},
      {"-1 1 1 00", false, {}},
      {"3 1 1 0", false, {}},
      {"3 1 1 zz", false, {}},
      {"", false, {}},
  };
  for (const Row& row : rows) {
    absl::StatusOr<TlsaRecord> got = ParseTlsaText(row.in);
    ASSERT_EQ(got.ok(), row.want_ok) << row.in << ": " << got.status();
    if (row.want_ok) {
      EXPECT_EQ(*got, row.want) << row.in;
    }
  }
}

TEST(TlsaTextTest, RoundTrips) {
  const TlsaRecord record{3, 1, 1, std::string("\x01\xab", 2)};
  EXPECT_EQ(TlsaText(record), "3 1 1 01ab");
  EXPECT_EQ(*ParseTlsaText(TlsaText(record)), record);
}

}  // namespace
}  // namespace danegate::tlsa
