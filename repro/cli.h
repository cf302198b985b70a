// cli.h - the `vmafuzz` command line: subcommands, shared options, exit codes.
//
// The program is a CLI11 App with one subcommand per entry of commands.inc;
// repro/cmd_<id>.cpp adds the subcommand's options and returns what to do once
// the command line is parsed. Options that several subcommands share, and
// their environment variables, come from flags.inc (add_flag), which also
// writes the "Environment:" part of --help; the exit codes below write the
// "Exit codes:" parts. cli_main() runs the whole thing on any streams, so
// tests call it in-process.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/inject.h"
#include "core/inject_option.h"
#include "repro/scenario_io.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace vmafuzz::repro {

enum ExitCode : int {
  kExitOk = 0,       // converted / listed / every run passed
  kExitFinding = 1,  // run: some input ended with a finding
  kExitUsage = 2,    // bad command line, unreadable or malformed input, I/O error
};
// What `code` means for `command` (a name of commands.inc), or in general
// when `command` is "" or has no text of its own: each command's --help lists
// only its own codes and meanings.
std::string_view exit_code_meaning(int code, std::string_view command = "");

// The bound of --max-steps (and a sidecar's max_steps): 1 to 10^9 scheduling
// points. A correct run takes a few hundred; the default is 50000.
inline constexpr uint64_t kMaxStepsLimit = 1'000'000'000;

// Where a command writes: its results to `out`, errors and notes to `err`.
struct Io {
  std::ostream& out;
  std::ostream& err;
};

// What a subcommand does once the command line is parsed; returns the exit code.
using CommandAction = std::function<int(Io&)>;

// One per entry of commands.inc, defined in repro/cmd_<id>.cpp: add the
// subcommand's options and positionals to `cmd` (bound to state the returned
// action owns) and return the action.
#define VMAFUZZ_COMMAND(id, name, summary, exit0, exit1, exit2) CommandAction setup_##id(CLI::App& cmd);
#include "repro/commands.inc"
#undef VMAFUZZ_COMMAND

// ---- shared options (flags.inc) ----------------------------------------------

enum class Flag {
#define VMAFUZZ_FLAG(id, name, value, env, help) id,
#include "repro/flags.inc"
#undef VMAFUZZ_FLAG
};

// Add a shared option to `cmd`, with its name, placeholder, help and
// environment variable from flags.inc, bound to `target`.
CLI::Option* add_flag(CLI::App& cmd, Flag flag, std::string* target);
CLI::Option* add_flag(CLI::App& cmd, Flag flag, uint64_t* target);
// Flag::kInject: add_inject_option() (core/inject_option.h), an unknown bug
// name being a usage error that names it.
CLI::Option* add_flag(CLI::App& cmd, Flag flag, InjectArgs* target);

// The `vmafuzz run` command that replays `path` (read as `format`) with these
// bugs and step bound: what a finding's report prints.
std::string replay_command(const std::vector<std::string>& inject, uint64_t max_steps, const std::string& path,
                           Format format);

// ---- the program ---------------------------------------------------------------

// "vmafuzz 0.1.0 (scenario formats: binary 1, .sched 1)"
std::string version_line();

// Run `vmafuzz` with `args` (without the program name). --help and --version
// print to `out`; usage errors to `err`. Returns the exit code.
int cli_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace vmafuzz::repro
