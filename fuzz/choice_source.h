// choice_source.h - the one source of every scheduling decision of a run.
//
// Reads Scenario::choices in order (the bytes the decoder took from the back
// of the input). Once they run out it returns 0 forever, which every strategy
// maps to its default ("keep running the current task", "no event"), so a
// truncated input shortens the interleaving gracefully instead of failing.
// Strategies never see bytes any other way; core/ never sees them at all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vmafuzz::fuzz {

class ChoiceSource {
 public:
  explicit ChoiceSource(const std::vector<uint8_t>& choices) : choices_(&choices) {}

  // The next byte, or 0 when exhausted.
  uint8_t next_byte() { return pos_ < choices_->size() ? (*choices_)[pos_++] : 0; }
  // A little-endian value of `bytes` bytes (1..4), 0-filled when exhausted.
  uint32_t next_bytes(int bytes) {
    uint32_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= static_cast<uint32_t>(next_byte()) << (8 * i);
    return v;
  }
  bool exhausted() const { return pos_ >= choices_->size(); }
  size_t consumed() const { return pos_; }

 private:
  const std::vector<uint8_t>* choices_;
  size_t pos_ = 0;
};

}  // namespace vmafuzz::fuzz
