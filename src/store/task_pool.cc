#include "store/task_pool.h"

#include <algorithm>
#include <system_error>
#include <thread>
#include <vector>

namespace xsguard::store {

void TaskPool::add(Task t) {
  {
    std::lock_guard<std::mutex> l(mu_);
    queue_.push_back(std::move(t));
  }
  cv_.notify_one();
}

void TaskPool::work(size_t worker) {
  for (;;) {
    Task t;
    {
      std::unique_lock<std::mutex> l(mu_);
      // An empty queue is not the end while a task runs: it may add more.
      cv_.wait(l, [&] { return failed_ || !queue_.empty() || running_ == 0; });
      if (failed_ || queue_.empty()) break;
      t = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    try {
      t(worker);
    } catch (...) {
      std::lock_guard<std::mutex> l(mu_);
      if (!failed_) failed_ = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      --running_;
    }
    cv_.notify_all();
  }
  cv_.notify_all();
}

size_t TaskPool::run(size_t threads) {
  std::vector<std::thread> helpers;
  for (size_t i = 1; i < threads; ++i) {
    try {
      helpers.emplace_back(&TaskPool::work, this, i);
    } catch (const std::system_error&) {
      break;  // no more threads: the ones started do it all
    }
  }
  work(0);
  for (auto& h : helpers) h.join();
  if (failed_) {
    std::exception_ptr e = failed_;
    failed_ = nullptr;
    queue_.clear();
    std::rethrow_exception(e);
  }
  return helpers.size() + 1;
}

size_t scan_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return std::clamp<size_t>(hw, 1, 4);
}

}  // namespace xsguard::store
