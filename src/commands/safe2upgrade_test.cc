#include "commands/safe2upgrade.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "model/errors.h"
#include "model/testing/disk_builder.h"

using namespace xsguard;
using namespace xsguard::testing;

namespace {

// An XS 6.5 host's database (old whitespace encoding): host h1 (this one) with a local
// LVM SR holding three virtual disks, an NFS SR and a DVD drive; host h2 with its own
// local SR. VM "web  server" and "db" use local disks, "nfs only" does not.
const char* kDb =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<database><manifest><pair key=\"schema_major_vsn\" value=\"5\"/>"
    "<pair key=\"schema_minor_vsn\" value=\"73\"/><pair key=\"generation_count\" value=\"9\"/>"
    "</manifest>"
    "<table name=\"PBD\">"
    "<row ref=\"OpaqueRef:pbd1\" uuid=\"p1\" host=\"OpaqueRef:h1\" SR=\"OpaqueRef:sr1\" "
    "device_config=\"(('device' '/dev/disk/by-id/scsi-SATA_ST1000-part3'))\" currently_attached=\"true\"/>"
    "<row ref=\"OpaqueRef:pbd2\" uuid=\"p2\" host=\"OpaqueRef:h2\" SR=\"OpaqueRef:sr2\" "
    "device_config=\"(('device' '/dev/sda3'))\" currently_attached=\"true\"/>"
    "<row ref=\"OpaqueRef:pbd3\" uuid=\"p3\" host=\"OpaqueRef:h1\" SR=\"OpaqueRef:nfs\" "
    "device_config=\"(('server' '10.0.0.9') ('serverpath' '/sr'))\" currently_attached=\"true\"/>"
    "<row ref=\"OpaqueRef:pbd4\" uuid=\"p4\" host=\"OpaqueRef:h1\" SR=\"OpaqueRef:dvd\" "
    "device_config=\"(('location' '/dev/xapi/cd'))\" currently_attached=\"true\"/>"
    "</table>"
    "<table name=\"SR\">"
    "<row ref=\"OpaqueRef:sr1\" uuid=\"sr1-uuid\" name__label=\"Local storage\" type=\"lvm\" "
    "content_type=\"user\" shared=\"false\" physical_size=\"991614337024\" physical_utilisation=\"75161927680\"/>"
    "<row ref=\"OpaqueRef:sr2\" uuid=\"sr2-uuid\" name__label=\"Local storage on h2\" type=\"lvm\" "
    "content_type=\"user\" shared=\"false\" physical_size=\"1\" physical_utilisation=\"1\"/>"
    "<row ref=\"OpaqueRef:nfs\" uuid=\"nfs-uuid\" name__label=\"NFS\" type=\"nfs\" "
    "content_type=\"\" shared=\"true\" physical_size=\"1\" physical_utilisation=\"1\"/>"
    "<row ref=\"OpaqueRef:dvd\" uuid=\"dvd-uuid\" name__label=\"DVD drives\" type=\"udev\" "
    "content_type=\"iso\" shared=\"false\" physical_size=\"0\" physical_utilisation=\"0\"/>"
    "</table>"
    "<table name=\"VBD\">"
    "<row ref=\"OpaqueRef:b1\" VM=\"OpaqueRef:vm1\" VDI=\"OpaqueRef:d1\" type=\"Disk\" empty=\"false\" userdevice=\"0\"/>"
    "<row ref=\"OpaqueRef:b2\" VM=\"OpaqueRef:vm2\" VDI=\"OpaqueRef:d2\" type=\"Disk\" empty=\"false\" userdevice=\"0\"/>"
    "<row ref=\"OpaqueRef:b3\" VM=\"OpaqueRef:vm2\" VDI=\"OpaqueRef:d4\" type=\"Disk\" empty=\"false\" userdevice=\"1\"/>"
    "<row ref=\"OpaqueRef:b4\" VM=\"OpaqueRef:vm3\" VDI=\"OpaqueRef:d4b\" type=\"Disk\" empty=\"false\" userdevice=\"0\"/>"
    "<row ref=\"OpaqueRef:b5\" VM=\"OpaqueRef:vm4\" VDI=\"OpaqueRef:d5\" type=\"Disk\" empty=\"false\" userdevice=\"0\"/>"
    "<row ref=\"OpaqueRef:b6\" VM=\"OpaqueRef:vm1\" VDI=\"OpaqueRef:NULL\" type=\"CD\" empty=\"true\" userdevice=\"3\"/>"
    "</table>"
    "<table name=\"VDI\">"
    "<row ref=\"OpaqueRef:d1\" uuid=\"d1-uuid\" name__label=\"web%_root\" SR=\"OpaqueRef:sr1\" type=\"user\" "
    "virtual_size=\"21474836480\" is_a_snapshot=\"false\" other_config=\"()\"/>"
    "<row ref=\"OpaqueRef:d2\" uuid=\"d2-uuid\" name__label=\"db data\" SR=\"OpaqueRef:sr1\" type=\"user\" "
    "virtual_size=\"107374182400\" is_a_snapshot=\"false\" other_config=\"()\"/>"
    "<row ref=\"OpaqueRef:d3\" uuid=\"d3-uuid\" name__label=\"unattached\" SR=\"OpaqueRef:sr1\" type=\"user\" "
    "virtual_size=\"1073741824\" is_a_snapshot=\"false\" other_config=\"()\"/>"
    "<row ref=\"OpaqueRef:d4\" uuid=\"d4-uuid\" name__label=\"db logs\" SR=\"OpaqueRef:nfs\" type=\"user\" "
    "virtual_size=\"1\" is_a_snapshot=\"false\" other_config=\"()\"/>"
    "<row ref=\"OpaqueRef:d4b\" uuid=\"d4b-uuid\" name__label=\"shared disk\" SR=\"OpaqueRef:nfs\" type=\"user\" "
    "virtual_size=\"1\" is_a_snapshot=\"false\" other_config=\"()\"/>"
    "<row ref=\"OpaqueRef:d5\" uuid=\"d5-uuid\" name__label=\"h2 disk\" SR=\"OpaqueRef:sr2\" type=\"user\" "
    "virtual_size=\"1\" is_a_snapshot=\"false\" other_config=\"()\"/>"
    "</table>"
    "<table name=\"VM\">"
    "<row ref=\"OpaqueRef:vm1\" uuid=\"vm1-uuid\" name__label=\"web%_server\" power_state=\"Running\" "
    "resident_on=\"OpaqueRef:h1\" is_control_domain=\"false\" is_a_template=\"false\" is_a_snapshot=\"false\"/>"
    "<row ref=\"OpaqueRef:vm2\" uuid=\"vm2-uuid\" name__label=\"db\" power_state=\"Halted\" "
    "resident_on=\"OpaqueRef:NULL\" is_control_domain=\"false\" is_a_template=\"false\" is_a_snapshot=\"false\"/>"
    "<row ref=\"OpaqueRef:vm3\" uuid=\"vm3-uuid\" name__label=\"nfs only\" power_state=\"Running\" "
    "resident_on=\"OpaqueRef:h1\" is_control_domain=\"false\" is_a_template=\"false\" is_a_snapshot=\"false\"/>"
    "<row ref=\"OpaqueRef:vm4\" uuid=\"vm4-uuid\" name__label=\"on h2\" power_state=\"Running\" "
    "resident_on=\"OpaqueRef:h2\" is_control_domain=\"false\" is_a_template=\"false\" is_a_snapshot=\"false\"/>"
    "<row ref=\"OpaqueRef:dom0\" uuid=\"dom0-uuid\" name__label=\"Control domain\" power_state=\"Running\" "
    "resident_on=\"OpaqueRef:h1\" is_control_domain=\"true\" is_a_template=\"false\" is_a_snapshot=\"false\"/>"
    "</table>"
    "<table name=\"host\">"
    "<row ref=\"OpaqueRef:h1\" uuid=\"h1-uuid\" name__label=\"xs65-a\" hostname=\"a\" address=\"10.0.0.1\" enabled=\"true\"/>"
    "<row ref=\"OpaqueRef:h2\" uuid=\"h2-uuid\" name__label=\"xs65-b\" hostname=\"b\" address=\"10.0.0.2\" enabled=\"true\"/>"
    "</table>"
    "<table name=\"pool\">"
    "<row ref=\"OpaqueRef:pool\" uuid=\"pool-uuid\" name_label=\"pool\" master=\"OpaqueRef:h1\" ha_enabled=\"false\"/>"
    "</table>"
    "</database>";

class ScriptedConsole : public Console {
 public:
  bool tty = true;
  std::string answer = "yes";
  int asked = 0;
  bool interactive() const override { return tty; }
  std::string read_line() override {
    ++asked;
    return answer;
  }
};

// Fails the Nth fsync (1-based; 0 = never) and counts them.
class CountingIo : public Io {
 public:
  int fail_fsync_at = 0, fsyncs = 0;
  bool fsync(int fd) override {
    if (++fsyncs == fail_fsync_at) {
      errno = EIO;
      return false;
    }
    return Io::fsync(fd);
  }
};

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/xsguard-s2u-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

void put_file(const std::string& path, const std::string& text) {
  std::system(("mkdir -p '" + path.substr(0, path.rfind('/')) + "'").c_str());
  std::ofstream(path, std::ios::binary) << text;
}

bool exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

// An old root: inventory naming h1, the database in var/xapi (XS 6.x), var/preserve.
// The disk is a GPT image with no XenServer filesystem: whether it converts is unknown,
// so the plan still lists what would be lost.
struct OldRoot {
  TempDir tmp;
  std::string root, file, disk;
  Safe2UpgradeOptions o;
  ScriptedConsole console;
  CountingIo io;
  std::string text;
  explicit OldRoot(const std::string& db = kDb) {
    root = tmp.path + "/root";
    file = root + "/var/preserve/safe2upgrade";
    put_file(root + "/etc/xensource-inventory",
             "PRODUCT_VERSION='6.5.0'\nINSTALLATION_UUID='h1-uuid'\nCONTROL_DOMAIN_UUID='dom0-uuid'\n");
    if (!db.empty()) put_file(root + "/var/xapi/state.db", db);
    std::system(("mkdir -p '" + root + "/var/preserve'").c_str());
    SparseDisk d(8 << 20);
    put_gpt(d, 512, {{kGptLinuxData, 2048, 10000, "data"}});
    disk = tmp.path + "/disk.img";
    std::vector<uint8_t> bytes(d.size());
    d.read(0, bytes.data(), bytes.size());
    put_file(disk, std::string(bytes.begin(), bytes.end()));
    o.root = root;
    o.disk = disk;
  }
  int run() {
    std::ostringstream out;
    int rc = run_safe2upgrade(o, io, console, out);
    text = out.str();
    return rc;
  }
};

const Finding* find(const Report& r, const std::string& id) {
  for (const auto& f : r.findings)
    if (f.id == id) return &f;
  return nullptr;
}

}  // namespace

