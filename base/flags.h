// Command-line set-up shared by every txmsg binary: --help lists the
// program's own flags (not Abseil's internals), --version prints the version.
#ifndef TXMSG_BASE_FLAGS_H_
#define TXMSG_BASE_FLAGS_H_

#include <string>
#include <vector>

namespace txmsg::base {

// Parses argv with Abseil flags after installing the usage text. Returns the
// positional arguments (argv[0] excluded). --help (or -h) anywhere prints the
// usage and the program's own flags and exits 0 (Abseil would exit 1).
std::vector<std::string> ParseFlags(int argc, char** argv, const std::string& usage);

// Installs the usage text and, if argv asks for help, prints it and exits 0.
// ParseFlags calls it; call it first when inspecting argv before ParseFlags.
void HandleHelp(int argc, char** argv, const std::string& usage);

}  // namespace txmsg::base

#endif  // TXMSG_BASE_FLAGS_H_
