#include "log/known_failures.h"

#include <doctest/doctest.h>

using namespace xsguard::logwatch;

TEST_CASE("known failures: traceback type and message") {
  ExceptionInfo e;
  std::string tb =
      "Traceback (most recent call last):\n"
      "  File \"/opt/xensource/installer/install.py\", line 186, in go\n"
      "    backend.performInstallation(results, ui_package, interactive)\n"
      "RuntimeError: Failed to install bootloader: Installing for i386-pc platform.\n"
      "/usr/sbin/grub-install: error: will not proceed with blocklists.";
  REQUIRE(parse_traceback(tb, 10, e));
  CHECK(e.type == "RuntimeError");
  CHECK(e.line == 13);
  CHECK(e.message ==
        "Failed to install bootloader: Installing for i386-pc platform.\n"
        "/usr/sbin/grub-install: error: will not proceed with blocklists.");
  ExceptionInfo q;
  CHECK(parse_traceback("Traceback (most recent call last):\n  File \"x\", line 1\n"
                        "SettingsNotAvailable: no inventory", 1, q));
  CHECK(q.type == "SettingsNotAvailable");
  CHECK_FALSE(parse_traceback("no traceback here", 1, q));
  CHECK_FALSE(parse_traceback("Traceback (most recent call last):\n  File \"x\"", 1, q));
}

TEST_CASE("known failures: one finding per id, every line listed") {
  KnownFailures k;
  FailureContext ctx;
  const auto* first = k.add({Sig::script_failed, 10, "Script returned 1"}, ctx);
  REQUIRE(first);
  CHECK(first->id == "log.script_failed");
  CHECK(k.add({Sig::script_failed, 20, "Script returned 4"}, ctx) == nullptr);
  REQUIRE(k.all().size() == 1);
  CHECK(k.all()[0].evidence["lines"] == xsguard::Evidence::array({10, 20}));
  CHECK(k.add({Sig::traceback, 30, "Traceback"}, ctx) == nullptr);
  CHECK(k.all().size() == 1);
}

TEST_CASE("known failures: the grub disk learnt later fills in the fix") {
  KnownFailures k;
  FailureContext ctx;
  k.add({Sig::grub_embed, 5, "Embedding is not possible"}, ctx);
  ctx.grub_disk = "/dev/sdb";
  k.add({Sig::grub_embed, 9, "will not proceed with blocklists"}, ctx);
  const auto& f = k.all().at(0);
  CHECK(f.evidence["disk"] == "/dev/sdb");
  CHECK(f.evidence["lines"].size() == 2);
  CHECK(f.remediation[1].argv.back() == "/dev/sdb");
}

TEST_CASE("known failures: stall finding names task, bar and measured progress") {
  StallInfo s;
  s.live = true;
  s.silent_s = 600;
  s.task = "completeUpgrade";
  s.task_index = 16;
  s.tasks_total = 22;
  s.percent = 72;
  s.measured = true;
  s.target_entries = 250000;
  s.source_known = true;
  s.source_entries = 1000000;
  s.rate_per_s = 500;
  s.eta_s = 1500;
  auto f = make_stall_finding({s});
  CHECK(f.id == "log.stall");
  CHECK(f.severity == xsguard::Severity::medium);
  CHECK(f.title.find("10m00s") != std::string::npos);
  CHECK(f.summary.find("72%") != std::string::npos);
  CHECK(f.summary.find("250000 of 1000000") != std::string::npos);
  CHECK(f.evidence["silences"][0]["blobs"]["percent"] == 25);
  CHECK(format_duration(3725) == "1h02m");
  CHECK(format_duration(65) == "1m05s");
}

TEST_CASE("known failures: many silences, the longest listed first") {
  std::vector<StallInfo> v;
  for (int i = 0; i < 8; ++i) {
    StallInfo s;
    s.silent_s = 100 + i;
    s.last_line = uint64_t(i + 1);
    s.task = "writeFstab";
    v.push_back(s);
  }
  v[3].silent_s = 5000;
  v[3].task = "completeUpgrade";
  auto f = make_stall_finding(v);
  CHECK(f.severity == xsguard::Severity::info);
  CHECK(f.evidence["silences"].size() == 5);
  CHECK(f.evidence["silences"][0]["silent_seconds"] == 5000);
  CHECK(f.evidence["silences_not_listed"] == 3);
  CHECK(f.title.find("during completeUpgrade") != std::string::npos);
}
