// sched_dir.h - tests that start from a regression scenario of tests/sched.
// VMAFUZZ_SCHED_DIR (a compile definition, tests/CMakeLists.txt) names it.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <variant>

#include "fuzz/scenario.h"
#include "fuzz/sched_text.h"

#ifndef VMAFUZZ_SCHED_DIR
#error "VMAFUZZ_SCHED_DIR must name tests/sched (tests/CMakeLists.txt)"
#endif

namespace vmafuzz::fuzz {

// The scenario of tests/sched/<name>; a missing or malformed file fails the test.
inline Scenario load_sched_scenario(const std::string& name) {
  std::ifstream in(std::filesystem::path(VMAFUZZ_SCHED_DIR) / name);
  if (!in) ADD_FAILURE() << "cannot read " << VMAFUZZ_SCHED_DIR << "/" << name;
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = parse_sched(text.str(), name);
  if (const auto* e = std::get_if<SchedError>(&parsed)) {
    ADD_FAILURE() << name << ": " << e->message;
    return Scenario{};
  }
  return std::get<SchedFile>(parsed).scenario;
}

}  // namespace vmafuzz::fuzz
