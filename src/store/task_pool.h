// A queue of tasks run by a few threads, for walks whose cost is in system calls: with
// one directory per task, the cores list and read different directories at once.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>

namespace xsguard::store {

class TaskPool {
 public:
  // A task gets the index of the thread running it (0 .. threads-1), for per-thread state.
  using Task = std::function<void(size_t worker)>;

  // Queued tasks run in the order added; a running task may add more.
  void add(Task t);
  // Runs every task on up to `threads` threads (the caller's among them) and returns
  // when all are done; rethrows the first exception a task threw (the rest are dropped).
  // Returns the number of threads that ran.
  size_t run(size_t threads);

 private:
  void work(size_t worker);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> queue_;
  size_t running_ = 0;
  std::exception_ptr failed_;
};

// The threads worth running for system-call-bound work: one per CPU, at most 4.
size_t scan_threads();

}  // namespace xsguard::store
