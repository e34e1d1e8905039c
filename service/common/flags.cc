#include "service/common/flags.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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
  flags_.push_back({.name = std::move(name),
                    .set =
                        [target](std::string value) {
                          *target = std::move(value);
                          return absl::OkStatus();
                        },
                    .value_name = std::move(value_name),
                    .help = std::move(help)});
}

void FlagSet::Repeated(std::string name, std::vector<std::string>* target, std::string value_name,
                       std::string help) {
  flags_.push_back({.name = std::move(name),
                    .repeated = true,
                    .set =
                        [target](std::string value) {
                          target->push_back(std::move(value));
                          return absl::OkStatus();
                        },
                    .value_name = std::move(value_name),
                    .help = std::move(help)});
}

void FlagSet::Bool(std::string name, bool* target, std::string help) {
  flags_.push_back(
      {.name = std::move(name), .is_bool = true, .bool_target = target, .help = std::move(help)});
}

void FlagSet::Duration(std::string name, absl::Duration* target, absl::Duration min,
                       absl::Duration max, std::string help) {
  std::string flag = absl::StrCat("--", name);
  flags_.push_back({.name = std::move(name),
                    .set =
                        [target, min, max, flag = std::move(flag)](std::string value) {
                          absl::Duration parsed;
                          if (!absl::ParseDuration(value, &parsed) || parsed < min ||
                              parsed > max) {
                            return absl::InvalidArgumentError(absl::StrCat(
                                flag, " '", value, "': want a duration from ",
                                absl::FormatDuration(min), " to ", absl::FormatDuration(max)));
                          }
                          *target = parsed;
                          return absl::OkStatus();
                        },
                    .value_name = "DURATION",
                    .help = std::move(help)});
}

void FlagSet::Count(std::string name, size_t* target, size_t min, size_t max, std::string help,
                    int base) {
  std::string flag = absl::StrCat("--", name);
  flags_.push_back(
      {.name = std::move(name),
       .set =
           [target, min, max, base, flag = std::move(flag)](std::string value) {
             size_t parsed = 0;
             const char* end = value.data() + value.size();
             const std::from_chars_result r = std::from_chars(value.data(), end, parsed, base);
             if (value.empty() || r.ec != std::errc() || r.ptr != end || parsed < min ||
                 parsed > max) {
               return absl::InvalidArgumentError(absl::StrCat(
                   flag, " '", value, "': want ", base == 8 ? "octal " : "",
                   base == 8 ? absl::StrFormat("%o..%o", min, max) : absl::StrCat(min, "..", max)));
             }
             *target = parsed;
             return absl::OkStatus();
           },
       .value_name = base == 8 ? "OCTAL" : "N",
       .help = std::move(help)});
}

const FlagSet::Flag* FlagSet::Find(const std::string& name) const {
  for (const Flag& flag : flags_) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

absl::StatusOr<std::vector<std::string>> FlagSet::Parse(const std::vector<std::string>& raw_args) {
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
    if (flag->is_bool) {
      bool* target = flag->bool_target;
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
    if (absl::Status set = flag->set(std::move(value)); !set.ok()) return set;
  }
  return positional;
}

std::string FlagSet::Help() const {
  std::vector<std::string> left;
  size_t width = 0;
  for (const Flag& flag : flags_) {
    std::string text = absl::StrCat("  --", flag.name);
    if (!flag.is_bool) absl::StrAppend(&text, "=", flag.value_name);
    width = std::max(width, text.size());
    left.push_back(std::move(text));
  }
  std::string out;
  for (size_t i = 0; i < flags_.size(); ++i) {
    if (i == 0) {
      // The two every program takes.
      for (const auto& [name, help] :
           {std::pair{"--help", "this text"}, std::pair{"--version", "the release, on one line"}}) {
        absl::StrAppend(&out, "  ", name, std::string(width + 2 - 2 - strlen(name), ' '), help,
                        "\n");
      }
    }
    absl::StrAppend(&out, left[i], std::string(width + 2 - left[i].size(), ' '), flags_[i].help,
                    flags_[i].repeated ? " (repeatable)" : "", "\n");
  }
  return out;
}

}  // namespace danegate::common
