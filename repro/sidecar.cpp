// sidecar.cpp - reading and writing FILE.json beside a finding (sidecar.h).
#include "repro/sidecar.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>

#include "fuzz/execution.h"

namespace vmafuzz::repro {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// "line:column" (from 1) of byte offset `byte` (nlohmann's position: the
// count of bytes read, so the offending byte is byte - 1).
std::string line_column(std::string_view text, size_t byte) {
  const size_t at = byte == 0 ? 0 : std::min(byte - 1, text.size());
  size_t line = 1;
  size_t col = 1;
  for (size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return fmt::format("{}:{}", line, col);
}

std::string joined(const std::vector<std::string>& names, std::string_view sep) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : std::string(sep)) + n;
  return s;
}

std::string inject_options(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : " ") + std::string("--inject ") + n;
  return s;
}

}  // namespace

std::string sidecar_path(const std::string& input_path) { return input_path + ".json"; }

bool is_sidecar_of_existing_file(const std::string& path) {
  constexpr std::string_view kExt = ".json";
  if (path.size() <= kExt.size() || !path.ends_with(kExt)) return false;
  std::error_code ec;
  return fs::is_regular_file(path.substr(0, path.size() - kExt.size()), ec);
}

std::variant<Sidecar, InputError> parse_sidecar(std::string_view text, const std::string& path) {
  const auto fail = [&path](const std::string& where, const std::string& what) {
    return InputError{fmt::format("{}{}: error: {} (docs/FORMATS.md, section 4)", printable(path),
                                  where.empty() ? "" : ":" + where, what)};
  };
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    // e.what(): "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..."
    std::string what = e.what();
    if (const size_t colon = what.find(": "); colon != std::string::npos) what = what.substr(colon + 2);
    return fail(line_column(text, e.byte), "not a vmafuzz sidecar: invalid JSON: " + printable(what));
  }
  if (!j.is_object()) return fail("", "not a vmafuzz sidecar: expected a JSON object");
  const auto version = j.find("vmafuzz_sidecar");
  if (version == j.end()) return fail("", "not a vmafuzz sidecar: expected the key \"vmafuzz_sidecar\" (its version)");
  if (!version->is_number_unsigned()) return fail("", "expected \"vmafuzz_sidecar\" to be a version number");
  if (version->get<uint64_t>() != kSidecarVersion) {
    return fail("", fmt::format("sidecar version {}, which this build does not read (it reads version {})",
                                version->get<uint64_t>(), kSidecarVersion));
  }
  Sidecar s;
  s.path = path;
  const auto string_key = [&](const char* key, std::string* to) -> std::optional<InputError> {
    const auto it = j.find(key);
    if (it == j.end()) return std::nullopt;
    if (!it->is_string()) return fail("", fmt::format("expected \"{}\" to be a string", key));
    *to = it->get<std::string>();
    return std::nullopt;
  };
  if (auto e = string_key("target", &s.target)) return *e;
  if (auto e = string_key("found_by", &s.found_by)) return *e;
  if (auto e = string_key("signature", &s.signature)) return *e;
  if (const auto it = j.find("inject"); it != j.end()) {
    if (!it->is_array()) return fail("", "expected \"inject\" to be an array of bug names");
    for (const json& name : *it) {
      if (!name.is_string()) return fail("", "expected \"inject\" to be an array of bug names");
      std::string unknown;
      if (!core::bugs_from_lists({name.get<std::string>()}, &unknown)) {
        return fail("", fmt::format("\"inject\" names an unknown bug '{}' (`vmafuzz list-bugs` lists them)",
                                    printable(unknown)));
      }
      if (!name.get<std::string>().empty()) s.inject.push_back(name.get<std::string>());
    }
  }
  if (const auto it = j.find("max_steps"); it != j.end()) {
    if (!it->is_number_unsigned() || it->get<uint64_t>() < 1 || it->get<uint64_t>() > kMaxStepsLimit) {
      return fail("", fmt::format("expected \"max_steps\" to be a number from 1 to {}", kMaxStepsLimit));
    }
    s.max_steps = it->get<uint64_t>();
  }
  return s;
}

std::variant<std::optional<Sidecar>, InputError> read_sidecar(const std::string& input_path) {
  const std::string path = sidecar_path(input_path);
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<Sidecar>{};
  auto bytes = read_file_bytes(path);
  if (const auto* e = std::get_if<InputError>(&bytes)) return *e;
  const std::vector<uint8_t>& b = std::get<std::vector<uint8_t>>(bytes);
  auto parsed = parse_sidecar(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()), path);
  if (const auto* e = std::get_if<InputError>(&parsed)) return *e;
  return std::optional<Sidecar>(std::get<Sidecar>(std::move(parsed)));
}

