#include "tui/log_model.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "commands/watch.h"
#include "log/known_failures.h"
#include "report/report.h"
#include "tui/demo_assets.h"

using namespace xsguard;
using namespace xsguard::tui;

namespace {

// The bundled demo log through `watch --once --json`, as the menu's feed sees it.
std::string watch_events(const std::string& log_text) {
  char log_path[] = "/tmp/xsguard-log-model-XXXXXX";
  int log_fd = mkstemp(log_path);
  REQUIRE(log_fd >= 0);
  REQUIRE(write(log_fd, log_text.data(), log_text.size()) == ssize_t(log_text.size()));
  close(log_fd);
  FILE* out = tmpfile();
  REQUIRE(out);
  WatchOptions o;
  o.log = log_path;
  o.once = true;
  o.json = true;
  o.target_root = "/nonexistent";
  o.source_root = "/nonexistent";
  o.firmware = "bios";
  logwatch::SystemClock clock;
  run_watch(o, fileno(out), clock);
  unlink(log_path);
  std::string events;
  rewind(out);
  char buf[65536];
  for (size_t n; (n = fread(buf, 1, sizeof buf, out)) > 0;) events.append(buf, n);
  fclose(out);
  return events;
}

void feed_all(LogModel& m, const std::string& events) {
  size_t start = 0;
  for (size_t nl; (nl = events.find('\n', start)) != std::string::npos; start = nl + 1)
    m.feed(events.substr(start, nl - start));
}

std::string stall_event(bool live, uint64_t copied, uint64_t total) {
  logwatch::StallInfo s;
  s.live = live;
  s.silent_s = 300;
  s.last_line = 64;
  s.task = "completeUpgrade";
  s.task_index = 16;
  s.tasks_total = 22;
  s.percent = 72;
  s.measured = true;
  s.target_entries = copied;
  s.source_entries = total;
  s.source_known = true;
  s.rate_per_s = 850;
  s.eta_s = 42;
  nlohmann::ordered_json j;
  j["event"] = "finding";
  j["finding"] = finding_to_json(logwatch::make_stall_finding({s}));
  return j.dump();
}

}  // namespace

TEST_CASE("log model: the demo log's events give progress, lines and the grub failure") {
  const std::string log(reinterpret_cast<const char*>(kDemoAssets.log), kDemoAssets.log_size);
  LogModel m;
  feed_all(m, watch_events(log));
  CHECK(m.records() > 50);
  CHECK(m.progress().task == "installBootLoader");
  CHECK(m.progress().percent > 72);
  bool grub = false, failed = false;
  for (const auto& f : m.findings()) {
    grub |= f.id == "log.grub_embed";
    failed |= f.id == "log.install_failed" && f.inhibitor;
  }
  CHECK(grub);
  CHECK(failed);
  // grub-install's own error lines are marked as the failure.
  bool marked = false;
  for (const auto& l : m.lines())
    marked |= l.failure && l.line == 80 && l.text.find("embedding area is unusually small") != std::string::npos;
  CHECK(marked);
  CHECK_FALSE(m.stall().active);
}

TEST_CASE("log model: a live stall with measured progress, then the log resumes") {
  LogModel m;
  REQUIRE(m.feed(stall_event(true, 4000, 10000)));
  CHECK(m.stall().active);
  CHECK(m.stall().measured);
  CHECK(m.stall().copied == 4000);
  CHECK(m.stall().total == 10000);
  CHECK(m.stall().eta_s == 42);
  REQUIRE(m.findings().size() == 1);
  CHECK(m.findings()[0].severity == Severity::medium);

  REQUIRE(m.feed(R"({"event":"stall","title":"The installer has logged nothing for 6m00s during completeUpgrade",
                     "silence":{"live":true,"silent_seconds":360,"task":"completeUpgrade","bar_percent":72,
                                "blobs":{"target_entries":9000,"source_entries":10000,"estimate":false,
                                         "rate_per_second":900,"eta_seconds":1}}})"));
  CHECK(m.stall().copied == 9000);
  CHECK(m.stall().silent_s == 360);
  CHECK(m.findings()[0].title.find("6m00s") != std::string::npos);

  REQUIRE(m.feed(R"({"event":"notice","kind":"resumed","line":65,"text":"the log moved again after 6m01s of silence"})"));
  CHECK_FALSE(m.stall().active);
  CHECK(m.findings()[0].severity == Severity::info);
  CHECK(m.findings()[0].title.find("went silent for 6m00s") != std::string::npos);
}

TEST_CASE("log model: garbage, the final report and feed errors") {
  LogModel m;
  CHECK_FALSE(m.feed(""));
  CHECK_FALSE(m.feed("{\"schema\": \"xsguard.report/1\","));
  CHECK_FALSE(m.feed("[1,2,3]"));
  CHECK_FALSE(m.feed(std::string("\xff\xfe{\"event\":\"record\"}", 20)));
  CHECK(m.version() == 0);
  CHECK(m.feed(R"({"event":"record","line":"x","message":7,"continuation":"no"})"));
  CHECK(m.lines().size() == 1);
  CHECK(m.feed(R"({"event":"error","text":"/nonexistent: no such directory"})"));
  CHECK(m.error() == "/nonexistent: no such directory");
}

TEST_CASE("log model: a record with bytes that are not UTF-8 is still shown") {
  std::string log(reinterpret_cast<const char*>(kDemoAssets.log), kDemoAssets.log_size);
  const std::string bad = "INFO     [2017-06-21 14:02:11] label \xf7\x89\xb4 and \xff here\n";
  log.insert(log.find('\n') + 1, bad);
  LogModel m;
  feed_all(m, watch_events(log));
  bool shown = false;
  for (const auto& l : m.lines()) shown |= l.line == 2 && l.text.find("label") != std::string::npos &&
                                           l.text.find("here") != std::string::npos;
  CHECK(shown);
}

TEST_CASE("log model: the tail is bounded") {
  LogModel m(10);
  for (int i = 1; i <= 25; ++i)
    m.feed(R"({"event":"record","line":)" + std::to_string(i) + R"(,"level":"INFO","time":"2017-06-21 14:02:11","message":"m"})");
  CHECK(m.lines().size() == 10);
  CHECK(m.lines().front().line == 16);
  CHECK(m.lines().back().text == "14:02:11 m");
}
