// scenario_io.cpp - scenario files in and out.
#include "repro/scenario_io.h"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>

#include "fuzz/read_file.h"
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

Format input_format(std::string_view path, std::string_view from) {
  return from.empty() ? format_of_path(path) : *format_from_name(from);
}

Format output_format(std::string_view path, std::string_view to) {
  if (!to.empty()) return *format_from_name(to);
  return path == "-" ? Format::kSched : format_of_path(path);
}

std::variant<std::vector<uint8_t>, InputError> read_file_bytes(const std::string& path) {
  const auto error = [&path](std::string_view what) {
    return InputError{fmt::format("{}: error: {}", printable(path), what)};
  };
  std::vector<uint8_t> bytes;
  if (const std::string e = fuzz::read_file_bytes(path.c_str(), &bytes); !e.empty()) return error(e);
  return bytes;
}

std::string printable(std::string_view s, size_t max) {
  std::string out;
  const size_t n = std::min(s.size(), max);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c >= 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (n < s.size()) out += "...";
  return out;
}

std::variant<Input, InputError> read_input(const std::string& path, Format format) {
  auto read = read_file_bytes(path);
  if (auto* e = std::get_if<InputError>(&read)) return std::move(*e);
  Input input;
  input.path = path;
  input.format = format;
  input.bytes = std::get<std::vector<uint8_t>>(std::move(read));
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
          printable(path), e->offset, e->version,
          fuzz::kFormatVersion == 1 ? std::string("version 1") : fmt::format("versions 1 to {}", fuzz::kFormatVersion))};
    }
    input.file.scenario = fuzz::decode_scenario(data, input.bytes.size());
    return input;
  }
  const std::string_view text(reinterpret_cast<const char*>(input.bytes.data()), input.bytes.size());
  auto parsed = fuzz::parse_sched(text, path);
  if (const auto* err = std::get_if<fuzz::SchedError>(&parsed)) {
    // The message quotes the offending token, which may be any bytes.
    return InputError{fmt::format("{}:{}:{}: error: {}", printable(err->file), err->line, err->column,
                                  printable(err->message, 400))};
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
  if (!out) {
    return InputError{
        fmt::format("{}: error: cannot write: {}", printable(path), errno ? std::strerror(errno) : "open failed")};
  }
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return InputError{fmt::format("{}: error: write failed", printable(path))};
  return std::nullopt;
}

std::optional<InputError> write_atomically(const std::string& path, std::string_view data, std::ostream& out) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  // A device or a pipe (/dev/null, /dev/stdout) is written, not replaced.
  if (std::error_code ec; fs::exists(target, ec) && !fs::is_regular_file(target, ec)) {
    return write_output(path, data, out);
  }
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const fs::path tmp = dir / fmt::format(".{}.tmp.{}", target.filename().string(), getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return InputError{fmt::format("{}: error: cannot write a temporary file in {}", path, dir.string())};
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.close();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      return InputError{fmt::format("{}: error: write failed", path)};
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return InputError{fmt::format("{}: error: cannot write: {}", path, ec.message())};
  }
  return std::nullopt;
}

std::optional<InputError> check_writable(const std::string& path) {
  if (path == "-") return std::nullopt;
  const auto error = [&path](std::string_view what) {
    return InputError{fmt::format("{}: error: cannot write: {}", printable(path), what)};
  };
  if (path.empty()) return InputError{"error: cannot write: empty file name"};
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p(path);
  if (fs::is_directory(p, ec)) return error("is a directory");
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec)) {
    return error(fmt::format("directory {} does not exist", printable(dir.string())));
  }
  if (fs::exists(p, ec)) {
    if (::access(path.c_str(), W_OK) != 0) return error(std::strerror(errno));
  } else if (::access(dir.c_str(), W_OK) != 0) {
    return error(fmt::format("directory {}: {}", printable(dir.string()), std::strerror(errno)));
  }
  return std::nullopt;
}

std::string hex_lines(const std::vector<uint8_t>& bytes) {
  std::string s;
  for (size_t i = 0; i < bytes.size(); ++i) {
    s += fmt::format("{:02x}", bytes[i]);
    if (i % 32 == 31 || i + 1 == bytes.size()) s += '\n';
  }
  return s;
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
