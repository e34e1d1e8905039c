// A small command-line flag parser for danegate's programs: GNU-style
// "--name=value" / "--name value", booleans, repeatable flags, durations
// and counts checked against their range while parsing, generated help.
// Errors are InvalidArgument with a message fit for a usage line.
#ifndef DANEGATE_SERVICE_COMMON_FLAGS_H_
#define DANEGATE_SERVICE_COMMON_FLAGS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace danegate::common {

class FlagSet {
 public:
  // Every FlagSet knows --flagfile=FILE: more arguments from FILE, one per
  // line (blank lines and lines starting with '#' skipped), in its place.
  FlagSet();

  // Registers flags; `target` must outlive Parse. `value_name` shows in help.
  void String(std::string name, std::string* target, std::string value_name, std::string help);
  void Repeated(std::string name, std::vector<std::string>* target, std::string value_name,
                std::string help);
  void Bool(std::string name, bool* target, std::string help);
  // A duration ("2s", "500ms", "1h30m") within [min, max]:
  // "--NAME 'TEXT': want a duration from MIN to MAX" otherwise.
  void Duration(std::string name, absl::Duration* target, absl::Duration min, absl::Duration max,
                std::string help);
  // An unsigned number within [min, max], written in `base` (8 for file
  // modes), no sign or spaces: "--NAME 'TEXT': want MIN..MAX" otherwise.
  void Count(std::string name, size_t* target, size_t min, size_t max, std::string help,
             int base = 10);

  // Parses `args` (flag files expanded); returns the positional arguments.
  // "--" ends the flags.
  // "-h"/"--help" set help_requested(), "--version" version_requested(); both
  // stop parsing.
  absl::StatusOr<std::vector<std::string>> Parse(const std::vector<std::string>& args);

  bool help_requested() const { return help_requested_; }
  bool version_requested() const { return version_requested_; }
  // Returns one line per flag, aligned, for --help.
  std::string Help() const;

 private:
  struct Flag {
    std::string name;
    bool is_bool = false;                                // takes no value (or =true/=false)
    bool repeated = false;                               // for help
    std::function<absl::Status(std::string value)> set;  // not for bools
    bool* bool_target = nullptr;
    std::string value_name;
    std::string help;
  };
  const Flag* Find(const std::string& name) const;

  std::vector<Flag> flags_;
  bool help_requested_ = false;
  bool version_requested_ = false;
  std::string flagfile_;  // registered for --help; expanded before parsing
};

}  // namespace danegate::common

#endif  // DANEGATE_SERVICE_COMMON_FLAGS_H_
