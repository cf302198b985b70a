// tsan_races.h - the catalogued bugs whose injected runs of tests/sched race
// by design: a data race on the VMA payload that ThreadSanitizer reports (and
// that ends the process). A TSan build's in-process tests do not make those
// runs; tests/fuzz/tsan_catalog_test.cpp replays them in child processes and
// checks the report. One list for every test that needs it.
#pragma once

#include <algorithm>
#include <array>

#include "core/inject.h"

namespace vmafuzz::test {

inline constexpr std::array kRacesUnderTsan = {core::Bug::seq_end_without_release,
                                               core::Bug::mprotect_without_vma_write_lock,
                                               core::Bug::reader_checks_seq_before_increment};

inline bool races_under_tsan(core::Bug bug) {
  return std::find(kRacesUnderTsan.begin(), kRacesUnderTsan.end(), bug) != kRacesUnderTsan.end();
}

}  // namespace vmafuzz::test
