// replay_driver.cpp - run a fuzz target without an engine, over files and
// directories (the idea of zstd's regression_driver.c): the plain, ASan and
// TSan test builds replay every corpus file and crash with it.
//
// Usage: <target>_replay FILE_OR_DIR...
// Exit: 0 when every input passed; a finding aborts (the report says which
// input); 2 on a usage or I/O error.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool run_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
    return false;
  }
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::fprintf(stderr, "replay: %s (%zu bytes)\n", path.c_str(), bytes.size());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::fprintf(stderr,
                 "usage: %s FILE_OR_DIR...\n"
                 "Runs each input (each file of a directory, in name order) through the fuzz target.\n"
                 "Exit 0: all passed; a finding prints its report and aborts; 2: usage or I/O error.\n",
                 argv[0]);
    return argc < 2 ? 2 : 0;
  }
  LLVMFuzzerInitialize(&argc, &argv);
  size_t inputs = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      std::vector<std::filesystem::path> files;
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        if (!run_file(f)) return 2;
        ++inputs;
      }
    } else {
      if (!run_file(arg)) return 2;
      ++inputs;
    }
  }
  std::fprintf(stderr, "replay: %zu inputs, no findings\n", inputs);
  return 0;
}
