// cmd_convert.cpp - `vmafuzz convert IN OUT`: .sched text <-> binary.
//
// The output is always canonical (docs/FORMATS.md, section 3): text as
// print_sched() writes it, bytes as encode_scenario() writes the canonical
// form. So sched -> bin -> sched gives the same text back (header comment and
// expect lines aside: they have no binary form), and converting a file to its
// own format canonicalises it.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>
#include <ostream>
#include <string>
#include <variant>

#include "fuzz/scenario_codec.h"
#include "fuzz/sched_text.h"
#include "repro/cli.h"
#include "repro/scenario_io.h"

namespace vmafuzz::repro {
namespace {

struct ConvertArgs {
  std::string in;
  std::string out;
  std::string from;  // "", "sched" or "bin"
  std::string to;
};

// The first offset where `a` and `b` differ (the shorter length if one is a
// prefix of the other), or nullopt if equal.
std::optional<size_t> first_difference(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return i;
  }
  if (a.size() != b.size()) return n;
  return std::nullopt;
}

int convert(const ConvertArgs& args, Io& io) {
  const Format in_format = input_format(args.in, args.from);
  const Format out_format = output_format(args.out, args.to);
  auto read = read_input(args.in, in_format);
  if (const auto* e = std::get_if<InputError>(&read)) {
    io.err << e->text << "\n";
    return kExitUsage;
  }
  const Input& input = std::get<Input>(read);
  if (in_format == Format::kBin && looks_like_sched_text(input.bytes)) {
    io.err << fmt::format(
        "{}: warning: this looks like .sched text but is read as binary (the name does not end in .sched); "
        "use --from sched\n",
        args.in);
  }

  // What the output holds: the canonical form of the input's scenario.
  fuzz::SchedFile file = input.file;
  file.scenario = fuzz::canonical_form(file.scenario);
  const std::vector<uint8_t> canonical_bytes = fuzz::encode_scenario(file.scenario);
  if (in_format == Format::kBin) {
    if (const std::optional<size_t> at = first_difference(input.bytes, canonical_bytes)) {
      io.err << fmt::format(
          "{}: note: not in canonical form: its canonical encoding ({} bytes) differs from these {} bytes from "
          "offset {}; {} holds the canonical form, which runs identically\n",
          args.in, canonical_bytes.size(), input.bytes.size(), *at, args.out == "-" ? "the output" : args.out);
    }
  }

  std::string data;
  if (out_format == Format::kSched) {
    data = fuzz::print_sched(file);
  } else {
    data.assign(canonical_bytes.begin(), canonical_bytes.end());
  }
  if (const std::optional<InputError> e = write_output(args.out, data, io.out)) {
    io.err << e->text << "\n";
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace

CommandAction setup_convert(CLI::App& cmd) {
  auto args = std::make_shared<ConvertArgs>();
  cmd.add_option("IN", args->in, "input scenario file (.sched text or binary)")->required()->type_name("");
  cmd.add_option("OUT", args->out, "output file, '-' for standard output")->required()->type_name("");
  add_flag(cmd, Flag::kFrom, &args->from)->check(CLI::IsMember({"sched", "bin"}));
  add_flag(cmd, Flag::kTo, &args->to)->check(CLI::IsMember({"sched", "bin"}));
  cmd.footer(
      "Converts between the .sched text form and the binary form of a scenario\n"
      "(docs/FORMATS.md). The output is canonical: text as print_sched writes it,\n"
      "bytes as the encoder writes the canonical form, so converting a file to\n"
      "its own format canonicalises it, and sched -> bin -> sched gives the text\n"
      "back. The header comment and expect lines of a .sched file have no binary\n"
      "form. Every byte string is a scenario, so binary input never fails to\n"
      "decode, unless it is marked with a format version this build does not\n"
      "read (newer ones); when it is not canonical a note on standard error\n"
      "gives the first byte offset at which its canonical form differs. Binary\n"
      "output is in the lowest format version that has the scenario's\n"
      "operations, so an older file is rewritten in a form this build reads.\n"
      "Errors name the file, and for .sched text the line and column, for a\n"
      "binary file's version the byte offset.");
  return [args](Io& io) { return convert(*args, io); };
}

}  // namespace vmafuzz::repro
