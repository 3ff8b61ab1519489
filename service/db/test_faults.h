// Storage faults under the services' SQLite files, for tests only,
// switched on by an environment variable (docs/reliability.md):
//   TXMSG_TEST_DB_FULL_FLAG=PATH  while PATH exists, every write to a
//                                 database file (the db, its WAL and
//                                 journal) fails with SQLITE_FULL, as on
//                                 a full disk; reads keep working.
// It works as a SQLite VFS that wraps the default one, so SQLite itself
// meets the error where a real full disk would put it (a commit's WAL
// write) and the services see exactly what they would see then.
#ifndef TXMSG_SERVICE_DB_TEST_FAULTS_H_
#define TXMSG_SERVICE_DB_TEST_FAULTS_H_

namespace txmsg::sql {

// Registers the faulty VFS as SQLite's default if the variable is set;
// does nothing otherwise. Idempotent and thread-safe; Database::Open calls
// it before opening anything.
void InstallTestStorageFaults();

}  // namespace txmsg::sql

#endif  // TXMSG_SERVICE_DB_TEST_FAULTS_H_
