#include "commands/post.h"

#include <doctest/doctest.h>
#include <ftw.h>

#include <map>
#include <sstream>

#include "capture/testing/tree.h"
#include "commands/capture.h"
#include "model/errors.h"
#include "model/finding.h"

using namespace xsguard;
using xsguard::capture::testing::TempTree;

namespace {

// path -> mode and content (link target for symlinks) of everything under root.
std::map<std::string, std::string>* g_snap;
size_t g_prefix;
std::map<std::string, std::string> snapshot(const TempTree& t) {
  std::map<std::string, std::string> m;
  g_snap = &m;
  g_prefix = t.path().size();
  nftw(
      t.path().c_str(),
      [](const char* p, const struct stat* st, int, struct FTW*) {
        std::string rel = std::string(p).substr(g_prefix);
        std::string v = std::to_string(st->st_mode);
        if (S_ISREG(st->st_mode)) {
          std::ifstream in(p, std::ios::binary);
          std::ostringstream s;
          s << in.rdbuf();
          v += ":" + s.str();
        }
        (*g_snap)[rel] = v;
        return 0;
      },
      16, FTW_PHYS);
  return m;
}

void old_root(const TempTree& t) {
  t.put("etc/xensource-inventory", "INSTALLATION_UUID='abc'\nPRODUCT_VERSION='7.1.0'\n");
  t.put("etc/fstab", "LABEL=root-old / ext3 defaults 1 1\nnas:/b /mnt/b nfs defaults 0 0\n");
  t.put("etc/crontab", "SHELL=/bin/bash\n*/5 * * * * root /usr/local/bin/check\n");
  t.put("etc/cron.d/backup", "0 1 * * * root /opt/backup\n");
  t.put("etc/rc.d/rc.local", "#!/bin/bash\ntouch /var/lock/subsys/local\n/usr/local/bin/start\n", 0755);
  t.put("etc/sysctl.d/90-mine.conf", "net.core.rmem_max = 1000000\n");
  t.put("etc/modprobe.d/mine.conf", "options bnx2x disable_tpa=1\n");
  t.put("etc/iscsi/initiatorname.iscsi", "InitiatorName=iqn.2017-01.com.example:h1\n");
  t.put("etc/hosts", "127.0.0.1 localhost\n10.0.0.5 nas\n");
}

void new_root(const TempTree& t) {
  t.put("etc/fstab", "LABEL=root-new / ext3 defaults 1 1\n");
  t.put("etc/crontab", "SHELL=/bin/bash\n");
  t.put("etc/rc.d/rc.local", "#!/bin/bash\ntouch /var/lock/subsys/local\n", 0644);
  t.put("etc/iscsi/initiatorname.iscsi", "InitiatorName=iqn.2020-01.com.xenserver:generated\n");
  t.put("etc/hosts", "127.0.0.1 localhost\n");
  t.put("usr/lib/systemd/system/rc-local.service", "[Unit]\n");
  t.put("usr/lib/systemd/system-generators/systemd-rc-local-generator", "#!/bin/sh\n", 0755);
}

}  // namespace

