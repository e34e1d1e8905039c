#include "service/common/flags.h"

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
