// scenario_io.h - reading and writing scenario files for the subcommands.
//
// A scenario file is either .sched text (fuzz/sched_text.h) or the binary form
// the fuzzer mutates (fuzz/scenario_codec.h). Which one is decided by the
// extension (.sched is text, anything else binary: libFuzzer's crash files
// have none) unless the user says otherwise (--from / --to).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fuzz/sched_text.h"

namespace vmafuzz::repro {

enum class Format { kSched, kBin };

std::string_view format_name(Format f);  // "sched", "bin"
std::optional<Format> format_from_name(std::string_view name);
// By extension: ".sched" is text, anything else binary.
Format format_of_path(std::string_view path);

// An input that was read and, if text, parsed.
struct Input {
  std::string path;
  Format format = Format::kBin;
  std::vector<uint8_t> bytes;  // the file as read
  // The scenario; for text also its preamble and expect lines. A binary
  // input decodes to a scenario with neither (decoding never fails).
  fuzz::SchedFile file;
};

// An error that names where it is: "path:line:column: error: message" for
// .sched parse errors, "path: error: message" otherwise.
struct InputError {
  std::string text;
};

// Read `path` as `format`. Errors: the file cannot be read, .sched text does
// not parse (the error carries line and column), or binary input is marked
// with a format version this build does not read (the error carries the byte
// offset; fuzz::check_format_version()).
std::variant<Input, InputError> read_input(const std::string& path, Format format);

// Does binary input look like .sched text (a likely wrong extension)?
bool looks_like_sched_text(const std::vector<uint8_t>& bytes);

// Write `data` to `path`, or to `stdout_stream` when `path` is "-". On
// failure returns the error.
std::optional<InputError> write_output(const std::string& path, std::string_view data, std::ostream& stdout_stream);

// `s` quoted for a POSIX shell when it needs quoting ("a b" -> 'a b').
std::string shell_quote(std::string_view s);

}  // namespace vmafuzz::repro
