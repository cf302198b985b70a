// cli.cpp - the App: subcommands from commands.inc, shared options from
// flags.inc, help text (environment, exit codes) from the same tables.
#include "repro/cli.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <ostream>
#include <stdexcept>

#include "fuzz/execution.h"
#include "fuzz/scenario_codec.h"
#include "fuzz/sched_text.h"

#ifndef VMAFUZZ_VERSION
#error "VMAFUZZ_VERSION must be the project version (repro/CMakeLists.txt)"
#endif

namespace vmafuzz::repro {
namespace {

struct FlagInfo {
  std::string_view name;
  std::string_view value;
  std::string_view env;
  std::string_view help;
};

constexpr std::array kFlags = {
#define VMAFUZZ_FLAG(id, name, value, env, help) FlagInfo{name, value, env, help},
#include "repro/flags.inc"
#undef VMAFUZZ_FLAG
};

const FlagInfo& flag_info(Flag f) { return kFlags[static_cast<size_t>(f)]; }

struct CommandInfo {
  std::string_view name;
  std::string_view summary;
  std::array<std::string_view, 3> exit_meaning;  // by ExitCode; "" where it never returns that code
  CommandAction (*setup)(CLI::App&);
};

constexpr std::array kCommands = {
#define VMAFUZZ_COMMAND(id, name, summary, ok, finding, usage) CommandInfo{name, summary, {ok, finding, usage}, &setup_##id},
#include "repro/commands.inc"
#undef VMAFUZZ_COMMAND
};

constexpr std::array kExitCodes = {kExitOk, kExitFinding, kExitUsage};

std::string exit_codes_text(std::string_view command) {
  std::string s = "Exit codes:\n";
  for (const int code : kExitCodes) {
    const std::string_view meaning = exit_code_meaning(code, command);
    if (!meaning.empty()) s += fmt::format("  {}  {}\n", code, meaning);
  }
  return s;
}

// "Environment:" from the flags that have a variable, naming the commands
// whose options read it.
std::string environment_text(const CLI::App& app) {
  std::string s;
  for (const FlagInfo& f : kFlags) {
    if (f.env.empty()) continue;
    std::string users;
    for (const CLI::App* cmd : app.get_subcommands([](const CLI::App*) { return true; })) {
      for (const CLI::Option* opt : cmd->get_options()) {
        if (opt->get_envname() == f.env) users += (users.empty() ? "" : ", ") + cmd->get_name();
      }
    }
    s += fmt::format("  {}={}[,{}...]\n      as {} {} ({}) when that option is not given\n", f.env, f.value, f.value,
                     f.name, f.value, users);
  }
  return s.empty() ? s : "Environment:\n" + s + "\n";
}

template <class T>
CLI::Option* add_flag_impl(CLI::App& cmd, Flag flag, T* target) {
  const FlagInfo& f = flag_info(flag);
  CLI::Option* opt = cmd.add_option(std::string(f.name), *target, std::string(f.help));
  opt->type_name(std::string(f.value));
  if (!f.env.empty()) opt->envname(std::string(f.env));
  return opt;
}

}  // namespace

std::string_view exit_code_meaning(int code, std::string_view command) {
  if (code < 0 || code >= static_cast<int>(kExitCodes.size())) return "";
  for (const CommandInfo& c : kCommands) {
    if (c.name == command) return c.exit_meaning[static_cast<size_t>(code)];
  }
  // `vmafuzz` itself (no command): what the codes mean across commands.
  switch (code) {
    case kExitOk: return "success (run: every input passed)";
    case kExitFinding: return "run: some input ended with a finding; hunt: a run ended with one (its report is printed)";
    case kExitUsage: return "bad command line, unreadable or malformed input, or an I/O error";
    default: return "";
  }
}

CLI::Option* add_flag(CLI::App& cmd, Flag flag, std::string* target) { return add_flag_impl(cmd, flag, target); }

CLI::Option* add_flag(CLI::App& cmd, Flag flag, InjectArgs* target) {
  const FlagInfo& f = flag_info(flag);
  CLI::Option* opt =
      add_inject_option(cmd, *target,
                        {std::string(f.help), std::string(f.value), std::string(f.env),
                         fmt::format(" (from {} or {}); `vmafuzz list-bugs` lists them", f.name, f.env)});
  if (opt->get_name() != f.name) throw std::logic_error("flags.inc: add_inject_option names the option --inject");
  return opt;
}

CLI::Option* add_flag(CLI::App& cmd, Flag flag, uint64_t* target) {
  // A count from 1 to kMaxStepsLimit, checked on the digits (CLI11's
  // PositiveNumber would print a double's range, and its unsigned conversion
  // wraps "-3" around and takes 2^64 silently).
  const CLI::Validator bounded(
      [](std::string& v) -> std::string {
        const std::string range = fmt::format("must be a number from 1 to {}", kMaxStepsLimit);
        if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) {
          return range + ", not '" + printable(v, 40) + "'";
        }
        const size_t first = v.find_first_not_of('0');
        const std::string digits = first == std::string::npos ? "0" : v.substr(first);
        if (digits.size() > 10 || std::stoull(digits) < 1 || std::stoull(digits) > kMaxStepsLimit) {
          return range + ", not " + printable(v, 40);
        }
        return "";
      },
      "");
  return add_flag_impl(cmd, flag, target)->capture_default_str()->check(bounded);
}