std::string sidecar_text(const Sidecar& s) {
  // ordered_json keeps the schema's order, for people reading the file.
  nlohmann::ordered_json j;
  j["vmafuzz_sidecar"] = kSidecarVersion;
  j["target"] = s.target;
  j["inject"] = s.inject;
  if (s.max_steps) j["max_steps"] = *s.max_steps;
  j["found_by"] = s.found_by;
  j["signature"] = s.signature;
  return j.dump(2) + "\n";
}

std::optional<InputError> write_sidecar(const std::string& input_path, const Sidecar& s) {
  std::ostringstream unused;
  return write_output(sidecar_path(input_path), sidecar_text(s), unused);
}

bool inject_given(const InjectArgs& args) { return !args.values.empty() || std::getenv("VMAFUZZ_INJECT") != nullptr; }

std::optional<ReplaySettings> replay_settings(const InjectArgs& inject, std::optional<uint64_t> max_steps,
                                              const std::string& input_path, Io& io) {
  ReplaySettings s;
  auto read = read_sidecar(input_path);
  if (const auto* e = std::get_if<InputError>(&read)) {
    io.err << e->text << "\n";
    return std::nullopt;
  }
  s.sidecar = std::get<std::optional<Sidecar>>(std::move(read));
  if (inject_given(inject) || !s.sidecar) {
    s.bugs = inject.bugs();
    s.inject = inject.names();
  } else {
    s.inject = s.sidecar->inject;
    std::string unknown;
    s.bugs = core::bugs_from_lists(s.inject, &unknown).value_or(core::BugSet{});
    s.inject_from_sidecar = !s.inject.empty();
  }
  if (max_steps) {
    s.max_steps = *max_steps;
  } else if (s.sidecar && s.sidecar->max_steps) {
    s.max_steps = *s.sidecar->max_steps;
    s.max_steps_from_sidecar = *s.sidecar->max_steps != fuzz::kDefaultMaxSteps;
  } else {
    s.max_steps = fuzz::kDefaultMaxSteps;
  }
  return s;
}

std::optional<core::BugSet> effective_bugs(const InjectArgs& inject, const std::string& input_path, Io& io) {
  const std::optional<ReplaySettings> s = replay_settings(inject, std::nullopt, input_path, io);
  if (!s) return std::nullopt;
  return s->bugs;
}

std::optional<ReplaySettings> replay_settings(const InjectArgs& inject, const CLI::Option* max_steps_option,
                                              uint64_t max_steps, const std::string& input_path, Io& io) {
  const bool given = max_steps_option && max_steps_option->count() > 0;
  return replay_settings(inject, given ? std::optional<uint64_t>(max_steps) : std::nullopt, input_path, io);
}

std::optional<ReplayInput> read_replay_input(const std::string& path, const std::string& from,
                                             const InjectArgs& inject, const CLI::Option* max_steps_option,
                                             uint64_t max_steps, Io& io) {
  const Format format = input_format(path, from);
  auto read = read_input(path, format);
  if (const auto* e = std::get_if<InputError>(&read)) {
    io.err << e->text << "\n";
    return std::nullopt;
  }
  std::optional<ReplaySettings> settings = replay_settings(inject, max_steps_option, max_steps, path, io);
  if (!settings) return std::nullopt;
  return ReplayInput{format, std::move(std::get<Input>(read)), std::move(*settings)};
}

std::string inject_line(const ReplaySettings& s) {
  if (s.inject.empty()) return "";
  std::string bugs;
  for (const std::string& b : s.inject) bugs += (bugs.empty() ? "" : " ") + b;
  return fmt::format("inject:   {}{}\n", bugs,
                     s.inject_from_sidecar ? fmt::format(" (from {})", printable(s.sidecar->path)) : "");
}

std::string sidecar_note(const ReplaySettings& s, bool passed) {
  if (!s.sidecar) return "";
  const Sidecar& c = *s.sidecar;
  const std::string how = c.found_by.empty() ? "" : ": " + c.found_by;
  std::string note;
  if (s.inject_from_sidecar) note = fmt::format("using {} from {}", inject_options(s.inject), c.path);
  if (s.max_steps_from_sidecar) {
    note += fmt::format("{}using --max-steps {} from {}", note.empty() ? "" : "; ", s.max_steps, c.path);
  }
  if (!passed) return note;
  std::vector<std::string> sorted_run = s.inject;
  std::vector<std::string> sorted_found = c.inject;
  std::sort(sorted_run.begin(), sorted_run.end());
  std::sort(sorted_found.begin(), sorted_found.end());
  if (sorted_run != sorted_found) {
    return fmt::format("passes on this model ({}); it was found with {} ({}{})",
                       s.inject.empty() ? "no bug injected" : "--inject " + joined(s.inject, ","),
                       c.inject.empty() ? "the correct model" : inject_options(c.inject), c.path, how);
  }
  if (!c.signature.empty()) {
    return fmt::format("{}{}passes, but {} says it was found with signature {}{}: it no longer reproduces", note,
                       note.empty() ? "" : "; ", c.path, c.signature, how);
  }
  return note;
}

}  // namespace vmafuzz::repro
