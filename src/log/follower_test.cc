#include "log/follower.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "log/install_log_parser.h"
#include "log/test_support.h"
#include "model/errors.h"

using namespace xsguard::logwatch;
using namespace xsguard::logwatch::testing;
using namespace std::chrono;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/xsguard-follow-XXXXXX";
    path = mkdtemp(t);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

// What watch does, minus rendering: feed the parser, close a record when the file
// has been quiet for a few milliseconds.
struct Handler : FollowHandler, ParserSink {
  const Clock& clock;
  InstallLogParser parser{*this};
  std::mutex mu;
  std::vector<Record> records;
  std::vector<std::string> file_events;
  std::vector<steady_clock::time_point> seen_at;
  std::atomic<size_t> count{0};
  int64_t last_data = 0;
  int64_t grace_ms;
  // grace_ms: quiet time that closes a record (watch uses 10 ms; the tests that
  // split a record over two writes use more, so a loaded machine cannot fail them).
  explicit Handler(const Clock& c, int64_t grace = 10) : clock(c), grace_ms(grace) {}

  void on_record(const Record& r) override {
    std::lock_guard<std::mutex> l(mu);
    records.push_back(r);
    seen_at.push_back(steady_clock::now());
    count = records.size();
  }
  void on_data(const char* p, size_t n) override {
    last_data = clock.monotonic_ms();
    parser.feed(p, n);
  }
  void on_file_event(const std::string& kind, const std::string& text) override {
    {
      std::lock_guard<std::mutex> l(mu);
      file_events.push_back(kind);
    }
    if (kind == "truncated" || kind == "replaced") parser.restart(text);
  }
  int64_t next_deadline_ms() override {
    return parser.has_pending_record() ? last_data + grace_ms : std::numeric_limits<int64_t>::max();
  }
  void on_deadline(int64_t) override { parser.flush(); }
  bool saw(const std::string& kind) {
    std::lock_guard<std::mutex> l(mu);
    return std::find(file_events.begin(), file_events.end(), kind) != file_events.end();
  }
};

void append(const std::string& path, const std::string& data) {
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, data.data(), data.size()) == ssize_t(data.size()));
  close(fd);
}

bool wait_for(const std::atomic<size_t>& n, size_t want, int ms = 5000) {
  auto until = steady_clock::now() + milliseconds(ms);
  while (n.load() < want && steady_clock::now() < until) std::this_thread::sleep_for(milliseconds(2));
  return n.load() >= want;
}

std::string numbered(int i, int sec) {
  // Every third record is multi-line, every fifth a command with output.
  if (i % 5 == 0)
    return rec("ran ['echo', '" + std::to_string(i) + "']; rc 0\nSTANDARD OUT:\n" + std::to_string(i), sec);
  if (i % 3 == 0) return rec("record " + std::to_string(i) + "\n  detail a\n  detail b", sec);
  return rec("record " + std::to_string(i), sec);
}

}  // namespace

TEST_CASE("follow: a concurrent writer, every appended record is exactly one event") {
  TempDir tmp;
  std::string log = tmp.path + "/install-log";
  append(log, "");
  SystemClock clock;
  Handler h(clock, 500);
  Follower f(log, clock, h);
  std::thread t([&] { f.run(); });
  const int kRecords = 400;
  std::thread writer([&] {
    for (int i = 0; i < kRecords; ++i) {
      std::string r = numbered(i, i);
      if (i % 7 == 0) {  // a record that arrives in two writes, back to back
        append(log, r.substr(0, r.size() / 2));
        append(log, r.substr(r.size() / 2));
      } else {
        append(log, r);
      }
      if (i % 50 == 0) std::this_thread::sleep_for(milliseconds(20));
    }
  });
  writer.join();
  CHECK(wait_for(h.count, kRecords, 10000));
  std::this_thread::sleep_for(milliseconds(600));  // nothing extra may arrive
  f.stop();
  t.join();
  std::lock_guard<std::mutex> l(h.mu);
  REQUIRE(h.records.size() == size_t(kRecords));
  for (int i = 0; i < kRecords; ++i) {
    const Record& r = h.records[size_t(i)];
    if (i % 5 == 0) {
      CHECK(r.kind == RecordKind::command);
      CHECK(r.command.out == std::to_string(i));
    } else {
      CHECK(r.message == "record " + std::to_string(i));
      if (i % 3 == 0) CHECK(r.body_lines == 2);
    }
  }
}

