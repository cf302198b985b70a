// inject_option.h - the --inject option, for every program whose command line
// is CLI11's: `vmafuzz run` and `vmafuzz hunt` (through cli.h's add_flag, with
// the name, help and VMAFUZZ_INJECT from flags.inc) and stress/native_hammer.
// Header-only and kept in core/ beside the bug catalog it names, so stress/
// (which uses core only) shares it; an includer needs CLI11, core links none.
//
// --inject NAME is repeatable, and NAME[,NAME...] names several (as
// VMAFUZZ_INJECT does); empty names ("a,,b", a trailing comma) name no bug.
// Every name is checked while the command line is parsed, by
// core::bugs_from_lists (the one parser of bug names; the fuzz target's
// VMAFUZZ_INJECT uses it too): an unknown one is a parse error.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/inject.h"

namespace vmafuzz {

struct InjectArgs {
  std::vector<std::string> values;  // as parsed: split at commas, empty names kept

  // The names given, empty ones dropped, in order.
  std::vector<std::string> names() const {
    std::vector<std::string> n;
    for (const std::string& v : values) {
      if (!v.empty()) n.push_back(v);
    }
    return n;
  }
  // The bugs they name. Every name is known once parsing succeeded.
  core::BugSet bugs() const {
    std::string unknown;
    return core::bugs_from_lists(values, &unknown).value_or(core::BugSet{});
  }
};

struct InjectOptionText {
  std::string help;
  std::string value = "NAME";  // the placeholder --help shows
  std::string env;             // an environment variable read when --inject is not given, or ""
  std::string unknown_hint;    // follows "unknown bug 'X'" in the parse error
};

inline CLI::Option* add_inject_option(CLI::App& app, InjectArgs& args, const InjectOptionText& text) {
  // CLI11 (2.1) reads the environment variable of every subcommand, also of
  // those not on the command line, and validates what it read: only the
  // subcommand that runs may fail on it.
  const CLI::Validator known_bug(
      [hint = text.unknown_hint, &app](std::string& name) -> std::string {
        if (!app.parsed()) return "";
        std::string unknown;
        if (core::bugs_from_lists({name}, &unknown)) return "";
        return "unknown bug '" + unknown + "'" + hint;
      },
      "");
  CLI::Option* opt = app.add_option("--inject", args.values, text.help)
                         ->type_name(text.value)
                         // Repeatable, one value each time (so positionals that
                         // follow are not taken as values).
                         ->delimiter(',')
                         ->expected(1)
                         ->allow_extra_args(false)
                         ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
                         ->check(known_bug);
  if (!text.env.empty()) opt->envname(text.env);
  return opt;
}

}  // namespace vmafuzz
