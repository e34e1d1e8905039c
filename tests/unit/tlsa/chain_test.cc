#include "service/tlsa/chain.h"

#include <cstdio>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/tlsa/certificate_cache.h"
#include "service/tlsa/openssl_ptr.h"
#include "service/tlsa/parsed_certificates.h"
#include "tests/testing/cert_factory.h"

namespace danegate::tlsa {
namespace {

using ::testing::HasSubstr;
using testing::Issue;

TEST(CheckChainTest, Table) {
  const testing::TestCert leaf = Issue({"mx.example"});
  struct Row {
    std::string name;
    DerChain chain;
    std::string want_error;  // empty: OK
  };
  const Row rows[] = {
      {"one certificate", {leaf.der()}, ""},
      {"sixteen", DerChain(16, leaf.der()), ""},
      {"empty", {}, "empty"},
      {"seventeen", DerChain(17, leaf.der()), "17 certificates; the limit is 16"},
      {"over 64 KiB", {std::string(64 * 1024 + 1, '\x30')}, "the limit is 65536"},
      {"not DER", {leaf.der(), "garbage"}, "chain[1]: not one well-formed"},
      {"trailing bytes", {leaf.der() + "x"}, "chain[0]"},
      {"truncated", {leaf.der().substr(0, leaf.der().size() - 1)}, "chain[0]"},
      {"empty certificate", {""}, "chain[0]"},
  };
  for (const Row& row : rows) {
    absl::Status got = CheckChain(row.chain);
    if (row.want_error.empty()) {
      EXPECT_TRUE(got.ok()) << row.name << ": " << got;
    } else {
      EXPECT_TRUE(absl::IsInvalidArgument(got)) << row.name;
      EXPECT_THAT(std::string(got.message()), HasSubstr(row.want_error)) << row.name;
    }
  }
}

class ReadPemChainTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& content) {
    const std::string path = absl::StrCat(::testing::TempDir(), "/chain_", counter_++, ".pem");
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  int counter_ = 0;
};

TEST_F(ReadPemChainTest, ReadsLeafFirst) {
  const testing::TestCert ca = Issue({"ca", {}, true});
  const testing::TestCert leaf = Issue({"mx", {"mx.example"}}, &ca);
  absl::StatusOr<DerChain> got = ReadPemChain(Write(leaf.Pem() + "comment\n" + ca.Pem()));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, (DerChain{leaf.der(), ca.der()}));
}

TEST_F(ReadPemChainTest, Errors) {
  const testing::TestCert leaf = Issue({"mx.example"});
  std::string corrupt = leaf.Pem();
  corrupt[40] = '!';
  std::string seventeen;
  for (int i = 0; i < 17; ++i) seventeen += leaf.Pem();
  struct Row {
    std::string name;
    std::string path;
    std::string want_error;
  };
  const Row rows[] = {
      {"missing file", "/nonexistent/chain.pem", "cannot be read"},
      {"empty file", Write(""), "no PEM certificate"},
      {"not PEM", Write("hello world\n"), "no PEM certificate"},
      {"corrupt base64", Write(corrupt), "not a well-formed PEM certificate"},
      {"truncated block", Write(leaf.Pem().substr(0, 100)), "not a well-formed PEM"},
      {"seventeen certificates", Write(seventeen), "more than 16"},
      {"oversized file", Write(std::string(2 * 1024 * 1024, 'A')), "larger than"},
  };
  for (const Row& row : rows) {
    absl::StatusOr<DerChain> got = ReadPemChain(row.path);
    ASSERT_FALSE(got.ok()) << row.name;
    EXPECT_TRUE(absl::IsInvalidArgument(got.status())) << row.name;
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(row.want_error)) << row.name;
  }
}

}  // namespace
}  // namespace danegate::tlsa

namespace danegate::tlsa {
namespace {

// Any caller can put certificates into the parsed-certificate cache (every
// VerifyPeer chain); its estimated memory never passes the bound, and what
// it keeps is still served.
TEST(ParsedCertificateCacheTest, StaysWithinItsByteBound) {
  constexpr size_t kBound = 256 * 1024;
  ParsedCertificateCache cache(kBound);
  std::vector<testing::TestCert> certs;
  for (int i = 0; i < 100; ++i) {
    // About 3 KiB of DER each: 100 of them cost ~1.3 MiB by the estimate.
    std::vector<std::string> names;
    for (int n = 0; n < 40; ++n) names.push_back(absl::StrCat("h", i, "-", n, ".example.org"));
    certs.push_back(testing::Issue({absl::StrCat("c", i), names}));
    ASSERT_NE(cache.Get(certs.back().der()), nullptr);
    EXPECT_LE(cache.Stats().bytes, kBound) << i;
  }
  const ParsedCertificateCacheStats full = cache.Stats();
  EXPECT_GT(full.entries, 0u);
  EXPECT_LT(full.entries, 100u) << "the oldest were evicted";
  EXPECT_EQ(full.max_bytes, kBound);
  EXPECT_NE(cache.Get(certs.front().der()), nullptr) << "evicted ones parse again";
  ParsedCertificateCache none(0);  // nothing fits
  ASSERT_NE(none.Get(certs.front().der()), nullptr);
  EXPECT_EQ(none.Stats().entries, 0u);
  EXPECT_EQ(none.Get("not DER"), nullptr);
}

}  // namespace
}  // namespace danegate::tlsa
