#include "service/common/flags.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "service/common/file.h"

namespace danegate::common {
namespace {

constexpr size_t kMaxFlagfileBytes = 64 * 1024;

// Returns `args` with each --flagfile=FILE (or --flagfile FILE) replaced by
// the lines of FILE. Flag files do not nest.
absl::StatusOr<std::vector<std::string>> ExpandFlagfiles(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") {
      out.insert(out.end(), args.begin() + static_cast<long>(i), args.end());
      break;
    }
    std::string path;
    if (absl::StartsWith(args[i], "--flagfile=")) {
      path = args[i].substr(strlen("--flagfile="));
    } else if (args[i] == "--flagfile" && i + 1 < args.size()) {
      path = args[++i];
    } else {
      out.push_back(args[i]);
      continue;
    }
    absl::StatusOr<std::string> text = ReadFileBounded(path, kMaxFlagfileBytes);
    if (!text.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--flagfile ", text.status().message()));
    }
    for (absl::string_view line : absl::StrSplit(*text, '\n')) {
      line = absl::StripAsciiWhitespace(line);
      if (line.empty() || line.front() == '#') continue;
      if (absl::StartsWith(line, "--flagfile")) {
        return absl::InvalidArgumentError(
            absl::StrCat("--flagfile ", path, ": flag files do not nest"));
      }
      out.emplace_back(line);
    }
  }
  return out;
}

}  // namespace

FlagSet::FlagSet() {
  String("flagfile", &flagfile_, "FILE", "more flags from FILE, one per line ('#' comments)");
}

void FlagSet::String(std::string name, std::string* target, std::string value_name,
                     std::string help) {
  flags_.push_back({std::move(name), Flag::Kind::kString, target, std::move(value_name),
                    std::move(help)});
}

void FlagSet::Repeated(std::string name, std::vector<std::string>* target,
                       std::string value_name, std::string help) {
  flags_.push_back({std::move(name), Flag::Kind::kRepeated, target, std::move(value_name),
                    std::move(help)});
}

void FlagSet::Bool(std::string name, bool* target, std::string help) {
  flags_.push_back({std::move(name), Flag::Kind::kBool, target, "", std::move(help)});
}

const FlagSet::Flag* FlagSet::Find(const std::string& name) const {
  for (const Flag& flag : flags_) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

absl::StatusOr<std::vector<std::string>> FlagSet::Parse(
    const std::vector<std::string>& raw_args) {
  absl::StatusOr<std::vector<std::string>> expanded = ExpandFlagfiles(raw_args);
  if (!expanded.ok()) return expanded.status();
  const std::vector<std::string>& args = *expanded;
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      positional.insert(positional.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (arg == "-h" || arg == "--help") {
      help_requested_ = true;
      return positional;
    }
    if (arg == "--version") {
      version_requested_ = true;
      return positional;
    }
    if (!absl::StartsWith(arg, "--") || arg.size() == 2) {
      if (absl::StartsWith(arg, "-") && arg.size() > 1) {
        return absl::InvalidArgumentError(absl::StrCat("unknown option '", arg, "'"));
      }
      positional.push_back(arg);
      continue;
    }
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const Flag* flag = Find(name);
    if (flag == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown option '--", name, "'"));
    }
    if (flag->kind == Flag::Kind::kBool) {
      bool* target = static_cast<bool*>(flag->target);
      if (eq == std::string::npos) {
        *target = true;
      } else {
        const std::string value = arg.substr(eq + 1);
        if (value != "true" && value != "false") {
          return absl::InvalidArgumentError(
              absl::StrCat("--", name, " takes no value (or =true/=false)"));
        }
        *target = value == "true";
      }
      continue;
    }
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " needs a value (", flag->value_name, ")"));
    }
    if (flag->kind == Flag::Kind::kString) {
      *static_cast<std::string*>(flag->target) = std::move(value);
    } else {
      static_cast<std::vector<std::string>*>(flag->target)->push_back(std::move(value));
    }
  }
  return positional;
}

std::string FlagSet::Help() const {
  std::vector<std::string> left;
  size_t width = 0;
  for (const Flag& flag : flags_) {
    std::string text = absl::StrCat("  --", flag.name);
    if (flag.kind != Flag::Kind::kBool) absl::StrAppend(&text, "=", flag.value_name);
    width = std::max(width, text.size());
    left.push_back(std::move(text));
  }
  std::string out;
  for (size_t i = 0; i < flags_.size(); ++i) {
    if (i == 0) {
      // The two every program takes.
      for (const auto& [name, help] : {std::pair{"--help", "this text"},
                                       std::pair{"--version", "the release, on one line"}}) {
        absl::StrAppend(&out, "  ", name, std::string(width + 2 - 2 - strlen(name), ' '), help,
                        "\n");
      }
    }
    absl::StrAppend(&out, left[i], std::string(width + 2 - left[i].size(), ' '), flags_[i].help,
                    flags_[i].kind == Flag::Kind::kRepeated ? " (repeatable)" : "", "\n");
  }
  return out;
}

}  // namespace danegate::common