TEST_CASE("follow: the file appears late") {
  TempDir tmp;
  std::string log = tmp.path + "/install-log";
  SystemClock clock;
  Handler h(clock);
  Follower f(log, clock, h);
  std::thread t([&] { f.run(); });
  std::this_thread::sleep_for(milliseconds(50));
  CHECK(h.saw("waiting"));
  for (int i = 0; i < 10; ++i) append(log, numbered(i + 1, i));
  CHECK(wait_for(h.count, 10));
  f.stop();
  t.join();
  CHECK(h.saw("opened"));
  CHECK(h.records.size() == 10);
}

TEST_CASE("follow: truncation starts over at line 1") {
  TempDir tmp;
  std::string log = tmp.path + "/install-log";
  for (int i = 0; i < 5; ++i) append(log, numbered(i + 1, i));
  SystemClock clock;
  Handler h(clock);
  Follower f(log, clock, h);
  std::thread t([&] { f.run(); });
  REQUIRE(wait_for(h.count, 5));
  REQUIRE(truncate(log.c_str(), 0) == 0);
  std::this_thread::sleep_for(milliseconds(30));
  append(log, rec("after truncation 1") + rec("after truncation 2"));
  CHECK(wait_for(h.count, 7));
  f.stop();
  t.join();
  CHECK(h.saw("truncated"));
  REQUIRE(h.records.size() == 7);
  CHECK(h.records[5].message == "after truncation 1");
  CHECK(h.records[5].first_line == 1);
}

TEST_CASE("follow: replaced by rename, the new file is read from the start") {
  TempDir tmp;
  std::string log = tmp.path + "/install-log";
  for (int i = 0; i < 5; ++i) append(log, numbered(i + 1, i));
  SystemClock clock;
  Handler h(clock);
  Follower f(log, clock, h);
  std::thread t([&] { f.run(); });
  REQUIRE(wait_for(h.count, 5));
  append(log, rec("last words of the old file"));
  std::string fresh = tmp.path + "/install-log.new";
  append(fresh, rec("new 1") + rec("new 2") + rec("new 3"));
  REQUIRE(rename(fresh.c_str(), log.c_str()) == 0);
  CHECK(wait_for(h.count, 9));
  std::this_thread::sleep_for(milliseconds(30));
  f.stop();
  t.join();
  CHECK(h.saw("replaced"));
  REQUIRE(h.records.size() == 9);
  CHECK(h.records[5].message == "last words of the old file");
  CHECK(h.records[6].message == "new 1");
  CHECK(h.records[6].first_line == 1);
}

TEST_CASE("follow: append to event latency stays well under 50 ms, no wake-ups when idle") {
  TempDir tmp;
  std::string log = tmp.path + "/install-log";
  append(log, "");
  SystemClock clock;
  Handler h(clock);
  Follower f(log, clock, h);
  std::thread t([&] { f.run(); });
  std::this_thread::sleep_for(milliseconds(20));
  std::vector<double> lat;
  for (int i = 0; i < 20; ++i) {
    auto t0 = steady_clock::now();
    append(log, rec("ping " + std::to_string(i)));
    REQUIRE(wait_for(h.count, size_t(i + 1)));
    std::lock_guard<std::mutex> l(h.mu);
    lat.push_back(duration<double, std::milli>(h.seen_at.back() - t0).count());
  }
  uint64_t before = f.wakeups();
  std::this_thread::sleep_for(milliseconds(300));
  CHECK(f.wakeups() == before);  // idle: nothing wakes the loop
  f.stop();
  t.join();
  std::sort(lat.begin(), lat.end());
  MESSAGE("append->event latency median " << lat[lat.size() / 2] << " ms, max " << lat.back());
  CHECK(lat[lat.size() / 2] < 50.0);
}

TEST_CASE("follow: a missing directory is an input error") {
  SystemClock clock;
  Handler h(clock);
  CHECK_THROWS_AS(Follower("/nonexistent-dir-xsguard/install-log", clock, h), xsguard::InputError);
}