TEST_CASE("safe2upgrade plan: this host's local SR, its virtual disks and the VMs using them") {
  OldRoot t;
  Report r = plan_safe2upgrade(t.o);
  const Finding* state = find(r, kSafe2UpgradeState);
  REQUIRE(state);
  CHECK(state->evidence["present"] == false);
  CHECK(state->evidence["converts"] == "unknown");
  CHECK(state->summary.find("unknown") != std::string::npos);
  const Finding* d = find(r, kSafe2UpgradeDestroys);
  REQUIRE(d);
  CHECK(d->severity == Severity::high);
  CHECK(!d->inhibitor);
  CHECK(d->evidence["database"]["status"] == "read");
  CHECK(d->evidence["host"]["uuid"] == "h1-uuid");
  REQUIRE(d->evidence["srs"].size() == 1);
  CHECK(d->evidence["srs"][0]["uuid"] == "sr1-uuid");
  CHECK(d->evidence["srs"][0]["device"] == "/dev/disk/by-id/scsi-SATA_ST1000-part3");
  CHECK(d->evidence["srs"][0]["physical_utilisation"] == 75161927680);
  REQUIRE(d->evidence["vdis"].size() == 3);
  CHECK(d->evidence["vdis"][0]["name_label"] == "web  root");  // "%_" decoded
  CHECK(d->evidence["vdis"][1]["virtual_size"] == 107374182400);
  REQUIRE(d->evidence["vms"].size() == 2);  // not "nfs only", not h2's VM, not dom0
  CHECK(d->evidence["vms"][0]["name_label"] == "web  server");
  CHECK(d->evidence["vms"][0]["power_state"] == "Running");
  CHECK(d->evidence["vms"][1]["name_label"] == "db");
  CHECK(d->evidence["vms"][1]["disks"] == nlohmann::ordered_json::array({"db data"}));
  CHECK(d->title.find("\"Local storage\" (3 virtual disks, 2 VMs)") != std::string::npos);
  CHECK(exit_code_for(r.findings) == kExitWarnings);
  CHECK(!exists(t.file));
}

