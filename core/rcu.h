// rcu.h - the RCU read side and grace periods for call_rcu()-freed objects
// (models include/linux/rcupdate.h).
//
// rcu_read_lock()/rcu_read_unlock() are task-local nesting counters, not
// scheduling points (they touch no shared word). call_rcu_free() retires an
// object: it becomes freed once every task that was inside a read-side
// section at retire time has left it, i.e. after a grace period. The model
// keeps the memory (type-stable pools) and only flips the ghost `freed` flag,
// which lifetime checks consult.
#pragma once

#include <cstdint>

namespace vmafuzz::core {

struct task_struct;

struct rcu_head {
  bool retired = false;
  bool freed = false;
  uint64_t readers_left_to_quiesce = 0;  // bit per pid inside a read section at retire time
};

void rcu_read_lock();
// Reports rcu_read_unlock_unbalanced when not inside a read-side section.
void rcu_read_unlock();
// rcu_read_lock_held(): is current inside a read-side section?
bool rcu_read_lock_held();
int rcu_read_lock_depth(const task_struct* t);

// call_rcu(head, free): free after a grace period. Context: any task.
void call_rcu_free(rcu_head* head);
// Has the grace period of a retired object elapsed?
bool rcu_head_freed(const rcu_head* head);

}  // namespace vmafuzz::core
