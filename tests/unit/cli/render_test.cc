#include "service/cli/render.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace danegate::cli {
namespace {

using ::testing::HasSubstr;

TEST(PolicyJsonTest, HasTheContractFields) {
  v1::ResolvePolicyResponse p;
  p.set_domain("example.com");
  p.set_action(v1::ACTION_DELIVER);
  p.set_reason(v1::REASON_DANE_REQUIRED);
  p.set_detail("d");
  v1::MxHost* h = p.add_mx();
  h->set_host("mx.example.com");
  h->set_preference(10);
  h->set_dnssec(v1::DNSSEC_STATUS_SECURE);
  h->set_tls(v1::TLS_MODE_DANE);
  h->add_addresses("192.0.2.1");
  h->add_addresses("2001:db8::1");
  v1::TlsaRecord* t = h->add_tlsa();
  t->set_usage(3);
  t->set_selector(1);
  t->set_matching_type(1);
  t->set_data("\x01\xab");
  EXPECT_EQ(PolicyJson(p),
            "{\"domain\":\"example.com\",\"action\":\"deliver\",\"authenticated\":false,"
            "\"reason\":\"dane_required\",\"detail\":\"d\",\"mx_dnssec\":\"unspecified\","
            "\"canonical_domain\":\"\",\"mx\":[{\"host\":\"mx.example.com\","
            "\"preference\":10,\"dnssec\":\"secure\",\"tls\":\"dane\",\"reason\":\"unspecified\","
            "\"detail\":\"\",\"tlsa_base_domain\":\"\",\"canonical_name\":\"\","
            "\"addresses\":[\"192.0.2.1\",\"2001:db8::1\"],\"tlsa\":[{\"usage\":3,\"selector\":1,"
            "\"matching_type\":1,\"data\":\"01ab\"}]}]}");
}

TEST(VerdictJsonTest, MatchedRecordOrNull) {
  v1::VerifyPeerResponse v;
  v.set_action(v1::ACTION_DEFER);
  v.set_reason(v1::REASON_DANE_MISMATCH);
  EXPECT_THAT(VerdictJson(v), HasSubstr("\"matched_tlsa\":null"));
  EXPECT_THAT(VerdictJson(v), HasSubstr("\"reason\":\"dane_mismatch\""));
  v.mutable_matched_tlsa()->set_usage(3);
  v.set_authenticated(true);
  EXPECT_THAT(VerdictJson(v), HasSubstr("\"authenticated\":true"));
  EXPECT_THAT(VerdictJson(v), HasSubstr("\"matched_tlsa\":{\"usage\":3"));
}

TEST(ExitStatusTest, SysexitsPerAction) {
  EXPECT_EQ(ExitStatus(v1::ACTION_DELIVER), 0);
  EXPECT_EQ(ExitStatus(v1::ACTION_DEFER), 75);
  EXPECT_EQ(ExitStatus(v1::ACTION_REJECT), 69);
  EXPECT_EQ(ExitStatus(v1::ACTION_UNSPECIFIED), 75);
}

}  // namespace
}  // namespace danegate::cli