TEST_CASE("safe2upgrade plan: without the inventory a one-host database still names the host; "
          "a pool lists every host's local SR") {
  OldRoot t;
  REQUIRE(unlink((t.root + "/etc/xensource-inventory").c_str()) == 0);
  Report r = plan_safe2upgrade(t.o);
  const Finding* d = find(r, kSafe2UpgradeDestroys);
  REQUIRE(d);
  CHECK(d->evidence["host"].get<std::string>().find("unknown") == 0);
  CHECK(d->evidence["srs"].size() == 2);
  CHECK(d->evidence["vms"].size() == 3);
}

TEST_CASE("safe2upgrade plan: a missing or hostile database is 'unknown', never nothing") {
  const std::string db = kDb;
  const std::string doctype =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE database [\n<!ENTITY a \"aaaa\">\n]>\n" +
      db.substr(db.find("<database>"));
  struct Case {
    const char* name;
    std::string db;
    const char* status;
    const char* says;
  } cases[] = {
      {"missing", "", "missing", "no xapi database"},
      {"truncated", db.substr(0, db.size() / 2), "unreadable", "truncated"},
      {"DTD and entities", doctype, "unreadable", "DTD"},
      {"not XML", "garbage\n", "unreadable", "state.db"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    OldRoot t(c.db);
    Report r = plan_safe2upgrade(t.o);
    const Finding* d = find(r, kSafe2UpgradeDestroys);
    REQUIRE(d);
    CHECK(d->evidence["database"]["status"] == c.status);
    CHECK(d->evidence["database"]["error"].get<std::string>().find(c.says) != std::string::npos);
    for (const char* k : {"host", "srs", "vdis", "vms"}) CHECK(d->evidence[k] == "unknown");
    CHECK(d->summary.find("What it holds is unknown") != std::string::npos);
  }
}

TEST_CASE("safe2upgrade plan: a database behind a symbolic link is not followed") {
  OldRoot t("");
  put_file(t.tmp.path + "/elsewhere.db", kDb);
  REQUIRE(mkdir((t.root + "/var/xapi").c_str(), 0755) == 0);
  REQUIRE(symlink((t.tmp.path + "/elsewhere.db").c_str(), (t.root + "/var/xapi/state.db").c_str()) == 0);
  Report r = plan_safe2upgrade(t.o);
  const Finding* d = find(r, kSafe2UpgradeDestroys);
  REQUIRE(d);
  CHECK(d->evidence["database"]["status"] == "unreadable");
  CHECK(d->evidence["database"]["error"].get<std::string>().find("symbolic link") != std::string::npos);
}

TEST_CASE("safe2upgrade apply: create, second apply is a no-op, remove, second remove too") {
  OldRoot t;
  t.o.apply = true;
  t.console.tty = true;
  REQUIRE(t.run() == 0);
  CHECK(t.console.asked == 1);
  CHECK(t.text.find("Type yes") != std::string::npos);
  CHECK(t.text.find("Created " + t.file) != std::string::npos);
  struct stat st {};
  REQUIRE(lstat(t.file.c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK((st.st_mode & 07777) == 0644);
  CHECK(st.st_size == 0);
  CHECK(t.io.fsyncs == 2);  // the file and its directory

  REQUIRE(t.run() == 0);
  CHECK(t.text.find("already present") != std::string::npos);
  CHECK(t.console.asked == 1);

  // Now present: the plan says the upgrade destroys the SR (an inhibitor, unless the
  // disk is known not to convert).
  t.o.apply = false;
  CHECK(t.run() == kExitWarnings);
  CHECK(t.text.find("safe2upgrade is set on") != std::string::npos);

  t.o.apply = true;
  t.o.remove = true;
  REQUIRE(t.run() == 0);
  CHECK(t.text.find("Removed " + t.file) != std::string::npos);
  CHECK(!exists(t.file));
  REQUIRE(t.run() == 0);
  CHECK(t.text.find("already absent") != std::string::npos);
}

TEST_CASE("safe2upgrade apply: var/preserve missing is created; var missing is refused") {
  OldRoot t;
  REQUIRE(rmdir((t.root + "/var/preserve").c_str()) == 0);
  t.o.apply = t.o.yes = true;
  REQUIRE(t.run() == 0);
  CHECK(exists(t.file));
  CHECK(t.text.find("and its directory") != std::string::npos);

  OldRoot bare("");
  std::system(("rm -rf '" + bare.root + "/var'").c_str());
  bare.o.apply = bare.o.yes = true;
  CHECK_THROWS_AS(bare.run(), RefusedError);
  bare.o.remove = true;
  CHECK(bare.run() == 0);
}

TEST_CASE("safe2upgrade apply: nothing is written before the answer, var/preserve included") {
  OldRoot t;
  REQUIRE(rmdir((t.root + "/var/preserve").c_str()) == 0);
  t.o.apply = true;
  t.console.answer = "";  // Esc in the menu, or an empty line
  CHECK_THROWS_AS(t.run(), RefusedError);
  CHECK(t.console.asked == 1);
  CHECK(!exists(t.root + "/var/preserve"));
  CHECK(t.io.fsyncs == 0);
}

TEST_CASE("safe2upgrade apply: links on the path are refused, nothing is created outside") {
  for (const char* linked : {"var/preserve", "var"}) {
    CAPTURE(linked);
    OldRoot t;
    const std::string outside = t.tmp.path + "/outside";
    std::system(("mkdir -p '" + outside + "/preserve' && rm -rf '" + t.root + "/" + linked + "'").c_str());
    const std::string target = std::string(linked) == "var" ? outside : outside + "/preserve";
    REQUIRE(symlink(target.c_str(), (t.root + "/" + linked).c_str()) == 0);
    t.o.apply = t.o.yes = true;
    CHECK_THROWS_WITH_AS(t.run(), doctest::Contains("symbolic link"), RefusedError);
    CHECK(!exists(outside + "/preserve/safe2upgrade"));
    CHECK(!exists(outside + "/safe2upgrade"));
    t.o.remove = true;
    put_file(outside + "/preserve/safe2upgrade", "");
    CHECK_THROWS_AS(t.run(), RefusedError);
    CHECK(exists(outside + "/preserve/safe2upgrade"));
    // The plan says so instead of looking through the link.
    t.o.apply = false;
    Report r = plan_safe2upgrade(t.o);
    const Finding* s = find(r, kSafe2UpgradeState);
    REQUIRE(s);
    CHECK(s->evidence["present"] == false);
    CHECK(s->evidence.contains("path_problem"));
  }
}

TEST_CASE("safe2upgrade apply: a file name that is a link or a directory") {
  OldRoot t;
  const std::string outside = t.tmp.path + "/target";
  put_file(outside, "keep");
  REQUIRE(symlink(outside.c_str(), t.file.c_str()) == 0);
  t.o.apply = t.o.yes = true;
  REQUIRE(t.run() == 0);  // present (as a link): nothing to do
  CHECK(t.text.find("as a symbolic link") != std::string::npos);
  t.o.remove = true;
  REQUIRE(t.run() == 0);  // removes the link, not what it points at
  CHECK(!exists(t.file));
  CHECK(exists(outside));
  REQUIRE(mkdir(t.file.c_str(), 0755) == 0);
  CHECK_THROWS_AS(t.run(), RefusedError);
}

TEST_CASE("safe2upgrade apply: confirmation") {
  OldRoot t;
  t.o.apply = true;
  t.console.tty = false;
  CHECK_THROWS_AS(t.run(), UsageError);
  CHECK(!exists(t.file));
  t.console.tty = true;
  t.console.answer = "y";
  CHECK_THROWS_AS(t.run(), RefusedError);
  CHECK(!exists(t.file));
  t.o.json = true;
  CHECK_THROWS_AS(t.run(), UsageError);  // the question would mix with the JSON
  t.o.yes = true;
  REQUIRE(t.run() == 0);
  auto j = nlohmann::json::parse(t.text);
  CHECK(j["findings"].back()["id"] == "safe2upgrade.applied");
  CHECK(exists(t.file));
}

TEST_CASE("safe2upgrade apply: a failed fsync removes the file again") {
  for (int at : {1, 2}) {
    CAPTURE(at);
    OldRoot t;
    t.o.apply = t.o.yes = true;
    t.io.fail_fsync_at = at;
    CHECK_THROWS_WITH_AS(t.run(), doctest::Contains("removed again"), std::runtime_error);
    CHECK(!exists(t.file));
  }
}

TEST_CASE("safe2upgrade: a root that is not a directory is exit 66") {
  OldRoot t;
  t.o.root = t.tmp.path + "/nope";
  CHECK_THROWS_AS(plan_safe2upgrade(t.o), InputError);
  t.o.root = t.root;
  t.o.disk = t.tmp.path + "/no-disk.img";
  CHECK_THROWS_AS(plan_safe2upgrade(t.o), InputError);
}
