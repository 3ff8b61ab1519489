#include "tests/testutil/pg_cluster.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <thread>

namespace txmsg::testing {
namespace {

constexpr char kPort[] = "5432";  // only a socket file in our own dir: never a clash

}  // namespace

std::string PgCluster::BinDir() {
  const std::string dir = "/usr/lib/postgresql/15/bin";
  return std::filesystem::exists(dir + "/postgres") ? dir : "";
}

PgCluster::~PgCluster() {
  if (running()) {
    postmaster_->Signal(SIGQUIT);  // immediate shutdown: no checkpoint to wait for
    postmaster_->Wait();
  }
  postmaster_.reset();
}

std::vector<std::string> PgCluster::AsPostgres(std::vector<std::string> argv) const {
  if (::geteuid() != 0) return argv;
  // setpriv execs the command itself (no process in between), so the pid
  // we hold is the postmaster's.
  std::vector<std::string> out = {"/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres",
                                  "--init-groups", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

bool PgCluster::InitDb() {
  dir_ = std::make_unique<TempDir>();
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr || ::chown(dir_->path().c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      std::fprintf(stderr, "pg_cluster: no postgres user to run the server as\n");
      return false;
    }
  }
  Subprocess initdb(
      AsPostgres({BinDir() + "/initdb", "-D", dir_->File("data"), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"}));
  (void)initdb.ReadAll(std::chrono::seconds(120));
  const int status = initdb.Wait();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "pg_cluster: initdb failed (status %d)\n", status);
    return false;
  }
  initialized_ = true;
  return true;
}

bool PgCluster::Start(std::chrono::milliseconds timeout) {
  if (BinDir().empty()) {
    std::fprintf(stderr, "pg_cluster: PostgreSQL 15 is not installed (tools/setup-deps.sh)\n");
    return false;
  }
  if (!initialized_ && !InitDb()) return false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string ping = Conninfo("postgres") + " connect_timeout=2";
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) {
      // After a kill -9 the old backends may hold the shared memory for a
      // moment: the new postmaster then exits at once, and we try again.
      postmaster_ = std::make_unique<Subprocess>(
          AsPostgres({BinDir() + "/postgres", "-D", dir_->File("data"), "-k", dir_->path(), "-p",
                      kPort, "-c", "listen_addresses=", "-c", "logging_collector=on", "-c",
                      "log_directory=" + dir_->File("log"), "-c", "max_connections=200"}));
    }
    if (PQping(ping.c_str()) == PQPING_OK) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling, with the deadline
  }
  std::fprintf(stderr, "pg_cluster: the server did not take connections in time\n");
  return false;
}

void PgCluster::Kill() {
  if (!postmaster_) return;
  postmaster_->Signal(SIGKILL);
  postmaster_->Wait();
}

std::string PgCluster::Conninfo(const std::string& name) const {
  return "host=" + (dir_ ? dir_->path() : std::string("/nonexistent")) + " port=" + kPort +
         " dbname=" + name + " user=postgres";
}

std::string PgCluster::Query(const std::string& name, const std::string& sql) const {
  PGconn* conn = PQconnectdb(Conninfo(name).c_str());
  std::string out;
  if (PQstatus(conn) != CONNECTION_OK) {
    out = std::string("ERROR: ") + PQerrorMessage(conn);
  } else {
    PGresult* r = PQexec(conn, sql.c_str());
    const ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      out = std::string("ERROR: ") + PQresultErrorMessage(r);
    } else if (PQntuples(r) > 0 && PQnfields(r) > 0) {
      out = PQgetvalue(r, 0, 0);
    }
    PQclear(r);
  }
  PQfinish(conn);
  return out;
}

std::string PgCluster::CreateDatabase(const std::string& name) {
  if (Query("postgres", "SELECT 1 FROM pg_database WHERE datname = '" + name + "'") != "1") {
    const std::string r = Query("postgres", "CREATE DATABASE \"" + name + "\"");
    if (r.rfind("ERROR", 0) == 0) std::fprintf(stderr, "pg_cluster: %s\n", r.c_str());
  }
  return Conninfo(name);
}

}  // namespace txmsg::testing