TEST_CASE("post: capture, dry run, apply, apply again") {
  TempTree old, fresh, out;
  old_root(old);
  new_root(fresh);
  std::ostringstream log;
  CaptureOptions c{old.path(), out / "cap.tgz", false};
  CHECK(run_capture(c, system_io(), log) == kExitClean);

  auto before = snapshot(fresh);
  PostOptions p{fresh.path(), out / "cap.tgz", false, true};
  std::ostringstream dry;
  CHECK(run_post(p, system_io(), dry) == kExitWarnings);
  CHECK(snapshot(fresh) == before);  // the dry run changes nothing
  CHECK(dry.str().find("post.rc_local_disabled") != std::string::npos);
  CHECK(dry.str().find("+nas:/b /mnt/b nfs defaults 0 0") != std::string::npos);

  p.apply = true;
  std::ostringstream applied;
  int rc = run_post(p, system_io(), applied);
  CHECK(rc == kExitWarnings);  // etc/hosts is report-only: still lost
  CHECK(fresh.get("etc/fstab").find("nas:/b /mnt/b nfs defaults 0 0") != std::string::npos);
  CHECK(fresh.get("etc/crontab").find("*/5 * * * * root /usr/local/bin/check") != std::string::npos);
  CHECK(fresh.get("etc/cron.d/backup") == "0 1 * * * root /opt/backup\n");
  CHECK(fresh.get("etc/rc.d/rc.local").find("/usr/local/bin/start") != std::string::npos);
  CHECK((fresh.mode("etc/rc.d/rc.local") & 0100) != 0);
  CHECK(fresh.get("etc/sysctl.d/90-mine.conf") == "net.core.rmem_max = 1000000\n");
  CHECK(fresh.get("etc/modprobe.d/mine.conf") == "options bnx2x disable_tpa=1\n");
  CHECK(fresh.get("etc/iscsi/initiatorname.iscsi") == "InitiatorName=iqn.2017-01.com.example:h1\n");
  CHECK(fresh.get("etc/hosts") == "127.0.0.1 localhost\n");  // never written
  CHECK(applied.str().find("post.rc_local_disabled") == std::string::npos);
  CHECK(applied.str().find("\"path\": \"etc/hosts\"") != std::string::npos);

  auto after = snapshot(fresh);
  std::ostringstream again;
  CHECK(run_post(p, system_io(), again) == kExitWarnings);
  CHECK(snapshot(fresh) == after);  // a second post changes nothing
  CHECK(again.str().find("\"outcome\": \"written\"") == std::string::npos);
}

TEST_CASE("post: a line the new release sets differently is a conflict, not clobbered") {
  TempTree old, fresh, out;
  old_root(old);
  old.put("etc/sysctl.conf", "vm.swappiness = 10\n");
  new_root(fresh);
  fresh.put("etc/sysctl.conf", "vm.swappiness = 60\n");
  std::ostringstream log;
  CHECK(run_capture({old.path(), out / "cap.tgz", true}, system_io(), log) == kExitClean);
  std::ostringstream r;
  run_post({fresh.path(), out / "cap.tgz", true, true}, system_io(), r);
  CHECK(fresh.get("etc/sysctl.conf") == "vm.swappiness = 60\n");
  CHECK(r.str().find("post.conflict") != std::string::npos);
}

TEST_CASE("post: rc.local alone, without a capture") {
  TempTree fresh;
  new_root(fresh);
  std::ostringstream r;
  CHECK(run_post({fresh.path(), "", false, false}, system_io(), r) == kExitWarnings);
  CHECK((fresh.mode("etc/rc.d/rc.local") & 0100) == 0);
  CHECK(run_post({fresh.path(), "", true, false}, system_io(), r) == kExitClean);
  CHECK((fresh.mode("etc/rc.d/rc.local") & 0100) != 0);
  // No rc-local.service in the target: it cannot run, whatever its mode.
  ::remove((fresh / "usr/lib/systemd/system/rc-local.service").c_str());
  std::ostringstream r2;
  CHECK(run_post({fresh.path(), "", true, false}, system_io(), r2) == kExitWarnings);
  CHECK(r2.str().find("no rc-local.service") != std::string::npos);
}

TEST_CASE("post and capture: usage and input errors") {
  TempTree t, out;
  std::ostringstream r;
  CHECK_THROWS_AS(run_post({t / "missing", "", false, false}, system_io(), r), InputError);
  CHECK_THROWS_AS(run_post({t.path(), "", false, false}, system_io(), r), InputError);  // no etc/
  t.mkdirs("etc");
  CHECK_THROWS_AS(run_post({t.path(), t / "nope.tgz", false, false}, system_io(), r), InputError);
  CHECK_THROWS_AS(run_capture({t / "missing", out / "c.tgz", false}, system_io(), r), InputError);
  CHECK(run_capture({t.path(), out / "c.tgz", false}, system_io(), r) == kExitClean);
  CHECK_THROWS_AS(run_capture({t.path(), out / "c.tgz", false}, system_io(), r), RefusedError);
}
