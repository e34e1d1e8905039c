#include "service/common/flags.h"

#include <cstdio>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace danegate::common {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Parsed {
  std::string name;
  std::vector<std::string> many;
  bool on = false;
  FlagSet flags;
  Parsed() {
    flags.String("name", &name, "N", "a name");
    flags.Repeated("many", &many, "M", "many");
    flags.Bool("on", &on, "switch");
  }
};

TEST(FlagSetTest, ParsesBothValueFormsRepeatsAndPositionals) {
  Parsed p;
  auto got = p.flags.Parse({"pos1", "--name=a", "--many", "x", "--many=y", "--on", "pos2"});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(*got, ElementsAre("pos1", "pos2"));
  EXPECT_EQ(p.name, "a");
  EXPECT_THAT(p.many, ElementsAre("x", "y"));
  EXPECT_TRUE(p.on);
}

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  FILE* f = fopen(path.c_str(), "w");
  fputs(text.c_str(), f);
  fclose(f);
  return path;
}

TEST(FlagSetTest, FlagfileLinesTakeItsPlace) {
  const std::string path =
      WriteFile("flags_test.flags", "# tunables\n\n  --many=x  \n--name=from-file\n--on\n");
  Parsed p;
  auto got = p.flags.Parse({"--many=first", "--flagfile=" + path, "--name=later", "pos"});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(*got, ElementsAre("pos"));
  EXPECT_THAT(p.many, ElementsAre("first", "x"));
  EXPECT_EQ(p.name, "later");  // the command line after the file wins
  EXPECT_TRUE(p.on);
  EXPECT_THAT(p.flags.Help(), HasSubstr("--flagfile=FILE"));
}

TEST(FlagSetTest, FlagfileErrors) {
  const std::string nested = WriteFile("nested.flags", "--flagfile=/etc/hostname\n");
  const std::string unknown = WriteFile("unknown.flags", "--nope=1\n");
  struct Row {
    std::string arg;
    std::string want;
  };
  const Row rows[] = {
      {"--flagfile=/nonexistent/x.flags", "--flagfile /nonexistent/x.flags"},
      {"--flagfile=" + nested, "do not nest"},
      {"--flagfile=" + unknown, "unknown option '--nope'"},
  };
  for (const Row& row : rows) {
    Parsed p;
    auto got = p.flags.Parse({row.arg});
    ASSERT_FALSE(got.ok()) << row.arg;
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(row.want)) << row.arg;
  }
}

TEST(FlagSetTest, DoubleDashEndsFlags) {
  Parsed p;
  auto got = p.flags.Parse({"--", "--name"});
  ASSERT_TRUE(got.ok());
  EXPECT_THAT(*got, ElementsAre("--name"));
}

TEST(FlagSetTest, Errors) {
  struct Row {
    std::vector<std::string> args;
    std::string want;
  };
  const Row rows[] = {
      {{"--nope"}, "unknown option '--nope'"},
      {{"-x"}, "unknown option '-x'"},
      {{"--name"}, "--name needs a value"},
      {{"--on=maybe"}, "--on takes no value"},
  };
  for (const Row& row : rows) {
    Parsed p;
    auto got = p.flags.Parse(row.args);
    ASSERT_FALSE(got.ok()) << row.args[0];
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(row.want));
  }
}

TEST(FlagSetTest, DurationsAndCountsAreCheckedAgainstTheirRange) {
  struct Row {
    std::vector<std::string> args;
    std::string error;  // "" when accepted
  };
  const Row rows[] = {
      {{"--timeout=2s"}, ""},
      {{"--timeout", "1m"}, ""},
      {{"--timeout=0s"}, "--timeout '0s': want a duration from 1ms to 1m"},
      {{"--timeout=61s"}, "--timeout '61s': want a duration from 1ms to 1m"},
      {{"--timeout=forever"}, "--timeout 'forever': want a duration from 1ms to 1m"},
      {{"--count=1"}, ""},
      {{"--count=100"}, ""},
      {{"--count=0"}, "--count '0': want 1..100"},
      {{"--count=101"}, "--count '101': want 1..100"},
      {{"--count=-1"}, "--count '-1': want 1..100"},
      {{"--count= 5"}, "--count ' 5': want 1..100"},
      {{"--count=5x"}, "--count '5x': want 1..100"},
      {{"--mode=0660"}, ""},
      {{"--mode=0668"}, "--mode '0668': want octal 0..777"},
  };
  for (const Row& row : rows) {
    FlagSet flags;
    absl::Duration timeout;
    size_t count = 0, mode = 0;
    flags.Duration("timeout", &timeout, absl::Milliseconds(1), absl::Minutes(1), "t");
    flags.Count("count", &count, 1, 100, "c");
    flags.Count("mode", &mode, 0, 0777, "m", 8);
    auto got = flags.Parse(row.args);
    if (row.error.empty()) {
      EXPECT_TRUE(got.ok()) << row.args[0] << ": " << got.status();
    } else {
      ASSERT_FALSE(got.ok()) << row.args[0];
      EXPECT_EQ(got.status().message(), row.error);
    }
  }
  FlagSet flags;
  absl::Duration timeout = absl::Seconds(2);
  size_t mode = 0;
  flags.Duration("timeout", &timeout, absl::Milliseconds(1), absl::Minutes(1), "t");
  flags.Count("mode", &mode, 0, 0777, "m", 8);
  ASSERT_TRUE(flags.Parse({"--timeout=1500ms", "--mode=0660"}).ok());
  EXPECT_EQ(timeout, absl::Milliseconds(1500));
  EXPECT_EQ(mode, 0660u);
  EXPECT_THAT(flags.Help(), HasSubstr("--timeout=DURATION"));
  EXPECT_THAT(flags.Help(), HasSubstr("--mode=OCTAL"));
}

TEST(FlagSetTest, HelpIsRequestedAndListsEveryFlag) {
  Parsed p;
  ASSERT_TRUE(p.flags.Parse({"--help"}).ok());
  EXPECT_TRUE(p.flags.help_requested());
  const std::string help = p.flags.Help();
  EXPECT_THAT(help, HasSubstr("--name=N"));
  EXPECT_THAT(help, HasSubstr("--many=M"));
  EXPECT_THAT(help, HasSubstr("(repeatable)"));
  EXPECT_THAT(help, HasSubstr("--on "));
}

}  // namespace
}  // namespace danegate::common
