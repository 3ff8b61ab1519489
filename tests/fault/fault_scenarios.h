// The ways the fault suite breaks the system (docs/reliability.md lists
// them). Each scenario runs one or more fresh systems through
// FaultSuite::Run, draws every random choice from `rng` (seeded from the
// suite seed and the scenario's name), counts into suite.report(), and
// returns the violations it saw (none: the invariants held).
#ifndef TXMSG_TESTS_FAULT_FAULT_SCENARIOS_H_
#define TXMSG_TESTS_FAULT_FAULT_SCENARIOS_H_

#include <random>
#include <string>
#include <vector>

#include "tests/fault/fault_harness.h"

namespace txmsg::fault {

using ScenarioFn = Violations (*)(FaultSuite& suite, std::mt19937_64& rng);

// Every crash point of every process, armed at a random hit.
Violations CrashPoints(FaultSuite& suite, std::mt19937_64& rng);
// kill -9 of a random process, several times during the workload.
Violations RandomKills(FaultSuite& suite, std::mt19937_64& rng);
// SIGSTOP of each process for longer than the check-back and ack timeouts.
Violations Pauses(FaultSuite& suite, std::mt19937_64& rng);
// Random and mutated frames, idle connections, a consumer that never
// reads, malformed HTTP, while orders flow.
Violations BadInput(FaultSuite& suite, std::mt19937_64& rng);
// A chaos proxy between the services and the broker: frames delayed,
// dropped, duplicated, reordered; then connections cut and traffic stalled.
Violations Network(FaultSuite& suite, std::mt19937_64& rng);
// The broker's storage: power cuts, torn tails, failing fsync, a full disk
// (fault_storage.cc).
Violations Storage(FaultSuite& suite, std::mt19937_64& rng);
// The broker and one service with a low descriptor limit under a flood of
// silent connections: no exit, no spinning, a bounded log, and orders go on
// (fault_floods.cc).
Violations Descriptors(FaultSuite& suite, std::mt19937_64& rng);
// Silent connections (no Hello, no HTTP request) from several addresses
// against the broker and both services: operators and restarted services
// still get in (fault_floods.cc).
Violations IdleFlood(FaultSuite& suite, std::mt19937_64& rng);
// A full disk under each service's database in turn: orders settle,
// nothing is dead-lettered, /healthz says unhealthy meanwhile
// (fault_services.cc).
Violations DbFull(FaultSuite& suite, std::mt19937_64& rng);
// Poison events on the services' topics: dead-lettered and counted, no
// service dies (fault_services.cc).
Violations Poison(FaultSuite& suite, std::mt19937_64& rng);

struct Scenario {
  const char* name;  // as TXMSG_FAULT_ONLY takes it
  ScenarioFn run;
};
// Every scenario but the mutation controls, in the order the soak runs them.
inline constexpr Scenario kScenarios[] = {
    {"crash-points", CrashPoints},
    {"random-kills", RandomKills},
    {"pauses", Pauses},
    {"bad-input", BadInput},
    {"network", Network},
    {"storage", Storage},
    {"descriptors", Descriptors},
    {"idle-flood", IdleFlood},
    {"db-full", DbFull},
    {"poison", Poison},
};

}  // namespace txmsg::fault

#endif  // TXMSG_TESTS_FAULT_FAULT_SCENARIOS_H_
