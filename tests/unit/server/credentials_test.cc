#include "service/server/credentials.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace danegate::server {
namespace {

TEST(ClientCertificateNamesTest, Table) {
  using Names = std::vector<std::string>;
  struct Row {
    const char* name;
    Names dns;
    bool has_san;
    Names cn;
    Names want;
  };
  const std::vector<Row> rows = {
      {"SAN DNS names only, CN ignored",
       {"a.example", "b.example"},
       true,
       {"allowed.example"},
       {"a.example", "b.example"}},
      {"no SAN: the CN", {}, false, {"mta1.example"}, {"mta1.example"}},
      {"a SAN without DNS names: no CN either", {}, true, {"mta1.example"}, {}},
      {"each name once", {"a.example", "a.example"}, true, {"a.example"}, {"a.example"}},
      {"nothing", {}, false, {}, {}},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(ClientCertificateNames(row.dns, row.has_san, row.cn), row.want) << row.name;
  }
}

}  // namespace
}  // namespace danegate::server
