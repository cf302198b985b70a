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
// An input's format: `from` (a --from value, already validated) if given, else by extension.
Format input_format(std::string_view path, std::string_view from);
// An output's format: `to` (a --to value) if given, text for "-" (stdout), else by extension.
Format output_format(std::string_view path, std::string_view to);

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

// The bytes of `path`, read with POSIX calls (no stream exceptions): a
// directory, a file that cannot be opened and a read error (EIO, /proc/self/mem)
// are errors naming the file.
std::variant<std::vector<uint8_t>, InputError> read_file_bytes(const std::string& path);

// `s` safe to print in a message: bytes that are not printable ASCII (control
// bytes, DEL, anything >= 0x80) as \xNN (\n, \t, \r as such), cut after
// `max` bytes of input with "...". Every message that echoes input (a path,
// a .sched token, a sidecar's text) goes through it.
std::string printable(std::string_view s, size_t max = 200);

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

// Write `data` to `path` atomically: a temporary file in the same directory
// renamed over `path` (a device or a pipe is written in place; "-": stdout).
std::optional<InputError> write_atomically(const std::string& path, std::string_view data, std::ostream& stdout_stream);

// Can `path` be written (before a long computation whose result goes there)?
// Its directory must exist and be writable, and `path` must not be a
// directory or an existing file that cannot be written. "-" always can.
std::optional<InputError> check_writable(const std::string& path);

// `bytes` as lowercase hex, 32 bytes per line (what `xxd -r -p` reads back).
std::string hex_lines(const std::vector<uint8_t>& bytes);

// `s` quoted for a POSIX shell when it needs quoting ("a b" -> 'a b').
std::string shell_quote(std::string_view s);

}  // namespace vmafuzz::repro
