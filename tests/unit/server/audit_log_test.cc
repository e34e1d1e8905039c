#include "service/server/audit_log.h"

#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace danegate::server {
namespace {

std::string TempPath() {
  char path[] = "/tmp/danegate-audit-XXXXXX";
  const int fd = mkstemp(path);
  close(fd);
  return path;
}

// Lines written from many threads all reach the file, whole, by the time
// the log is closed (its writer thread flushes what is buffered).
TEST(AuditLogTest, EveryLineReachesTheFileWhole) {
  const std::string path = TempPath();
  {
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(path);
    ASSERT_TRUE(log.ok()) << log.status();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 500; ++i) {
          AuditRecord record;
          record.rpc = "ResolvePolicy";
          record.domain = "d" + std::to_string(t) + "-" + std::to_string(i) + ".example";
          record.action = "deliver";
          (*log)->Write(record);
        }
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ((*log)->dropped(), 0u);
  }
  std::ifstream in(path);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    EXPECT_THAT(line, ::testing::StartsWith("{\"time\":"));
    EXPECT_THAT(line, ::testing::EndsWith("}"));
  }
  EXPECT_EQ(lines, 2000);
  unlink(path.c_str());
}

TEST(AuditLogTest, EmptyPathDisablesIt) {
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open("");
  ASSERT_TRUE(log.ok());
  (*log)->Write(AuditRecord{});
  EXPECT_EQ((*log)->dropped(), 0u);
}

TEST(AuditLogTest, UnwritablePathIsAnError) {
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open("/nonexistent/dir/audit.log");
  EXPECT_TRUE(absl::IsInvalidArgument(log.status()));
}

}  // namespace
}  // namespace danegate::server
