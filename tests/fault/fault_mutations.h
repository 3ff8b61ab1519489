// The mutation controls: test-only switches (TXMSG_TEST_MUTATION) that each
// break one guarantee on purpose, run against the fault each is vulnerable
// to. The suite's checks must notice every one; otherwise they prove nothing.
#ifndef TXMSG_TESTS_FAULT_FAULT_MUTATIONS_H_
#define TXMSG_TESTS_FAULT_FAULT_MUTATIONS_H_

#include <string>
#include <vector>

#include "tests/fault/fault_harness.h"

namespace txmsg::fault {

// TXMSG_FAULT_ONLY's name for the mutation controls.
inline constexpr char kMutationsScenario[] = "mutations";

// Runs each mutation until the checks catch it (a few attempts at most).
// Counts mutations_total and mutations_caught into suite.report(); returns
// the names of the mutations that went unnoticed.
std::vector<std::string> UncaughtMutations(FaultSuite& suite);

}  // namespace txmsg::fault

#endif  // TXMSG_TESTS_FAULT_FAULT_MUTATIONS_H_
