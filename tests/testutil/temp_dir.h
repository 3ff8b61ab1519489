// A fresh directory under $TMPDIR (or /tmp), removed with its contents when
// the object goes away.
#ifndef TXMSG_TESTS_TESTUTIL_TEMP_DIR_H_
#define TXMSG_TESTS_TESTUTIL_TEMP_DIR_H_

#include <string>

namespace txmsg::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace txmsg::testing

#endif  // TXMSG_TESTS_TESTUTIL_TEMP_DIR_H_
