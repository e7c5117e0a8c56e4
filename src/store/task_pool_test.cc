#include "store/task_pool.h"

#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

using namespace xsguard::store;

TEST_CASE("task pool: tasks added by tasks run too, each on one of the threads") {
  for (size_t threads : {1, 3}) {
    TaskPool pool;
    std::atomic<int> done{0};
    std::vector<std::atomic<int>> per_worker(threads);
    for (int i = 0; i < 10; ++i)
      pool.add([&](size_t w) {
        ++per_worker[w];
        for (int k = 0; k < 10; ++k)
          pool.add([&](size_t w2) {
            ++per_worker[w2];
            ++done;
          });
      });
    CHECK(pool.run(threads) == threads);
    CHECK(done == 100);
    int sum = 0;
    for (auto& n : per_worker) sum += n;
    CHECK(sum == 110);
  }
}

TEST_CASE("task pool: the first exception is rethrown and the pool can run again") {
  TaskPool pool;
  pool.add([](size_t) { throw std::runtime_error("boom"); });
  for (int i = 0; i < 50; ++i) pool.add([](size_t) {});
  CHECK_THROWS_WITH(pool.run(2), "boom");
  int ran = 0;
  pool.add([&](size_t) { ++ran; });
  pool.run(2);
  CHECK(ran == 1);
}
