// Early-return helpers for absl::Status / absl::StatusOr (Abseil 20220623
// has no status_macros.h of its own).
#ifndef DANEGATE_SERVICE_COMMON_STATUS_MACROS_H_
#define DANEGATE_SERVICE_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define DANEGATE_CONCAT_INNER_(a, b) a##b
#define DANEGATE_CONCAT_(a, b) DANEGATE_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function if it is not OK.
#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    if (absl::Status status_ = (expr); !status_.ok()) \
      return status_;                              \
  } while (0)

// Declares `lhs` from a StatusOr expression, or returns its error status.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(DANEGATE_CONCAT_(statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()

#endif  // DANEGATE_SERVICE_COMMON_STATUS_MACROS_H_
