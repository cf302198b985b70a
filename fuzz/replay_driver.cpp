// replay_driver.cpp - run a fuzz target without an engine, over files and
// directories (the idea of zstd's regression_driver.c): the plain, ASan and
// TSan test builds replay every corpus file and crash with it.
//
// Usage: <target>_replay [-runs=N] FILE_OR_DIR...
// -runs=N runs each input N times in a row, read once, as libFuzzer's -runs
// does with file arguments (it prints "Running: FILE" once per file): for
// benchmarks, which then measure the target and not N file reads.
// Exit: 0 when every input passed; a finding aborts (the report says which
// input); 2 on a usage or I/O error (read with POSIX calls: nothing throws).
// A directory's FILE.json beside FILE is a sidecar (repro/sidecar.h), skipped.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz/read_file.h"

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

long g_runs = 1;  // -runs=N

bool run_file(const std::filesystem::path& path) {
  std::vector<uint8_t> bytes;
  if (const std::string error = vmafuzz::fuzz::read_file_bytes(path.c_str(), &bytes); !error.empty()) {
    std::fprintf(stderr, "replay: error: %s: %s\n", path.c_str(), error.c_str());
    return false;
  }
  std::fprintf(stderr, "replay: %s (%zu bytes)\n", path.c_str(), bytes.size());
  // A finding aborts inside the loop, right after this input's line.
  for (long r = 0; r < g_runs; ++r) LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return true;
}

// X.json beside X is X's sidecar (repro/sidecar.h: which model found it),
// not an input.
bool is_sidecar(const std::filesystem::path& p) {
  if (p.extension() != ".json") return false;
  std::error_code ec;
  return std::filesystem::is_regular_file(p.parent_path() / p.stem(), ec);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::fprintf(stderr,
                 "usage: %s [-runs=N] FILE_OR_DIR...\n"
                 "Runs each input (each file of a directory, in name order) through the fuzz target.\n"
                 "-runs=N: each input N times in a row, read once (default 1; libFuzzer's -runs with files).\n"
                 "Exit 0: all passed; a finding prints its report and aborts; 2: usage or I/O error.\n",
                 argv[0]);
    return argc < 2 ? 2 : 0;
  }
  int first = 1;
  if (const std::string a = argv[1]; a.rfind("-runs=", 0) == 0) {
    char* end = nullptr;
    g_runs = std::strtol(a.c_str() + 6, &end, 10);
    if (end == a.c_str() + 6 || *end || g_runs < 1) {
      std::fprintf(stderr, "replay: error: %s: expected -runs=N with N a positive integer\n", a.c_str());
      return 2;
    }
    first = 2;
    if (argc < 3) {
      std::fprintf(stderr, "replay: error: no input after %s\n", a.c_str());
      return 2;
    }
  }
  LLVMFuzzerInitialize(&argc, &argv);
  size_t inputs = 0;
  for (int i = first; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      std::vector<std::filesystem::path> files;
      for (const auto& entry : std::filesystem::directory_iterator(arg, ec)) {
        if (entry.is_regular_file(ec) && !is_sidecar(entry.path())) files.push_back(entry.path());
      }
      if (ec) {
        std::fprintf(stderr, "replay: error: cannot list %s: %s\n", arg.c_str(), ec.message().c_str());
        return 2;
      }
      // By the native string: path's own operator< compares component by
      // component, which was a quarter of the replay's instructions per input
      // on a 2000-file directory (callgrind, docs/BENCHMARKS.md). The same
      // order for the flat listing a directory gives.
      std::sort(files.begin(), files.end(),
                [](const std::filesystem::path& a, const std::filesystem::path& b) { return a.native() < b.native(); });
      for (const auto& f : files) {
        if (!run_file(f)) return 2;
        ++inputs;
      }
    } else {
      if (!run_file(arg)) return 2;
      ++inputs;
    }
  }
  if (g_runs > 1) {
    std::fprintf(stderr, "replay: %zu inputs, %ld runs each, no findings\n", inputs, g_runs);
  } else {
    std::fprintf(stderr, "replay: %zu inputs, no findings\n", inputs);
  }
  return 0;
}
