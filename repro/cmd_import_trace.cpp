// cmd_import_trace.cpp - `vmafuzz import-trace TRACE... -o DIR`: traces -> seeds.
//
// Each input is a recorded trace (`vmafuzz record`, docs/FORMATS.md section
// 5) or kernel ftrace text of the mmap_lock tracepoints (section 6),
// recognised by content (--format forces one). A recorded trace becomes one
// scenario; ftrace text one per window. Each scenario's switch-list schedule
// is what the guide (fuzz/trace_replay.h) made of the trace's order; every
// output is checked to decode to itself and to pass on the correct model
// before it is written, as DIR/STEM.bin or DIR/STEM-wN.bin (and .sched
// beside it with --sched).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

#include "fuzz/execution.h"
#include "fuzz/ftrace_import.h"
#include "fuzz/recorded_trace.h"
#include "fuzz/scenario_codec.h"
#include "fuzz/sched_text.h"
#include "fuzz/trace_replay.h"
#include "repro/cli.h"

namespace vmafuzz::repro {
namespace {

struct ImportArgs {
  std::vector<std::string> traces;
  std::string out;
  std::string format = "auto";
  bool sched = false;
  bool quiet = false;
};

std::string match_text(const fuzz::ReplayMatch& m, bool accesses) {
  std::string s = fmt::format("{}/{} marks consumed, {} dropped, {} out of order", m.consumed, m.marks, m.dropped,
                              m.out_of_order);
  if (accesses) s += fmt::format(", {} replayed accesses ({} extra)", m.accesses, m.extra);
  return s + (m.exact() ? ": exact" : "");
}

// Write one imported scenario after checking it; false on an I/O error.
bool write_seed(const ImportArgs& args, const std::string& stem, const fuzz::Scenario& sc, const std::string& header,
                Io& io, fuzz::Execution& exec) {
  const std::vector<uint8_t> bytes = fuzz::encode_scenario(sc);
  const fuzz::Scenario back = fuzz::decode_scenario(bytes.data(), bytes.size());
  if (!(back == sc) || exec.run(back).verdict != fuzz::Verdict::kPass) {
    io.err << fmt::format("vmafuzz import-trace: internal error: {} does not decode to a passing scenario\n", stem);
    return false;
  }
  const std::filesystem::path base = std::filesystem::path(args.out) / stem;
  std::ofstream f(base.string() + ".bin", std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!f) {
    io.err << fmt::format("vmafuzz import-trace: error: cannot write {}.bin\n", base.string());
    return false;
  }
  if (args.sched) {
    fuzz::SchedFile file;
    file.preamble = header;
    file.scenario = sc;
    std::ofstream t(base.string() + ".sched", std::ios::binary);
    t << fuzz::print_sched(file);
    if (!t) return false;
  }
  return true;
}

int import_traces(const ImportArgs& args, Io& io) {
  std::error_code ec;
  std::filesystem::create_directories(args.out, ec);
  if (ec) {
    io.err << fmt::format("vmafuzz import-trace: error: cannot create {}: {}\n", args.out, ec.message());
    return kExitUsage;
  }
  fuzz::Execution exec;
  int status = kExitOk;
  int written = 0;
  for (const std::string& path : args.traces) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      io.err << fmt::format("{}: error: cannot read the file\n", path);
      status = kExitUsage;
      continue;
    }
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string stem = std::filesystem::path(path).stem().string();
    const bool recorded = args.format == "recorded" || (args.format == "auto" && fuzz::looks_like_recorded_trace(text));
    if (!recorded && args.format == "auto" && !fuzz::looks_like_ftrace(text)) {
      io.err << fmt::format("{}: error: neither a recorded trace (vmafuzz-trace 1) nor ftrace text of the mmap_lock "
                            "tracepoints; use --format to force one\n",
                            path);
      status = kExitUsage;
      continue;
    }
    if (recorded) {
      auto parsed = fuzz::parse_recorded_trace(text, path);
      if (auto* e = std::get_if<fuzz::SchedError>(&parsed)) {
        io.err << e->to_string() << "\n";
        status = kExitUsage;
        continue;
      }
      const fuzz::RecordedTrace& tr = std::get<fuzz::RecordedTrace>(parsed);
      const fuzz::ImportedSchedule imp = fuzz::import_schedule(tr.setup, fuzz::recorded_marks(tr), exec);
      if (!imp.passes) {
        io.err << fmt::format("{}: warning: the recorded programs do not pass on the model even unscheduled; "
                              "nothing written\n",
                              path);
        continue;
      }
      const std::string summary = fmt::format(
          "{}: recorded trace, {} tasks, {} events, {} preemptions, {} parks; {}{}", path, tr.setup.tasks.size(),
          tr.events.size(), imp.preemptions, imp.parks, match_text(imp.match, true),
          imp.fallback ? "; schedule dropped: " + imp.note : "");
      if (!write_seed(args, stem, imp.scenario, "# imported from " + path + "\n", io, exec)) status = kExitUsage;
      else ++written;
      io.out << summary << "\n";
      continue;
    }
    const fuzz::FtraceParse parse = fuzz::parse_ftrace(text, path);
    for (const std::string& w : parse.warnings) {
      // "file:line: message" -> "file:line: warning: message"
      const size_t at = w.find(": ", path.size());
      io.err << (at == std::string::npos ? w : w.substr(0, at + 2) + "warning: " + w.substr(at + 2)) << "\n";
    }
    const fuzz::FtraceImport imp = fuzz::build_ftrace_windows(parse);
    const fuzz::FtraceCounts& c = parse.counts;
    int adjusted = 0;
    for (const auto& [rule, n] : imp.adjusted) adjusted += n;
    io.out << fmt::format(
        "{}: ftrace ({} clock), {} lines: {} mmap_lock/fault events, {} used, {} dropped; skipped {} other events, "
        "{} function-tracer lines, {} comment/header lines, {} malformed; {} lines out of timestamp order; "
        "{} tasks; {} adjustments; {} windows\n",
        path, parse.counter_clock ? "counter" : "global", c.lines, c.events, imp.events_used, imp.events_dropped,
        c.other_events, c.function_lines, c.comments, c.malformed, c.out_of_order, imp.tasks, adjusted,
        imp.windows.size());
    if (!args.quiet) {
      for (const auto& [rule, n] : imp.adjusted) io.out << fmt::format("  adjusted {}x: {}\n", n, rule);
      for (const auto& [ev, n] : c.skipped_by_event) io.out << fmt::format("  skipped {}x: {}\n", n, ev);
      for (const std::string& note : imp.notes) io.out << "  " << note << "\n";
    }
    if (imp.single_task_windows) {
      io.out << fmt::format("  {} window(s) with a single task not written (no interleaving)\n",
                            imp.single_task_windows);
    }
    for (size_t w = 0; w < imp.windows.size(); ++w) {
      const fuzz::FtraceWindow& win = imp.windows[w];
      const fuzz::ImportedSchedule s = fuzz::import_schedule(win.setup, win.marks, exec);
      if (!s.passes) {
        io.err << fmt::format("{}: warning: window {} does not pass on the model even unscheduled; skipped\n", path, w);
        continue;
      }
      std::string header = fmt::format("# imported from {}, window {}: lines {}-{}\n", path, w, win.first_line,
                                       win.last_line);
      for (size_t t = 0; t < win.tasks.size(); ++t) header += fmt::format("#   T{}: {}\n", t, win.tasks[t]);
      const std::string name = fmt::format("{}-w{}", stem, w);
      if (!write_seed(args, name, s.scenario, header, io, exec)) status = kExitUsage;
      else ++written;
      if (!args.quiet) {
        io.out << fmt::format("  window {} (lines {}-{}): {} tasks, {} operations, {} preemptions; {}{}\n", w,
                              win.first_line, win.last_line, win.setup.tasks.size(), win.events_used, s.preemptions,
                              match_text(s.match, false), s.fallback ? "; schedule dropped: " + s.note : "");
      }
    }
  }
  io.out << fmt::format("import-trace: {} scenario(s) written to {}\n", written, args.out);
  return status;
}

}  // namespace

CommandAction setup_import_trace(CLI::App& cmd) {
  auto args = std::make_shared<ImportArgs>();
  cmd.add_option("traces", args->traces, "recorded traces or ftrace text files")->required()->type_name("TRACE");
  cmd.add_option("-o,--out", args->out, "directory the scenarios are written to")->required()->type_name("DIR");
  cmd.add_option("--format", args->format, "the input format (auto: recognised by content)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "recorded", "ftrace"}));
  cmd.add_flag("--sched", args->sched, "also write each scenario as .sched text");
  cmd.add_flag("-q,--quiet", args->quiet, "only one summary line per trace");
  cmd.footer(
      "Recorded traces (vmafuzz record) become one scenario each; ftrace text of\n"
      "the mmap_lock tracepoints one per window of at most 4 tasks, 2 mms and 8\n"
      "operations per task (docs/FORMATS.md, sections 5 and 6). Each scenario's\n"
      "switch-list schedule follows the trace's order; each is checked to pass\n"
      "on the correct model before it is written. Warnings (file:line) go to\n"
      "stderr; a malformed line is skipped, never fatal.");
  return [args](Io& io) { return import_traces(*args, io); };
}

}  // namespace vmafuzz::repro
