// cmd_list_bugs.cpp - `vmafuzz list-bugs`: the injectable bug catalog
// (core/bug_catalog.inc), one bug per line: name, origin, summary.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <ostream>

#include "core/inject.h"
#include "repro/cli.h"

namespace vmafuzz::repro {

CommandAction setup_list_bugs(CLI::App& cmd) {
  cmd.footer(
      "Prints one line per bug: NAME ORIGIN SUMMARY, in catalog order, columns\n"
      "aligned; NAME is what --inject and VMAFUZZ_INJECT take, ORIGIN the\n"
      "kernel history it models (a bug id of docs/MODEL.md) or 'mutant'.");
  return [](Io& io) {
    constexpr int kBugs = static_cast<int>(core::Bug::kCount);
    size_t name_width = 0;
    size_t origin_width = 0;
    for (int i = 0; i < kBugs; ++i) {
      const core::BugInfo& b = core::bug_info(static_cast<core::Bug>(i));
      name_width = std::max(name_width, b.name.size());
      origin_width = std::max(origin_width, b.origin.size());
    }
    for (int i = 0; i < kBugs; ++i) {
      const core::BugInfo& b = core::bug_info(static_cast<core::Bug>(i));
      io.out << fmt::format("{:<{}}  {:<{}}  {}\n", b.name, name_width, b.origin, origin_width, b.summary);
    }
    return kExitOk;
  };
}

}  // namespace vmafuzz::repro
