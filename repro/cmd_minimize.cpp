// cmd_minimize.cpp - `vmafuzz minimize FILE -o OUT`: schedule-aware delta
// debugging of a finding (repro/minimize.h has the key and the algorithm).
//
// Reads FILE as `vmafuzz run` does, checks that it fails, minimizes it while
// its minimization key holds, and writes the result (binary, or .sched text
// with a header comment when OUT ends in .sched or --to sched) atomically:
// a temporary file in OUT's directory renamed over OUT. It never writes its
// input: OUT naming the same file as FILE, by any spelling, is refused.
// With --versions A,B the finding is a divergence between two versions of
// the lock code (fuzz_nfc's, replayed by `vmafuzz diff FILE --versions A,B`).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <variant>

#include "fuzz/execution.h"
#include "fuzz/nfc.h"
#include "fuzz/scenario_codec.h"
#include "fuzz/sched_text.h"
#include "fuzz/strategy_registry.h"
#include "repro/cli.h"
#include "repro/minimize.h"
#include "repro/sidecar.h"
#include "repro/scenario_io.h"

namespace vmafuzz::repro {
namespace {

namespace fs = std::filesystem;

struct MinimizeArgs {
  std::string in;
  std::string out;
  std::string from;
  std::string to;
  std::string key = "site";
  std::string versions;  // "A,B": minimize a divergence
  InjectArgs inject;
  uint64_t max_steps = fuzz::kDefaultMaxSteps;
  const CLI::Option* max_steps_option = nullptr;  // given? (else the sidecar's)
  double time = 10;
  uint64_t runs = 0;
  bool fork = false;
  bool quiet = false;
};

std::string size_row(std::string_view label, const ScenarioSize& s) {
  return fmt::format("  {:<7} {:>5} {:>5} {:>11} {:>6}   ({})\n", label, s.tasks, s.ops, s.preemptions, s.bytes,
                     fuzz::strategy_name(s.strategy));
}

std::string sizes_text(const ScenarioSize& s) {
  std::string weak;
  if (s.memory_model == fuzz::MemoryModel::kC11) {
    weak = fmt::format(", c11: {} stale reads, {} nonzero read choices", s.stale_reads, s.read_choices);
  }
  return fmt::format("{} tasks, {} ops, {} preemptions, {} bytes ({}{})", s.tasks, s.ops, s.preemptions, s.bytes,
                     fuzz::strategy_name(s.strategy), weak);
}

// What the result says about weak memory, or "" for an SC input.
std::string weak_memory_text(const MinimizeResult& r) {
  if (r.before.memory_model != fuzz::MemoryModel::kC11) return "";
  if (r.became_sc) {
    return fmt::format("the finding holds under SC: not a weak-memory bug (memory model c11 and its {} stale reads "
                       "dropped)",
                       r.before.stale_reads);
  }
  return fmt::format("weak memory: {} stale reads before, {} after (read choices: {} nonzero before, {} after)",
                     r.before.stale_reads, r.after.stale_reads, r.before.read_choices, r.after.read_choices);
}

// The command line that made the output, for its header comment.
std::string command_line(const MinimizeArgs& a) {
  std::string cmd = "vmafuzz minimize";
  for (const std::string& bug : a.inject.names()) cmd += " --inject " + shell_quote(bug);
  if (a.max_steps != fuzz::kDefaultMaxSteps) cmd += fmt::format(" --max-steps {}", a.max_steps);
  if (a.key != "site") cmd += " --key " + a.key;
  if (!a.versions.empty()) cmd += " --versions " + shell_quote(a.versions);
  return cmd + " " + shell_quote(a.in) + " -o " + shell_quote(a.out);
}

int minimize_cmd(const MinimizeArgs& args, Io& io) {
  std::optional<std::pair<core::LockVersion, core::LockVersion>> versions;
  if (!args.versions.empty()) {
    std::string error;
    versions = fuzz::parse_version_pair(args.versions, &error);
    if (!versions) {
      io.err << fmt::format("vmafuzz minimize: error: --versions: {}\n", printable(error));
      return kExitUsage;
    }
  }
  const Format in_format = input_format(args.in, args.from);
  const Format out_format = output_format(args.out, args.to);
  {
    std::error_code ec;
    if (args.out != "-" && fs::exists(args.out, ec) && fs::equivalent(args.in, args.out, ec)) {
      io.err << fmt::format("vmafuzz minimize: error: -o {} is the input file; minimize never overwrites its input\n",
                            args.out);
      return kExitUsage;
    }
  }
  auto read = read_input(args.in, in_format);
  if (const auto* e = std::get_if<InputError>(&read)) {
    io.err << e->text << "\n";
    return kExitUsage;
  }
  const Input& input = std::get<Input>(read);

  // The bugs and step bound: the command line's, else the input's sidecar
  // (FILE.json, docs/FORMATS.md section 4), as `vmafuzz run` takes them.
  const std::optional<ReplaySettings> settings =
      replay_settings(args.inject, args.max_steps_option, args.max_steps, args.in, io);
  if (!settings) return kExitUsage;
  if (settings->inject_from_sidecar) io.err << "minimize: " << sidecar_note(*settings, false) << "\n";
  MinimizeOptions options;
  options.run.max_steps = settings->max_steps;
  options.run.inject = settings->bugs;
  options.key = args.key == "signature" ? MinimizeKey::kSignature : MinimizeKey::kSite;
  options.time_limit = args.time;
  options.max_runs = args.runs;
  options.fork_each = args.fork || minimize_forks_by_default();
  options.versions = versions;

  const MinimizeResult r = minimize(input.file.scenario, options);
  if (r.key.empty() && versions) {
    io.err << fmt::format(
        "{}: error: the input does not diverge between {} and {} (no nfc.divergence, as `vmafuzz diff --versions "
        "{}` shows); nothing to minimize\n",
        args.in, core::lock_version_info(versions->first).name, core::lock_version_info(versions->second).name,
        args.versions);
    return kExitUsage;
  }
  if (r.key.empty()) {
    io.err << fmt::format(
        "{}: error: the input passes (no finding{}); nothing to minimize. A finding of an injected bug needs "
        "its --inject (as `vmafuzz run` would replay it)\n",
        args.in, settings->inject.empty() ? " on the correct model" : " with these --inject bugs");
    return kExitUsage;
  }
  if (r.key.starts_with("error:") || r.key.starts_with("child died")) {
    io.err << fmt::format("{}: error: cannot run the input: {}\n", args.in, r.key);
    return kExitUsage;
  }
  ScenarioSize before = r.before;
  if (in_format == Format::kBin) before.bytes = input.bytes.size();  // the file as given

  std::string data;
  if (out_format == Format::kSched) {
    fuzz::SchedFile file;
    file.scenario = r.scenario;
    std::string& pre = file.preamble;
    pre += fmt::format("# Minimized by `{}`.\n", command_line(args));
    pre += fmt::format("# key ({}): {}\n", args.key, r.key);
    if (r.finding) {
      pre += fmt::format("# finding: {} ({})\n", fuzz::oracle_info(r.finding->oracle).name,
                         r.finding->detail.empty() ? "no detail" : r.finding->detail);
      pre += fmt::format("# signature: {}\n", r.finding->signature());
    }
    pre += fmt::format("# before: {}\n", sizes_text(before));
    pre += fmt::format("# after:  {}\n", sizes_text(r.after));
    pre += fmt::format("# {} runs, {:.2f}s{}\n", r.runs, r.seconds,
                       r.fixpoint ? "" : " (stopped by --time/--runs before a fixpoint)");
    if (const std::string weak = weak_memory_text(r); !weak.empty()) pre += "# " + weak + "\n";
    if (versions) pre += fmt::format("# replay: vmafuzz diff FILE --versions {}\n", args.versions);
    data = fuzz::print_sched(file);
    // Expectations that replay the finding (a TSan report has no expect line).
    // (None for a divergence: `vmafuzz run` runs one version.)
    const std::vector<std::string>& bugs = settings->inject;
    if (r.finding && bugs.size() <= 1 && !versions) {
      const std::string with = bugs.empty() ? "" : "with " + bugs[0] + " ";
      data += fmt::format("expect {}verdict {}\n", with, fuzz::verdict_name(fuzz::verdict_of(r.finding->oracle)));
      data += fmt::format("expect {}finding {}\n", with, fuzz::oracle_info(r.finding->oracle).name);
      data += fmt::format("expect {}signature {}\n", with, r.finding->signature());
    }
    // Only if it parses back (a detail could hold a '#').
    if (std::holds_alternative<fuzz::SchedError>(fuzz::parse_sched(data, args.out))) data = fuzz::print_sched(file);
  } else if (in_format == Format::kBin && r.after.tasks == before.tasks && r.after.ops == before.ops &&
             r.after.preemptions >= before.preemptions && r.after.bytes >= input.bytes.size() &&
             r.after.memory_model == before.memory_model && r.after.read_choices >= before.read_choices) {
    // Nothing smaller found: the input as it was (its canonical encoding may
    // be longer, e.g. for a truncated input that reads as zeros).
    data.assign(input.bytes.begin(), input.bytes.end());
  } else {
    const std::vector<uint8_t> bytes = fuzz::encode_scenario(r.scenario);
    data.assign(bytes.begin(), bytes.end());
  }
  if (args.out == "-") {
    if (const std::optional<InputError> e = write_output("-", data, io.out)) {
      io.err << e->text << "\n";
      return kExitUsage;
    }
  } else if (const std::optional<InputError> e = write_atomically(args.out, data, io.out)) {
    io.err << e->text << "\n";
    return kExitUsage;
  } else if (!settings->inject.empty() || settings->max_steps != fuzz::kDefaultMaxSteps) {
    // The result says which model finds it, as its input did.
    Sidecar side;
    side.inject = settings->inject;
    side.max_steps = settings->max_steps;
    side.found_by = "vmafuzz minimize of " + args.in +
                    (settings->sidecar && !settings->sidecar->found_by.empty() ? " (" + settings->sidecar->found_by + ")"
                                                                                : std::string());
    if (r.finding) side.signature = r.finding->signature();
    if (const std::optional<InputError> e = write_sidecar(args.out, side)) {
      io.err << e->text << "\n";
      return kExitUsage;
    }
  }

  std::ostream& report = args.out == "-" ? io.err : io.out;
  if (!args.quiet) {
    report << fmt::format("minimize: key {}\n", r.key);
    report << fmt::format("  {:<7} {:>5} {:>5} {:>11} {:>6}\n", "", "tasks", "ops", "preemptions", "bytes");
    ScenarioSize after = r.after;
    if (out_format == Format::kBin) after.bytes = data.size();
    report << size_row("before", before) << size_row("after", after);
    if (r.converted) {
      report << fmt::format("minimize: the {} schedule became switch-list ({})\n",
                            fuzz::strategy_name(before.strategy),
                            r.same_interleaving ? "the same interleaving" : "a different interleaving, same key");
    }
    if (const std::string weak = weak_memory_text(r); !weak.empty()) report << "minimize: " << weak << "\n";
    report << fmt::format("minimize: {} runs, {:.2f}s, {}; wrote {}\n", r.runs, r.seconds,
                          r.fixpoint ? "fixpoint reached" : "stopped by the --time/--runs budget", args.out);
  }
  return kExitOk;
}

}  // namespace

CommandAction setup_minimize(CLI::App& cmd) {
  auto args = std::make_shared<MinimizeArgs>();
  cmd.add_option("FILE", args->in, "the finding to minimize (binary, or .sched text)")->required();
  cmd.add_option("-o,--output", args->out, "where the result goes ('-': .sched text on stdout); never FILE")
      ->required()
      ->type_name("OUT");
  add_flag(cmd, Flag::kFrom, &args->from)->check(CLI::IsMember({"sched", "bin"}));
  add_flag(cmd, Flag::kTo, &args->to)->check(CLI::IsMember({"sched", "bin"}));
  add_flag(cmd, Flag::kInject, &args->inject);
  args->max_steps_option = add_flag(cmd, Flag::kMaxSteps, &args->max_steps);
  cmd.add_option("--key", args->key,
                 "what must stay the same: 'site' (oracle|detail: the oracle and where it fired) or 'signature' "
                 "(oracle|detail|operation|others, as triage deduplicates)")
      ->capture_default_str()
      ->check(CLI::IsMember({"site", "signature"}));
  cmd.add_option("--versions", args->versions,
                 "minimize a divergence between two versions of the lock code, A,B (core/lock_versions.inc), as "
                 "fuzz_nfc and `vmafuzz diff --versions A,B` find it: the key is then the divergence's")
      ->type_name("A,B");
  cmd.add_option("--time", args->time, "stop searching after this many seconds (0: no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--runs", args->runs, "stop searching after this many runs (0: only --time limits)")
      ->capture_default_str();
  cmd.add_flag("--fork", args->fork,
               "run each candidate in a forked child (always on in a ThreadSanitizer build, where a report ends "
               "the process; the key is then the racing functions)");
  cmd.add_flag("-q,--quiet", args->quiet, "print nothing but errors");
  cmd.footer(
      "Shrinks a finding while its minimization key holds. The key is, by default,\n"
      "the finding's oracle and detail (oracle|detail: the report site, wait site or\n"
      "what the oracle saw), not the operations in flight (--key signature keeps those\n"
      "too); under ThreadSanitizer, the data race's two functions. Steps, repeated to\n"
      "a fixpoint within --time/--runs: a random or PCT schedule becomes the\n"
      "switch-list of the decisions it took; drop tasks; unmap initial VMAs; drop\n"
      "operations (keeping programs legal); drop, shorten and shift choice pairs\n"
      "(switches, wakes, kills); for a C11 (weak-memory) finding, try it under SC,\n"
      "else set stale reads to the latest store and lower the others. Deterministic\n"
      "unless --time ends it. Prints tasks, operations, preemptions and bytes before\n"
      "and after (and a C11 run's stale reads). A .sched OUT gets a header\n"
      "comment (key, finding, sizes, this command) and expect lines that replay it.\n"
      "An input that passes is a usage error (exit 2).\n"
      "\n"
      "--versions A,B minimizes a divergence (fuzz_nfc's crash files): each candidate\n"
      "runs on both versions under one schedule and must diverge with the same key\n"
      "(site: nfc.divergence|the first differing event of each version); an input\n"
      "that does not diverge is a usage error (exit 2). The result replays with\n"
      "`vmafuzz diff OUT --versions A,B`.");
  return [args](Io& io) { return minimize_cmd(*args, io); };
}

}  // namespace vmafuzz::repro
