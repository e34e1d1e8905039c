#include "service/tlsa/association.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/cert_factory.h"

namespace danegate::tlsa {
namespace {

using testing::Issue;
using testing::TestCert;

TEST(AssociationDataTest, EverySelectorAndMatchingType) {
  const TestCert cert = Issue({"mx", {"mx.example"}});
  for (uint8_t selector : {0, 1}) {
    for (uint8_t mtype : {0, 1, 2}) {
      absl::StatusOr<std::string> got = AssociationData(cert.der(), selector, mtype);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(*got, cert.Tlsa(2, selector, mtype).data)
          << "selector " << int{selector} << " mtype " << int{mtype};
    }
  }
  EXPECT_TRUE(absl::IsInvalidArgument(AssociationData(cert.der(), 2, 1).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(AssociationData(cert.der(), 0, 3).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(AssociationData("garbage", 1, 1).status()));
}

TEST(FullDataFromChainTest, FindsTheCertificateADigestRecordNames) {
  const TestCert root = Issue({"Root CA", {}, true});
  const TestCert inter = Issue({"Intermediate CA", {}, true}, &root);
  const TestCert leaf = Issue({"leaf", {"mx.example"}}, &inter);
  const DerChain chain = testing::Chain({&leaf, &inter, &root});
  struct Row {
    std::string name;
    TlsaRecord record;
    std::string want;  // empty: NotFound
  };
  const Row rows[] = {
      {"2 1 1 of the intermediate: its key", inter.Tlsa(2, 1, 1), inter.spki_der()},
      {"2 0 1 of the root: the certificate", root.Tlsa(2, 0, 1), root.der()},
      {"2 0 2 of the intermediate", inter.Tlsa(2, 0, 2), inter.der()},
      {"3 1 1 of the leaf matches the leaf", leaf.Tlsa(3, 1, 1), leaf.spki_der()},
      {"a key not in the chain", Issue({"other CA", {}, true}).Tlsa(2, 1, 1), ""},
  };
  for (const Row& row : rows) {
    absl::StatusOr<std::string> got = FullDataFromChain(row.record, chain);
    if (row.want.empty()) {
      EXPECT_TRUE(absl::IsNotFound(got.status())) << row.name;
    } else {
      ASSERT_TRUE(got.ok()) << row.name << ": " << got.status();
      EXPECT_EQ(*got, row.want) << row.name;
    }
  }
  EXPECT_TRUE(absl::IsInvalidArgument(FullDataFromChain(inter.Tlsa(2, 1, 0), chain).status()));
}

}  // namespace
}  // namespace danegate::tlsa
