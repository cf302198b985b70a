// repro_test_support.h - what the `vmafuzz` command-line tests share: running
// the CLI in-process (cli_main) or as the built program, temporary
// directories, and the tests/sched regression files.
//
// Compile definitions (tests/CMakeLists.txt):
//   VMAFUZZ_SOURCE_DIR  the source tree (tests/sched, corpus/)
//   VMAFUZZ_CLI         the built `vmafuzz` program
//   VMAFUZZ_REPLAY      the built `fuzz_vma_lock_replay` program
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "repro/cli.h"
#include "repro/scenario_io.h"

#if !defined(VMAFUZZ_SOURCE_DIR) || !defined(VMAFUZZ_CLI) || !defined(VMAFUZZ_REPLAY)
#error "VMAFUZZ_SOURCE_DIR, VMAFUZZ_CLI and VMAFUZZ_REPLAY must be defined (tests/CMakeLists.txt)"
#endif

namespace vmafuzz::repro::test {

namespace fs = std::filesystem;

inline fs::path source_dir() { return VMAFUZZ_SOURCE_DIR; }
inline fs::path sched_dir() { return source_dir() / "tests" / "sched"; }

inline std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::vector<uint8_t> read_bytes(const fs::path& p) {
  const std::string s = read_text(p);
  return {s.begin(), s.end()};
}

inline void write_file(const fs::path& p, std::string_view data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

inline void write_file(const fs::path& p, const std::vector<uint8_t>& data) {
  write_file(p, std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}

// The names (not paths) of tests/sched/*.sched, sorted.
inline std::vector<std::string> sched_files() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(sched_dir(), ec)) {
    if (e.is_regular_file() && e.path().extension() == ".sched") files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// A gtest-safe name for a parameter that is a file name.
inline std::string param_name(const std::string& file) {
  std::string name = file.substr(0, file.rfind('.'));
  for (char& c : name) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

// What a command printed and returned.
struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs the CLI in-process (repro/cli.h), as `vmafuzz ARGS...`.
inline CliResult cli(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  CliResult r;
  r.code = cli_main(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// Runs a built program with `env` ("NAME=value" or "-NAME" to unset) through
// the shell; `code` is its exit status, or 128 + the signal that ended it.
inline CliResult spawn(const std::string& program, const std::vector<std::string>& args,
                       const std::vector<std::string>& env, const fs::path& scratch) {
  // env takes its -u options before the assignments. TSan sleeps a second
  // at every exit unless told not to (the test binaries get that from
  // sanitizer_options.cpp; the programs they start do not).
  std::string cmd = "env";
  for (const std::string& e : env) {
    if (e.starts_with("-")) cmd += " -u " + shell_quote(e.substr(1));
  }
  const char* tsan = std::getenv("TSAN_OPTIONS");
  cmd += " " + shell_quote(std::string("TSAN_OPTIONS=") + (tsan ? tsan : "") + ":atexit_sleep_ms=0");
  for (const std::string& e : env) {
    if (!e.starts_with("-")) cmd += " " + shell_quote(e);
  }
  cmd += " " + shell_quote(program);
  for (const std::string& a : args) cmd += " " + shell_quote(a);
  const fs::path out = scratch / "spawn.out";
  const fs::path err = scratch / "spawn.err";
  cmd += " >" + shell_quote(out.string()) + " 2>" + shell_quote(err.string());
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

// The value of the first line of `text` that starts with `prefix`, or "".
inline std::string line_after(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(prefix)) return line.substr(prefix.size());
  }
  return "";
}

// A fresh temporary directory per test, removed afterwards; VMAFUZZ_INJECT
// is cleared so that a caller's environment cannot change in-process runs.
class CliTest : public testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("vmafuzz_repro_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    unsetenv("VMAFUZZ_INJECT");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const fs::path& dir() const { return dir_; }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // The built `vmafuzz`, with VMAFUZZ_INJECT unset unless `env` sets it.
  CliResult vmafuzz(const std::vector<std::string>& args, std::vector<std::string> env = {}) const {
    env.insert(env.begin(), "-VMAFUZZ_INJECT");
    return spawn(VMAFUZZ_CLI, args, env, dir_);
  }
  CliResult replay(const std::vector<std::string>& args, std::vector<std::string> env = {}) const {
    env.insert(env.begin(), "-VMAFUZZ_INJECT");
    return spawn(VMAFUZZ_REPLAY, args, env, dir_);
  }

 private:
  fs::path dir_;
};

}  // namespace vmafuzz::repro::test
