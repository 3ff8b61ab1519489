// The fault suite's report. Each scenario is its own test, and under CTest
// its own process, so each stores its result as a part (one file per test
// next to fault-report.json); fault-report.json is rewritten as the sum of
// the latest part of every test whenever a part is stored. A run of the
// whole binary (tools/fault.sh) starts from no parts, so its report covers
// exactly that run.
#ifndef TXMSG_TESTS_FAULT_FAULT_REPORT_H_
#define TXMSG_TESTS_FAULT_FAULT_REPORT_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace txmsg::fault {

// What one test did, or (merged) the whole suite. fault-report.json holds
// every counter, `scenarios` as a count, and the seed of each test.
struct Report {
  int runs = 0, kills = 0, orders = 0, messages = 0, duplicates = 0, violations = 0;
  int mutations_total = 0, mutations_caught = 0;
  std::set<std::string> scenarios;        // names, as TXMSG_FAULT_ONLY takes them
  std::map<std::string, uint64_t> seeds;  // test part -> the seed it ran with

  void Add(const Report& other);
};

// Prints `part` on one line, stores it as the latest result of test part
// `name` and rewrites fault-report.json from every stored part. Safe across
// processes (the parts directory is locked meanwhile).
void SaveReportPart(const std::string& name, const Report& part);

// The sum of every stored part.
Report MergedReport();

// Prints the one-line summary of `r` and where the report is.
void PrintSummary(const Report& r);

// Registered for the whole binary: a run of every test (no --gtest_filter)
// forgets the parts of earlier runs first; at the end the merged summary is
// printed.
class ReportEnvironment : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;
};

}  // namespace txmsg::fault

#endif  // TXMSG_TESTS_FAULT_FAULT_REPORT_H_