std::string replay_command(const std::vector<std::string>& inject, uint64_t max_steps, const std::string& path,
                           Format format) {
  std::string cmd = "vmafuzz run";
  for (const std::string& bug : inject) {
    if (!bug.empty()) cmd += " --inject " + shell_quote(bug);
  }
  if (max_steps != fuzz::kDefaultMaxSteps) cmd += fmt::format(" --max-steps {}", max_steps);
  if (format != format_of_path(path)) cmd += fmt::format(" --from {}", format_name(format));
  // A path starting with '-' would read as an option.
  return cmd + " " + (path.starts_with("-") ? "./" : "") + shell_quote(path);
}

std::string version_line() {
  return fmt::format("vmafuzz {} (scenario formats: binary {}, .sched {})", VMAFUZZ_VERSION, fuzz::kFormatVersion,
                     fuzz::kSchedVersion);
}

int cli_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app("vmafuzz: replay, convert, triage and hunt scenarios of the per-VMA lock fuzzer.", "vmafuzz");
  app.set_version_flag("--version", version_line(), "print the version and exit");
  app.require_subcommand(1);
  app.failure_message([](const CLI::App* failed, const CLI::Error& e) {
    // `failed` is the app whose parse failed: name the subcommand if any.
    std::string cmd = "vmafuzz";
    for (const CLI::App* sub : failed->get_subcommands()) cmd += " " + sub->get_name();
    return fmt::format("{}: error: {}\nRun '{} --help' for usage.\n", cmd, e.what(), cmd);
  });
  app.footer([&app] {
    return environment_text(app) + exit_codes_text("") + "\n`vmafuzz COMMAND --help` describes a command.";
  });

  std::vector<std::pair<CLI::App*, CommandAction>> commands;
  for (const CommandInfo& c : kCommands) {
    CLI::App* cmd = app.add_subcommand(std::string(c.name), std::string(c.summary));
    CommandAction action = c.setup(*cmd);
    std::string footer = exit_codes_text(c.name);
    if (!cmd->get_footer().empty()) footer = cmd->get_footer() + "\n\n" + footer;
    cmd->footer(footer);
    commands.emplace_back(cmd, std::move(action));
  }

  // An unknown command would read as "a subcommand is required".
  const auto is_command = [&args](const CommandInfo& c) { return c.name == args[0]; };
  if (!args.empty() && !args[0].starts_with("-") && std::none_of(kCommands.begin(), kCommands.end(), is_command)) {
    std::string names;
    for (const CommandInfo& c : kCommands) names += (names.empty() ? "" : ", ") + std::string(c.name);
    err << fmt::format("vmafuzz: error: unknown command '{}' (commands: {})\nRun 'vmafuzz --help' for usage.\n",
                       args[0], names);
    return kExitUsage;
  }
  // CLI11 parses a vector given in reverse order.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    if (args.empty()) {
      // No command at all: the overview, as a usage error.
      err << app.help();
      return kExitUsage;
    }
    const int code = app.exit(e, out, err);
    return code == static_cast<int>(CLI::ExitCodes::Success) ? kExitOk : kExitUsage;
  }
  Io io{out, err};
  for (auto& [cmd, action] : commands) {
    if (cmd->parsed()) return action(io);
  }
  err << app.help();
  return kExitUsage;
}

}  // namespace vmafuzz::repro
