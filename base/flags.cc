#include "base/flags.h"

#include <cstdlib>
#include <iostream>
#include <string_view>

#include "absl/flags/internal/program_name.h"
#include "absl/flags/internal/usage.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"

namespace txmsg::base {

namespace {

void InstallUsage(const std::string& usage) {
  static bool installed = false;
  if (installed) return;
  installed = true;
  absl::FlagsUsageConfig config;
  // Our flags live in our sources; Abseil's own live under absl/.
  auto ours = [](absl::string_view file) { return !absl::StrContains(file, "absl/"); };
  config.contains_help_flags = ours;
  config.contains_helpshort_flags = ours;
  config.version_string = [] { return std::string("txmsg 0.1.0\n"); };
  config.normalize_filename = [](absl::string_view f) { return std::string(f); };
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(usage);
}

}  // namespace

void HandleHelp(int argc, char** argv, const std::string& usage) {
  InstallUsage(usage);
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "--help" || arg == "-h" || arg == "--helpfull" || arg == "-help") {
      // Abseil's own listing, filtered by the config above (our flags only),
      // but exiting 0: asking for help is not an error.
      absl::flags_internal::SetProgramInvocationName(argv[0]);
      absl::flags_internal::SetFlagsHelpMode(absl::flags_internal::HelpMode::kImportant);
      (void)absl::flags_internal::HandleUsageFlags(std::cout, absl::ProgramUsageMessage());
      std::exit(0);
    }
  }
}

std::vector<std::string> ParseFlags(int argc, char** argv, const std::string& usage) {
  HandleHelp(argc, argv, usage);
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  return std::vector<std::string>(rest.begin() + 1, rest.end());
}

}  // namespace txmsg::base
