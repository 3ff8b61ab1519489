// A throwaway PostgreSQL 15 cluster for one test binary: initdb in a temp
// dir, the postmaster listening only on a Unix socket in that dir (no TCP
// port, nothing shared), run as the `postgres` user when the test runs as
// root (initdb and postgres refuse root). Killed (-9) and restarted on
// demand; stopped and removed with the object.
#ifndef TXMSG_TESTS_TESTUTIL_PG_CLUSTER_H_
#define TXMSG_TESTS_TESTUTIL_PG_CLUSTER_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/testutil/subprocess.h"
#include "tests/testutil/temp_dir.h"

namespace txmsg::testing {

class PgCluster {
 public:
  PgCluster() = default;
  // Immediate shutdown, then the directory goes.
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // initdb (the first time), start the postmaster and wait until it takes
  // connections. False (with a message on stderr) if it did not.
  bool Start(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // kill -9 of the postmaster (its backends die by themselves soon after).
  void Kill();
  // Start again after Kill (crash recovery included); waits for the old
  // backends to go.
  bool Restart() {
    Kill();
    return Start();
  }
  bool running() { return postmaster_ && !postmaster_->Exited(); }
  pid_t pid() const { return postmaster_ ? postmaster_->pid() : -1; }

  // Creates database `name` (if missing) and returns its conninfo.
  std::string CreateDatabase(const std::string& name);
  // The conninfo of database `name` ("host=DIR port=5432 dbname=NAME user=postgres").
  std::string Conninfo(const std::string& name) const;
  // Runs SQL on database `name`; the first row's first column ("" if none),
  // or "ERROR: ..." if it failed.
  std::string Query(const std::string& name, const std::string& sql) const;

  // The binaries, or "" if PostgreSQL 15's server is not installed.
  static std::string BinDir();

 private:
  std::vector<std::string> AsPostgres(std::vector<std::string> argv) const;
  bool InitDb();

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Subprocess> postmaster_;
  bool initialized_ = false;
};

}  // namespace txmsg::testing

#endif  // TXMSG_TESTS_TESTUTIL_PG_CLUSTER_H_
