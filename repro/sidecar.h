// sidecar.h - the JSON file beside a finding that says which model made it.
//
// A crash file's verdict belongs to one model: an input found under
// `--inject X` passes on the correct model. scripts/fuzz (for each crash file
// it keeps) and `vmafuzz hunt` (for the scenario it saves) write FILE.json
// beside FILE (the input's whole name plus ".json": crash-1a2b.json,
// hunt-random-1.bin.json). Schema, version 1 (docs/FORMATS.md, section 4):
//
//   {"vmafuzz_sidecar": 1,                  required; a newer version is refused
//    "target": "fuzz_vma_lock",             the decoder that reads the bytes
//    "inject": ["detach_no_wait"],          the bugs of the model that found it
//    "max_steps": 50000,                    the step bound it ran with
//    "found_by": "libFuzzer campaign ...",  how it was found, for people
//    "signature": "detach.count_not_zero||munmap|lock_vma_under_rcu"}
//
// Only "vmafuzz_sidecar" is required; other keys are ignored, so a later
// version 1 writer may add some. Readers: `vmafuzz run` and `vmafuzz to-test`
// through replay_settings(); `explain` and `minimize` can call the same.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/inject.h"
#include "core/inject_option.h"
#include "repro/cli.h"
#include "repro/scenario_io.h"

namespace vmafuzz::repro {

inline constexpr int kSidecarVersion = 1;

struct Sidecar {
  std::string path;                  // where it was read from (not written)
  std::string target = "fuzz_vma_lock";
  std::vector<std::string> inject;   // catalogued bug names
  std::optional<uint64_t> max_steps;
  std::string found_by;
  std::string signature;
};

// FILE.json for FILE.
std::string sidecar_path(const std::string& input_path);
// Is `path` the sidecar of a file that exists beside it (X.json and X)?
// Directory walks (`vmafuzz run DIR`, fuzz_vma_lock_replay DIR) skip those.
bool is_sidecar_of_existing_file(const std::string& path);

// The sidecar of `input_path`: nullopt when there is none; an error (file,
// line:column of the JSON error, what was expected) when it exists but
// cannot be read, is not valid JSON, has a version this build does not read,
// a key of the wrong type or an unknown bug name.
std::variant<std::optional<Sidecar>, InputError> read_sidecar(const std::string& input_path);
// Parses sidecar text; `path` names it in errors.
std::variant<Sidecar, InputError> parse_sidecar(std::string_view text, const std::string& path);

// The JSON text of `s` (one object, keys in schema order, ending in a newline).
std::string sidecar_text(const Sidecar& s);
// Writes sidecar_path(input_path).
std::optional<InputError> write_sidecar(const std::string& input_path, const Sidecar& s);

// How to replay one input: the bugs and the step bound, from the command
// line if given there, else from the input's sidecar, else the defaults.
struct ReplaySettings {
  core::BugSet bugs;
  std::vector<std::string> inject;  // their names, for messages and replay commands
  uint64_t max_steps = 0;
  bool inject_from_sidecar = false;
  bool max_steps_from_sidecar = false;
  std::optional<Sidecar> sidecar;  // the input's sidecar, if it has one
};

// Is an injection given on the command line or in the environment? --inject
// (even `--inject ''`: explicitly none) or VMAFUZZ_INJECT set (even empty).
bool inject_given(const InjectArgs& args);

// The settings for `input_path`. `inject` is used when inject_given(inject);
// `max_steps` when set. A sidecar that cannot be read is an error: it is
// printed to io.err and the result is nullopt (exit 2).
std::optional<ReplaySettings> replay_settings(const InjectArgs& inject, std::optional<uint64_t> max_steps,
                                              const std::string& input_path, Io& io);
// As above, with the step bound of a command's --max-steps option
// (add_flag(Flag::kMaxSteps)): `max_steps` is used only if the option was given.
std::optional<ReplaySettings> replay_settings(const InjectArgs& inject, const CLI::Option* max_steps_option,
                                              uint64_t max_steps, const std::string& input_path, Io& io);
// An input to replay: the file read as `format` and its replay settings.
struct ReplayInput {
  Format format;
  Input input;
  ReplaySettings settings;
};
// Read `path` (as --from `from` says, else by extension) and its settings
// (replay_settings() with a --max-steps option). Errors are printed to
// io.err and the result is nullopt (exit 2).
std::optional<ReplayInput> read_replay_input(const std::string& path, const std::string& from,
                                             const InjectArgs& inject, const CLI::Option* max_steps_option,
                                             uint64_t max_steps, Io& io);
// "inject:   A B (from FILE.json)\n" for a report's header, or "" without bugs.
std::string inject_line(const ReplaySettings& s);
// The bugs only (for commands without a step bound of their own).
std::optional<core::BugSet> effective_bugs(const InjectArgs& inject, const std::string& input_path, Io& io);

// What to say about the model, or "" for nothing:
//  - the injection came from the sidecar: "using --inject X from FILE.json";
//  - the input passed, and the sidecar says it was found with bugs this run
//    does not have: "passes on this model; it was found with --inject X
//    (FILE.json: found_by)";
//  - the input passed on the model the sidecar names, and the sidecar gives a
//    signature: "passes, but FILE.json says it was found with signature S".
std::string sidecar_note(const ReplaySettings& s, bool passed);

}  // namespace vmafuzz::repro
