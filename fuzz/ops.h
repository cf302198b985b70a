// ops.h - the operations a task's program is made of (see scenario.h's table).
//
// Caller operations are the kernel caller shapes of core/callers.h, which
// take and drop their own locks. Primitives perform one lock operation and
// leave the task holding what it took; the task's core::TaskLocks tracks that
// at run time so a task that dies, or ends its program, releases everything
// (as exit would). Runtime preconditions the decoder cannot know (is the slot
// mapped? did the read lock succeed?) make an operation kSkipped rather than
// illegal.
#pragma once

#include <vector>

#include "core/callers.h"
#include "core/task.h"
#include "fuzz/scenario.h"

namespace vmafuzz::fuzz {

// A task's caller context (its mm, held locks, observer) and its kill targets.
struct OpContext : core::CallerContext {
  const std::vector<core::task_struct*>* tasks = nullptr;  // kill targets, by task index
};

// Run one operation as the current task. Context: a task of the running Kernel.
OpOutcome run_op(OpContext& ctx, const Op& op);
// Release whatever the task still holds (end of program, or death).
void release_held_locks(OpContext& ctx);

}  // namespace vmafuzz::fuzz
