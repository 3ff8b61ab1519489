#include "tests/testutil/listening_process.h"

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <thread>

namespace txmsg::testing {

bool ListeningProcess::Start() {
  std::vector<std::string> argv = argv_;
  argv.push_back("--port=" + std::to_string(port_));
  if (!wrapper_.empty()) argv.insert(argv.begin(), {"/bin/sh", "-c", wrapper_, "sh"});
  proc_ = std::make_unique<Subprocess>(argv, env_);
  // Restarting on the same port may race the old socket's release: retry.
  for (int attempt = 0; attempt < 50; ++attempt) {
    std::optional<std::string> line = proc_->ReadLine(std::chrono::seconds(20));
    if (line && line->find("listening on ") != std::string::npos) {
      port_ = static_cast<uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
      return true;
    }
    proc_->Wait();
    if (port_ == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // port still held by the old one
    proc_ = std::make_unique<Subprocess>(argv, env_);
  }
  std::fprintf(stderr, "%s did not start\n", argv_.front().c_str());
  return false;
}

void ListeningProcess::Kill() {
  if (!proc_) return;
  proc_->Signal(SIGKILL);
  proc_->Wait();
  proc_.reset();
}

int ListeningProcess::Terminate() {
  if (!proc_) return -1;
  proc_->Signal(SIGTERM);
  return Wait();
}

int ListeningProcess::Wait() {
  if (!proc_) return -1;
  const int status = proc_->Wait();
  proc_.reset();
  return status;
}

}  // namespace txmsg::testing
