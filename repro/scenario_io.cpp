// scenario_io.cpp - scenario files in and out.
#include "repro/scenario_io.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>

#include "fuzz/scenario_codec.h"

namespace vmafuzz::repro {

std::string_view format_name(Format f) { return f == Format::kSched ? "sched" : "bin"; }

std::optional<Format> format_from_name(std::string_view name) {
  if (name == "sched") return Format::kSched;
  if (name == "bin") return Format::kBin;
  return std::nullopt;
}

Format format_of_path(std::string_view path) {
  constexpr std::string_view kExt = ".sched";
  const size_t slash = path.find_last_of('/');
  const std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return base.size() > kExt.size() && base.substr(base.size() - kExt.size()) == kExt ? Format::kSched : Format::kBin;
}

std::variant<Input, InputError> read_input(const std::string& path, Format format) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return InputError{fmt::format("{}: error: is a directory", path)};
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) return InputError{fmt::format("{}: error: cannot read: {}", path, errno ? std::strerror(errno) : "open failed")};
  Input input;
  input.path = path;
  input.format = format;
  input.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) return InputError{fmt::format("{}: error: read failed", path)};
  if (format == Format::kBin) {
    // An empty vector's data() may be null, which the decoder's
    // FuzzedDataProvider must not be given (memcpy from null is undefined).
    static const uint8_t kNone = 0;
    const uint8_t* data = input.bytes.empty() ? &kNone : input.bytes.data();
    // The decoder would read a version it does not know as version 1: refuse.
    if (const std::optional<fuzz::FormatVersionError> e = fuzz::check_format_version(data, input.bytes.size())) {
      return InputError{fmt::format(
          "{}: error: byte {}: binary format version {}, which this build does not read (it reads {}); the header's "
          "bit 7 and a checked version byte mark the version (docs/FORMATS.md)",
          path, e->offset, e->version,
          fuzz::kFormatVersion == 1 ? std::string("version 1") : fmt::format("versions 1 to {}", fuzz::kFormatVersion))};
    }
    input.file.scenario = fuzz::decode_scenario(data, input.bytes.size());
    return input;
  }
  const std::string_view text(reinterpret_cast<const char*>(input.bytes.data()), input.bytes.size());
  auto parsed = fuzz::parse_sched(text, path);
  if (const auto* err = std::get_if<fuzz::SchedError>(&parsed)) {
    return InputError{fmt::format("{}:{}:{}: error: {}", err->file, err->line, err->column, err->message)};
  }
  input.file = std::get<fuzz::SchedFile>(std::move(parsed));
  return input;
}

bool looks_like_sched_text(const std::vector<uint8_t>& bytes) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const size_t magic = text.find(fuzz::kSchedMagic);
  if (magic == std::string_view::npos) return false;
  // The magic starts a line, and everything before it is printable text.
  if (magic > 0 && text[magic - 1] != '\n') return false;
  for (size_t i = 0; i < magic; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') return false;
  }
  return true;
}

std::optional<InputError> write_output(const std::string& path, std::string_view data, std::ostream& stdout_stream) {
  if (path == "-") {
    stdout_stream.write(data.data(), static_cast<std::streamsize>(data.size()));
    stdout_stream.flush();
    if (!stdout_stream) return InputError{"-: error: cannot write to standard output"};
    return std::nullopt;
  }
  errno = 0;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return InputError{fmt::format("{}: error: cannot write: {}", path, errno ? std::strerror(errno) : "open failed")};
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return InputError{fmt::format("{}: error: write failed", path)};
  return std::nullopt;
}

std::string shell_quote(std::string_view s) {
  const bool plain = !s.empty() && s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                       "0123456789_-./=:,+@%") == std::string_view::npos;
  if (plain) return std::string(s);
  std::string q = "'";
  for (const char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

}  // namespace vmafuzz::repro
