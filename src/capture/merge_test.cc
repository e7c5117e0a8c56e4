#include "capture/merge.h"

#include <doctest/doctest.h>

#include "capture/collect.h"

using namespace xsguard::capture;
using Outcome = ItemPlan::Outcome;

namespace {

CapturedItem item_of(const char* id, const std::string& path, const std::string& bytes) {
  const ItemSpec* spec = find_spec(id);
  CapturedItem it;
  it.id = id;
  it.path = path;
  it.captured = true;
  Lines lines = split_lines(bytes);
  it.custom_lines = custom_lines_of(*spec, lines);
  if (spec->action == PostAction::iqn) it.custom_lines = {lines.at(0)};
  it.customised = it.custom_lines.empty() ? "no" : spec->stock == StockRule::unknown ? "unknown" : "yes";
  it.mode = 0600;
  return it;
}

FileRead file(const std::string& bytes) {
  FileRead f;
  f.status = FileRead::Status::ok;
  f.bytes = bytes;
  f.mode = 0644;
  return f;
}

FileRead absent() { return FileRead{}; }

ItemPlan plan(const char* id, const std::string& path, const std::string& old, const FileRead& target) {
  return plan_item(*find_spec(id), item_of(id, path, old), &old, target, "stamp");
}

}  // namespace

TEST_CASE("capture merge: fstab lines are added once, conflicts are left alone") {
  const std::string old = "LABEL=root-a / ext3 defaults 1 1\nnas:/b /mnt/b nfs defaults 0 0\n"
                          "/dev/sdb1 /srv ext4 defaults 0 2\n";
  const std::string fresh = "LABEL=root-z / ext3 defaults 1 1\n/dev/sdc1 /srv xfs defaults 0 2\n";
  ItemPlan p = plan("fstab", "etc/fstab", old, file(fresh));
  CHECK(p.outcome == Outcome::write);
  CHECK(p.added == Lines{"nas:/b /mnt/b nfs defaults 0 0"});
  REQUIRE(p.conflicts.size() == 1);
  CHECK(p.conflicts[0].second == "/dev/sdc1 /srv xfs defaults 0 2");
  CHECK(p.new_bytes == fresh + "# stamp\nnas:/b /mnt/b nfs defaults 0 0\n");
  CHECK(p.mode == 0644);  // the target's mode is kept
  CHECK(p.diff.find("+nas:/b /mnt/b nfs") != std::string::npos);
  // Applied once, nothing more to add; the conflict stays reported.
  ItemPlan again = plan("fstab", "etc/fstab", old, file(p.new_bytes));
  CHECK(again.outcome == Outcome::in_place);
  CHECK(again.conflicts.size() == 1);
  // Only stock lines: nothing to do at all.
  CHECK(plan("fstab", "etc/fstab", "LABEL=root-a / ext3 defaults 1 1\n", file(fresh)).note == "not customised");
  // No fstab in the new root: not invented from the old release's.
  CHECK(plan("fstab", "etc/fstab", old, absent()).outcome == Outcome::lost);
}

TEST_CASE("capture merge: rc.local block, kept whole and in order") {
  const std::string old = "#!/bin/bash\n# mine\nif true; then\n  /usr/bin/start\nfi\ntouch /var/lock/subsys/local\n";
  const std::string fresh = "#!/bin/bash\n# stock text\nfi\ntouch /var/lock/subsys/local\n";
  ItemPlan p = plan("rc.local", "etc/rc.d/rc.local", old, file(fresh));
  CHECK(p.outcome == Outcome::write);
  CHECK(p.added == Lines{"if true; then", "  /usr/bin/start", "fi"});
  CHECK(plan("rc.local", "etc/rc.d/rc.local", old, file(p.new_bytes)).outcome == Outcome::in_place);
  ItemPlan created = plan("rc.local", "etc/rc.d/rc.local", old, absent());
  CHECK(created.creates);
  CHECK(created.new_bytes == old);
}

TEST_CASE("capture merge: drop-in files, sysctl keys, the IQN, report-only items") {
  ItemPlan add = plan("cron.d", "etc/cron.d/backup", "0 1 * * * root /opt/b\n", absent());
  CHECK(add.outcome == Outcome::write);
  CHECK(add.creates);
  CHECK(add.mode == 0600);  // the captured mode for a new file
  CHECK(plan("cron.d", "etc/cron.d/backup", "x\n", file("x\n")).outcome == Outcome::in_place);

  ItemPlan sys = plan("sysctl.conf", "etc/sysctl.conf", "vm.swappiness=10\nkernel.panic = 30\n",
                      file("vm.swappiness = 60\n"));
  CHECK(sys.added == Lines{"kernel.panic = 30"});
  CHECK(sys.conflicts.size() == 1);
  CHECK(sys.basis.find("assumed") == 0);

  ItemPlan iqn = plan("iscsi-iqn", "etc/iscsi/initiatorname.iscsi", "InitiatorName=iqn.old:host1\n",
                      file("## generated\nInitiatorName=iqn.new:random\n"));
  CHECK(iqn.outcome == Outcome::write);
  CHECK(iqn.new_bytes == "## generated\nInitiatorName=iqn.old:host1\n");
  CHECK(plan("iscsi-iqn", "etc/iscsi/initiatorname.iscsi", "InitiatorName=iqn.old:host1\n",
             file(iqn.new_bytes)).outcome == Outcome::in_place);

  ItemPlan hosts = plan("hosts", "etc/hosts", "127.0.0.1 localhost\n10.0.0.5 nas\n", file("127.0.0.1 localhost\n"));
  CHECK(hosts.outcome == Outcome::lost);
  CHECK(hosts.missing == Lines{"10.0.0.5 nas"});
  CHECK(plan("hosts", "etc/hosts", "10.0.0.5 nas\n", file("10.0.0.5   nas\n")).outcome == Outcome::in_place);
}

TEST_CASE("capture merge: items the capture could not hold") {
  CapturedItem it;
  it.id = "spool-cron";
  it.path = "var/spool/cron/root";
  it.customised = "unknown";
  it.skipped_why = "not a text file";
  ItemPlan p = plan_item(*find_spec("spool-cron"), it, nullptr, absent(), "stamp");
  CHECK(p.outcome == Outcome::lost);
  it.id = "sysctl.d";
  it.path = "etc/sysctl.d/99-sysctl.conf";
  it.skipped_why = "a symlink to ../sysctl.conf; recorded, not copied";
  CHECK(plan_item(*find_spec("sysctl.d"), it, nullptr, file("x"), "stamp").outcome == Outcome::in_place);
  CHECK(plan_item(*find_spec("sysctl.d"), it, nullptr, absent(), "stamp").outcome == Outcome::lost);
}
