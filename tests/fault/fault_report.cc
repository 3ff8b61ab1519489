#include "tests/fault/fault_report.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace txmsg::fault {
namespace {

// Every counter of a Report with its name in the part files and the JSON.
struct Counter {
  const char* name;
  int Report::*field;
};
constexpr Counter kCounters[] = {
    {"runs", &Report::runs},
    {"kills", &Report::kills},
    {"orders", &Report::orders},
    {"messages", &Report::messages},
    {"duplicates", &Report::duplicates},
    {"violations", &Report::violations},
    {"mutations_total", &Report::mutations_total},
    {"mutations_caught", &Report::mutations_caught},
};

constexpr char kPartSuffix[] = ".part";

std::filesystem::path PartsDir() { return std::string(TXMSG_FAULT_REPORT) + ".d"; }

// Holds an exclusive lock on the parts directory while alive, so two test
// processes never interleave storing a part and rewriting the report.
class PartsLock {
 public:
  PartsLock() {
    std::filesystem::create_directories(PartsDir());
    fd_ = open((PartsDir() / ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (fd_ >= 0) flock(fd_, LOCK_EX);
  }
  ~PartsLock() {
    if (fd_ >= 0) close(fd_);
  }
  PartsLock(const PartsLock&) = delete;
  PartsLock& operator=(const PartsLock&) = delete;

 private:
  int fd_ = -1;
};

// Writes `content` to a temp file and renames it over `path`: a reader sees
// the old file or the new one, never half of one.
void WriteAtomically(const std::filesystem::path& path, const std::string& content) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  std::ofstream(tmp, std::ios::trunc) << content;
  std::filesystem::rename(tmp, path);
}

// A part is lines of "counter N", "scenario NAME" and "seed PART N".
std::string Serialize(const Report& r) {
  std::string out;
  for (const Counter& c : kCounters) absl::StrAppend(&out, c.name, " ", r.*c.field, "\n");
  for (const std::string& s : r.scenarios) absl::StrAppend(&out, "scenario ", s, "\n");
  for (const auto& [part, seed] : r.seeds) absl::StrAppend(&out, "seed ", part, " ", seed, "\n");
  return out;
}

Report Parse(std::istream& in) {
  Report r;
  std::string key;
  while (in >> key) {
    if (key == "scenario") {
      std::string name;
      in >> name;
      r.scenarios.insert(name);
    } else if (key == "seed") {
      std::string part;
      uint64_t seed = 0;
      in >> part >> seed;
      r.seeds[part] = seed;
    } else {
      int value = 0;
      in >> value;
      for (const Counter& c : kCounters) {
        if (key == c.name) r.*c.field = value;
      }
    }
  }
  return r;
}

std::string ToJson(const Report& r) {
  std::string json = absl::StrCat("{\n  \"scenarios\": ", r.scenarios.size());
  for (const Counter& c : kCounters) absl::StrAppend(&json, ",\n  \"", c.name, "\": ", r.*c.field);
  absl::StrAppend(&json, ",\n  \"seeds\": {");
  const char* sep = "";
  for (const auto& [part, seed] : r.seeds) {
    absl::StrAppend(&json, sep, "\"", part, "\": ", seed);
    sep = ", ";
  }
  absl::StrAppend(&json, "}\n}\n");
  return json;
}

// The sum of the stored parts; the caller holds the PartsLock.
Report MergeLocked() {
  Report merged;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(PartsDir(), ec)) {
    if (entry.path().extension() != kPartSuffix) continue;
    std::ifstream in(entry.path());
    merged.Add(Parse(in));
  }
  return merged;
}

}  // namespace

void Report::Add(const Report& other) {
  for (const Counter& c : kCounters) this->*c.field += other.*c.field;
  scenarios.insert(other.scenarios.begin(), other.scenarios.end());
  for (const auto& [part, seed] : other.seeds) seeds[part] = seed;
}

void SaveReportPart(const std::string& name, const Report& part) {
  std::printf("%s: runs=%d kills=%d orders=%d duplicates=%d violations=%d", name.c_str(), part.runs,
              part.kills, part.orders, part.duplicates, part.violations);
  if (part.mutations_total > 0)
    std::printf(" mutations_caught=%d/%d", part.mutations_caught, part.mutations_total);
  std::printf("\n");
  PartsLock lock;
  WriteAtomically(PartsDir() / (name + kPartSuffix), Serialize(part));
  WriteAtomically(TXMSG_FAULT_REPORT, ToJson(MergeLocked()));
}

Report MergedReport() {
  PartsLock lock;
  return MergeLocked();
}

void PrintSummary(const Report& r) {
  std::printf(
      "\nFAULT SUITE SUMMARY: scenarios=%zu runs=%d kills=%d orders=%d messages=%d "
      "duplicates=%d violations=%d mutations_caught=%d/%d (written to %s)\n",
      r.scenarios.size(), r.runs, r.kills, r.orders, r.messages, r.duplicates, r.violations,
      r.mutations_caught, r.mutations_total, TXMSG_FAULT_REPORT);
}

void ReportEnvironment::SetUp() {
  if (GTEST_FLAG_GET(filter) != "*") return;  // one test (CTest): replace its part only
  PartsLock lock;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(PartsDir(), ec)) {
    if (entry.path().extension() == kPartSuffix) std::filesystem::remove(entry.path(), ec);
  }
  WriteAtomically(TXMSG_FAULT_REPORT, ToJson(Report{}));
}

void ReportEnvironment::TearDown() { PrintSummary(MergedReport()); }

}  // namespace txmsg::fault
