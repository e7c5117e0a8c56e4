#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "commands/pool.h"
#include "xapi/testing/dbgen.h"

using namespace xsguard;
using namespace xsguard::xapi;

namespace {
PoolDb make(const testing::GenSpec& g) {
  std::ostringstream s;
  testing::generate(s, g);
  return build_pool(parse_database(s.str(), pool_projection()));
}
std::vector<std::string> ids(const std::vector<Finding>& fs) {
  std::vector<std::string> out;
  for (const auto& f : fs) out.push_back(f.id);
  return out;
}
bool has(const std::vector<Finding>& fs, const std::string& id) {
  auto v = ids(fs);
  return std::find(v.begin(), v.end(), id) != v.end();
}
const Finding* get(const std::vector<Finding>& fs, const std::string& id) {
  for (const auto& f : fs)
    if (f.id == id) return &f;
  return nullptr;
}
}  // namespace

TEST_CASE("pool xapi findings: a clean pool has none") {
  auto fs = analyse_pool(make({}), {}, {});
  CHECK(fs.empty());
  CHECK(exit_code_for(fs) == kExitClean);
}

TEST_CASE("pool xapi findings: each condition, both encodings") {
  for (bool enc : {false, true}) {
    testing::GenSpec g;
    g.new_encoding = enc;
    g.hosts = 3;
    g.ha = g.wlb = g.mixed_versions = g.missing_update = g.local_vm = g.affinity_vm = true;
    g.metadata_backup = false;
    g.member_copy = true;
    g.host_free = int64_t(512) << 20;  // VMs of 1 GiB, 512 MiB free per host: nothing fits
    auto fs = analyse_pool(make(g), {}, {});
    for (const char* id : {"pool.ha_enabled", "pool.wlb_enabled", "pool.versions_mixed", "pool.updates_mismatch",
                           "pool.vm_not_agile", "pool.local_sr_in_use", "pool.capacity",
                           "pool.no_metadata_backup", "pool.db_stale"})
      CHECK_MESSAGE(has(fs, id), std::string(id));
    CHECK(fs.front().id == "pool.ha_enabled");
    CHECK(fs.front().inhibitor);
    CHECK(exit_code_for(fs) == kExitInhibitor);
    const Finding* upd = get(fs, "pool.updates_mismatch");
    CHECK(upd->evidence["host"]["name"] == "host 2");
    CHECK(upd->evidence["lacks"].size() == 1);
    auto all_ids = ids(fs);
    CHECK(std::count(all_ids.begin(), all_ids.end(), "pool.updates_mismatch") == 1);
    const Finding* cap = get(fs, "pool.capacity");
    CHECK(cap->severity == Severity::high);
    CHECK(cap->evidence["steps"][0]["role"] == "master");
    CHECK(cap->evidence["steps"][0]["shortfall"].get<int64_t>() > 0);
  }
}

TEST_CASE("pool xapi findings: 7.1 pool_update and host.updates") {
  testing::GenSpec g;
  g.use_pool_update = true;
  CHECK(analyse_pool(make(g), {}, {}).empty());
  g.missing_update = true;
  auto fs = analyse_pool(make(g), {}, {});
  REQUIRE(has(fs, "pool.updates_mismatch"));
  // The compatibility pool_patch is folded into its update: one update, not two.
  CHECK(get(fs, "pool.updates_mismatch")->evidence["lacks"].size() == 1);
}

TEST_CASE("pool xapi findings: layout new makes a used local SR an inhibitor") {
  testing::GenSpec g;
  g.local_vm = true;
  PoolOptions o;
  CHECK_FALSE(get(analyse_pool(make(g), {}, o), "pool.local_sr_in_use")->inhibitor);
  o.layout = "new";
  CHECK(get(analyse_pool(make(g), {}, o), "pool.local_sr_in_use")->inhibitor);
}

TEST_CASE("pool xapi findings: unknown memory and single host") {
  testing::GenSpec g;
  g.no_metrics = true;
  auto fs = analyse_pool(make(g), {}, {});
  REQUIRE(has(fs, "pool.capacity"));
  CHECK(get(fs, "pool.capacity")->severity == Severity::low);
  g = {};
  g.hosts = 1;
  fs = analyse_pool(make(g), {}, {});
  REQUIRE(has(fs, "pool.capacity"));
  CHECK(get(fs, "pool.capacity")->severity == Severity::low);
}

TEST_CASE("pool xapi findings: 64 hosts and 5,000 VMs") {
  testing::GenSpec g;
  g.hosts = 64;
  g.vms_per_host = 79;
  PoolDb db = make(g);
  CHECK(db.vms.size() == 64 + 64 * 79);
  CHECK(analyse_pool(db, {}, {}).empty());
  g.host_free = int64_t(1) << 30;  // 79 GiB to place, 63 x 1 GiB free: does not fit
  auto fs = analyse_pool(make(g), {}, {});
  REQUIRE(has(fs, "pool.capacity"));
  CHECK(get(fs, "pool.capacity")->evidence["steps"].size() == 64);
}

