// A scripted dns::Resolver for unit tests: answers from a table, either at
// once or when Flush() is called, and records what was asked.
#ifndef DANEGATE_TESTS_TESTING_FAKE_RESOLVER_H_
#define DANEGATE_TESTS_TESTING_FAKE_RESOLVER_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "service/dns/resolver.h"

namespace danegate::testing {

class FakeResolver : public dns::Resolver {
 public:
  // Sets the answer for (name, type); unknown questions get a kFailure.
  void Set(const std::string& name, dns::RrType type, dns::DnsAnswer answer) {
    answer.qname = name;
    if (answer.canonical_name.empty()) answer.canonical_name = name;
    answers_[{name, type}] = std::move(answer);
  }

  // With deferred answers, callbacks run only in Flush(), in reverse order
  // of the questions (to shake out ordering assumptions).
  void set_deferred(bool deferred) { deferred_ = deferred; }

  void Flush() {
    while (!pending_.empty()) FlushBatch();
  }

  // Answers the questions pending now (not those their callbacks ask).
  void FlushBatch() {
    auto batch = std::move(pending_);
    pending_.clear();
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) std::move(it->second)(it->first);
  }

  void Lookup(const std::string& name, dns::RrType type, dns::AnswerCallback done) override {
    asked_.push_back(std::string(dns::RrTypeName(type)) + " " + name);
    dns::DnsAnswer answer;
    if (auto it = answers_.find({name, type}); it != answers_.end()) {
      answer = it->second;
    } else {
      answer.qname = answer.canonical_name = name;
      answer.error = "not scripted";
    }
    if (deferred_) {
      pending_.emplace_back(std::move(answer), std::move(done));
    } else {
      std::move(done)(std::move(answer));
    }
  }

  const std::vector<std::string>& asked() const { return asked_; }
  void clear_asked() { asked_.clear(); }

 private:
  std::map<std::pair<std::string, dns::RrType>, dns::DnsAnswer> answers_;
  std::vector<std::pair<dns::DnsAnswer, dns::AnswerCallback>> pending_;
  std::vector<std::string> asked_;
  bool deferred_ = false;
};

}  // namespace danegate::testing

#endif  // DANEGATE_TESTS_TESTING_FAKE_RESOLVER_H_