static void put(const std::string& path, const std::string& text, mode_t mode = 0644) {
  std::ofstream(path) << text;
  chmod(path.c_str(), mode);
}

TEST_CASE("pool xapi root: member, HA armed, firstboot, inventory, applied updates") {
  char tmpl[] = "/tmp/xsguard-root-XXXXXX";
  std::string root = mkdtemp(tmpl);
  for (const char* d : {"/etc", "/etc/xensource", "/etc/firstboot.d", "/etc/firstboot.d/state", "/var",
                        "/var/lib", "/var/lib/xcp", "/var/update", "/var/update/applied"})
    mkdir((root + d).c_str(), 0755);
  testing::GenSpec g;
  g.hosts = 2;
  PoolDb db = make(g);
  put(root + "/etc/xensource/pool.conf", "slave:10.0.1.1\n");
  put(root + "/var/lib/xcp/local.db", "<config><row key=\"ha.armed\" value=\"true\"/></config>");
  put(root + "/etc/xensource-inventory", "INSTALLATION_UUID='" + db.hosts[1].uuid + "'\n");
  put(root + "/etc/firstboot.d/05-prepare-networking", "#!/bin/sh\n", 0755);
  put(root + "/var/update/applied/11111111-2222-3333-4444-555555555555", "");
  RootFacts f = read_root(root);
  CHECK(f.is_member());
  CHECK(f.ha_armed == true);
  auto fs = analyse_pool(db, f, {});
  CHECK(has(fs, "pool.ha_enabled"));
  CHECK(has(fs, "pool.master_first"));
  CHECK(get(fs, "pool.master_first")->inhibitor);  // the master is on the same version
  const Finding* nu = get(fs, "host.not_upgradeable");
  REQUIRE(nu);
  CHECK(nu->evidence["problems"].size() == 2);  // CONTROL_DOMAIN_UUID, firstboot state
  const Finding* upd = nullptr;
  for (const auto& f : fs)
    if (f.id == "pool.updates_mismatch" && f.evidence.contains("applied_on_disk_not_in_database")) upd = &f;
  REQUIRE(upd);
  CHECK(upd->evidence["host"]["uuid"] == db.hosts[1].uuid);
  CHECK(upd->evidence["applied_on_disk_not_in_database"].size() == 1);
  std::string cmd = "rm -rf '" + root + "'";
  CHECK(system(cmd.c_str()) == 0);
}

TEST_CASE("pool xapi runbook: exact commands with this pool's uuids, both layouts") {
  testing::GenSpec g;
  g.hosts = 3;
  g.local_vm = true;
  PoolDb db = make(g);
  PoolOptions o;
  o.runbook = "markdown";
  auto fs = analyse_pool(db, {}, o);
  std::string rb = render_runbook(db, fs, o);
  CHECK(rb.find("xe host-evacuate uuid=" + db.hosts[0].uuid) != std::string::npos);
  CHECK(rb.find("```sh") != std::string::npos);
  CHECK(rb.find("pool-eject") == std::string::npos);
  CHECK(rb.find("SECRET") == std::string::npos);
  o.layout = "new";
  o.runbook = "text";
  rb = render_runbook(db, analyse_pool(db, {}, o), o);
  CHECK(rb.find("xe pool-eject host-uuid=" + db.hosts[1].uuid) != std::string::npos);
  CHECK(rb.find("xe pool-designate-new-master host-uuid=" + db.hosts[1].uuid) != std::string::npos);
  CHECK(rb.find("xe pool-join master-address=10.0.1.1") != std::string::npos);
  CHECK(rb.find("do NOT create /var/preserve/safe2upgrade") != std::string::npos);  // host 0 local SR used
  CHECK(rb.find("safe2upgrade may be created") != std::string::npos);              // hosts 1, 2 empty
  CHECK(rb.find("serverpath=/export/sr") != std::string::npos);
}

TEST_CASE("pool xapi export: csv quoting and no formulas") {
  testing::GenSpec g;
  g.name_prefix = "=cmd|' /C calc'!A0,\"x\"\n";
  PoolDb db = make(g);
  auto files = export_csv(db);
  REQUIRE(files.count("vms.csv"));
  const std::string& vms = files["vms.csv"];
  CHECK(vms.rfind("name,uuid,power_state", 0) == 0);
  CHECK(vms.find("\"'=cmd|' /C calc'!A0,\"\"x\"\"\n0\"") != std::string::npos);
  for (const char* k : {"hosts.csv", "srs.csv", "vdis.csv", "networks.csv", "pifs.csv", "bonds.csv", "vlans.csv", "updates.csv"})
    CHECK_MESSAGE(files.count(k), k);
  auto j = export_inventory(db);
  CHECK(j["hosts"].size() == 2);
  CHECK(j["updates"][0]["hosts"].size() == 2);
}
