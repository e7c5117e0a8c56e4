#include "commands/pool.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fmt/format.h>
#include <ostream>
#include <pugixml.hpp>
#include <set>
#include <sstream>

#include "model/errors.h"
#include "probe/io.h"
#include "xapi/database.h"

namespace xsguard {

using namespace xapi;

// ---------------------------------------------------------------- the old root

std::string RootFacts::this_host_uuid() const {
  auto it = inventory.find("INSTALLATION_UUID");
  return it == inventory.end() ? "" : it->second;
}

static bool is_file(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
static bool is_dir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
static std::vector<std::string> list_dir(const std::string& p) {
  std::vector<std::string> out;
  DIR* d = ::opendir(p.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}
static std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

RootFacts read_root(const std::string& dir) {
  RootFacts f;
  if (!is_dir(dir)) throw InputError(dir + ": not a directory");
  f.present = true;
  f.dir = dir;
  for (const char* rel : {"/var/lib/xcp/state.db", "/var/xapi/state.db"})
    if (is_file(dir + rel)) {
      f.db_path = dir + rel;
      break;
    }
  if (is_file(dir + "/var/lib/xcp/local.db")) {
    std::string text = read_small_file(dir + "/var/lib/xcp/local.db", 4 << 20);
    pugi::xml_document doc;
    // Default options: no DOCTYPE processing, no entity expansion beyond the five.
    if (doc.load_buffer(text.data(), text.size()))
      for (pugi::xml_node row : doc.document_element().children("row"))
        if (std::string(row.attribute("key").value()) == "ha.armed")
          f.ha_armed = std::string(row.attribute("value").value()) == "true";
  }
  if (is_file(dir + "/etc/xensource/pool.conf")) {
    std::string t = read_small_file(dir + "/etc/xensource/pool.conf", 64 << 10);
    f.pool_conf = trim(t.substr(0, t.find('\n')));
  }
  if (is_file(dir + "/etc/xensource-inventory")) {
    f.inventory_found = true;
    std::istringstream in(read_small_file(dir + "/etc/xensource-inventory", 1 << 20));
    std::string line;
    while (std::getline(in, line)) {
      size_t eq = line.find('=');
      if (eq == std::string::npos) continue;
      std::string k = trim(line.substr(0, eq)), v = trim(line.substr(eq + 1));
      if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front())
        v = v.substr(1, v.size() - 2);
      f.inventory[k] = v;
    }
  }
  if (is_dir(dir + "/var/update/applied")) {
    f.applied_dir_found = true;
    for (const auto& n : list_dir(dir + "/var/update/applied"))
      if (is_file(dir + "/var/update/applied/" + n)) f.applied.push_back(n);
  }
  std::string fb = dir + "/etc/firstboot.d";
  if (is_dir(fb)) {
    f.firstboot_found = true;
    for (const auto& n : list_dir(fb)) {
      if (n.empty() || n[0] < '0' || n[0] > '9') continue;
      std::string p = fb + "/" + n;
      struct stat st;
      if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111)) continue;
      if (!is_file(fb + "/state/" + n)) f.firstboot_missing_state.push_back(n);
    }
  }
  return f;
}

// ---------------------------------------------------------------- analysis helpers

static std::string mib(int64_t bytes) {
  return fmt::format("{} MiB", (bytes + (1 << 20) - 1) >> 20);
}
static std::string host_label(const PoolDb& db, std::string_view ref) {
  const Host* h = db.host(ref);
  return h ? h->name : std::string("(unknown host)");
}
static bool counts_as_guest(const VM& v) {
  return !v.is_template && !v.is_control_domain && !v.is_snapshot;
}

std::map<std::string, AgilityIssue> non_agile_vms(const PoolDb& db) {
  std::multimap<std::string, const VBD*> by_vm;
  for (const auto& b : db.vbds) by_vm.emplace(b.vm, &b);
  std::map<std::string, AgilityIssue> out;
  for (const auto& v : db.vms) {
    if (!counts_as_guest(v)) continue;
    if (!v.live() && v.power_state != "Suspended") continue;
    AgilityIssue issue;
    auto [lo, hi] = by_vm.equal_range(v.ref);
    for (auto it = lo; it != hi; ++it) {
      const VBD& b = *it->second;
      if (b.empty || b.vdi.empty()) continue;
      const VDI* d = db.vdi(b.vdi);
      const SR* s = d ? db.sr(d->sr) : nullptr;
      if (!s || s->shared) continue;
      issue.reasons.push_back(fmt::format("{} {} \"{}\" on local SR \"{}\" ({})", b.type.empty() ? "disk" : b.type,
                                          b.userdevice, d->name, s->name, s->type));
      issue.local_storage = true;
    }
    if (v.power_state == "Suspended" && !v.suspend_vdi.empty()) {
      const VDI* d = db.vdi(v.suspend_vdi);
      const SR* s = d ? db.sr(d->sr) : nullptr;
      if (s && !s->shared) {
        issue.reasons.push_back(fmt::format("suspend image on local SR \"{}\"", s->name));
        issue.local_storage = true;
      }
    }
    if (!v.affinity.empty())
      issue.reasons.push_back(fmt::format("pinned to host \"{}\" by affinity", host_label(db, v.affinity)));
    if (!issue.reasons.empty()) out.emplace(v.ref, std::move(issue));
  }
  return out;
}

CapacityPlan plan_capacity(const PoolDb& db) {
  CapacityPlan plan;
  for (const auto& h : db.hosts)
    if (h.memory_free < 0) plan.unknown.push_back(h.ref);
  plan.known = plan.unknown.empty();
  auto agility = non_agile_vms(db);
  for (const auto& out_host : db.hosts) {
    CapacityStep step;
    step.host = out_host.ref;
    std::vector<const VM*> movers;
    for (const auto& v : db.vms) {
      if (!counts_as_guest(v) || !v.live() || v.resident_on != out_host.ref) continue;
      auto a = agility.find(v.ref);
      if (a != agility.end() && a->second.local_storage) {
        step.stuck.push_back(v.ref);
        continue;
      }
      movers.push_back(&v);
      step.need += v.memory_need();
    }
    std::stable_sort(movers.begin(), movers.end(),
                     [](const VM* a, const VM* b) { return a->memory_need() > b->memory_need(); });
    std::vector<std::pair<int64_t, const Host*>> free;
    for (const auto& h : db.hosts)
      if (h.ref != out_host.ref && h.enabled) {
        int64_t f = std::max<int64_t>(h.memory_free, 0);
        free.emplace_back(f, &h);
        step.free_elsewhere += f;
      }
    for (const VM* v : movers) {
      // The host with the most free memory left takes the next largest VM.
      auto best = std::max_element(free.begin(), free.end(), [](const auto& a, const auto& b) {
        return a.first < b.first;
      });
      if (best != free.end() && best->first >= v->memory_need()) {
        best->first -= v->memory_need();
        step.placed.emplace_back(v->ref, best->second->ref);
      } else {
        step.unplaced.push_back(v->ref);
        step.shortfall += v->memory_need();
      }
    }
    plan.steps.push_back(std::move(step));
  }
  return plan;
}

// ---------------------------------------------------------------- findings

static Evidence host_ev(const Host& h) {
  Evidence e = Evidence::object();
  e["name"] = h.name;
  e["uuid"] = h.uuid;
  return e;
}

static std::vector<std::string> update_names(const PoolDb& db, const std::vector<std::string>& uuids) {
  std::vector<std::string> out;
  for (const auto& u : uuids) {
    const Update* x = db.update(u);
    out.push_back(x && !x->name.empty() ? fmt::format("{} ({})", x->name, u) : u);
  }
  return out;
}

std::vector<Finding> analyse_pool(const PoolDb& db, const RootFacts& root, const PoolOptions& opt) {
  std::vector<Finding> fs;
  const Host* master = db.master();
  const bool layout_new = opt.layout == "new";
  const std::string pool_name = db.pool.name.empty() ? db.pool.uuid : db.pool.name;

  // HA
  if (db.pool.ha_enabled || (root.ha_armed && *root.ha_armed)) {
    Finding f;
    f.id = "pool.ha_enabled";
    f.severity = Severity::high;
    f.inhibitor = true;
    f.title = "High availability is enabled";
    f.summary = "HA must be disabled before any host of the pool is upgraded; the installer "
                "refuses to upgrade a host whose HA is armed.";
    f.evidence["pool"] = pool_name;
    f.evidence["pool_ha_enabled"] = db.pool.ha_enabled;
    if (root.ha_armed) f.evidence["local_db_ha_armed"] = *root.ha_armed;
    f.resources.push_back("pool " + db.pool.uuid);
    f.remediation.push_back(Remediation::command("disable HA on the pool (run on the master)",
                                                 {"xe", "pool-ha-disable"}));
    fs.push_back(std::move(f));
  }
  // WLB
  if (db.pool.wlb_enabled.value_or(false)) {
    Finding f;
    f.id = "pool.wlb_enabled";
    f.severity = Severity::high;
    f.title = "Workload Balancing is enabled";
    f.summary = "WLB moves VMs on its own and fights the evacuation of the host being "
                "upgraded; disable it for the duration of the upgrade.";
    f.evidence["pool"] = pool_name;
    if (!db.pool.wlb_url.empty()) f.evidence["wlb_url"] = db.pool.wlb_url;
    f.resources.push_back("pool " + db.pool.uuid);
    f.remediation.push_back(Remediation::command(
        "disable WLB (run on the master)",
        {"xe", "pool-param-set", "uuid=" + db.pool.uuid, "wlb-enabled=false"}));
    fs.push_back(std::move(f));
  }
  // Versions
  {
    std::set<std::string> versions;
    for (const auto& h : db.hosts) versions.insert(h.product_version + "/" + h.build_number);
    if (versions.size() > 1) {
      Finding f;
      f.id = "pool.versions_mixed";
      f.severity = Severity::high;
      f.title = "Hosts run different versions";
      f.summary = "The pool is part-way through an upgrade: finish upgrading every host to the "
                  "same version and build before anything else. A mixed pool cannot take new "
                  "members.";
      auto& hosts = f.evidence["hosts"] = Evidence::array();
      for (const auto& h : db.hosts) {
        Evidence e = host_ev(h);
        e["product_version"] = h.product_version;
        e["build_number"] = h.build_number;
        hosts.push_back(std::move(e));
        f.resources.push_back(h.name);
      }
      f.remediation.push_back(Remediation::hint(
          "upgrade the hosts still on the older version, the master first if it is one of them"));
      fs.push_back(std::move(f));
    }
  }
  // Updates
  {
    std::map<std::string, std::set<std::string>> have;  // host ref -> uuids
    for (const auto& h : db.hosts) {
      auto it = db.applied.find(h.ref);
      if (it != db.applied.end()) have[h.ref].insert(it->second.begin(), it->second.end());
      else have[h.ref];
    }
    const Host* self = root.present ? db.host_by_uuid(root.this_host_uuid()) : nullptr;
    std::vector<std::string> disk_only, db_only;
    if (self && root.applied_dir_found) {
      std::set<std::string> disk(root.applied.begin(), root.applied.end());
      for (const auto& u : disk)
        if (!have[self->ref].count(u)) disk_only.push_back(u);
      for (const auto& u : have[self->ref])
        if (!disk.count(u) && db.update(u) && db.update(u)->source == "pool_update") db_only.push_back(u);
      have[self->ref].insert(disk.begin(), disk.end());
    }
    std::set<std::string> all;
    for (const auto& [h, s] : have) all.insert(s.begin(), s.end());
    for (const auto& h : db.hosts) {
      const auto& mine = have[h.ref];
      std::vector<std::string> lacks, extra;
      for (const auto& u : all)
        if (!mine.count(u)) lacks.push_back(u);
      // "Extra": this host is among the minority that has it.
      for (const auto& u : mine) {
        size_t with = 0;
        for (const auto& o : db.hosts) with += have[o.ref].count(u);
        if (with * 2 < db.hosts.size()) extra.push_back(u);
      }
      bool is_self = self && self->ref == h.ref;
      if (lacks.empty() && extra.empty() && !(is_self && (!disk_only.empty() || !db_only.empty())))
        continue;
      Finding f;
      f.id = "pool.updates_mismatch";
      f.severity = Severity::high;
      f.title = fmt::format("Host \"{}\" does not have the same updates as the rest of the pool", h.name);
      f.summary = "Every host must carry the identical list of hotfixes and updates before a "
                  "rolling pool upgrade.";
      f.evidence["host"] = host_ev(h);
      f.evidence["lacks"] = update_names(db, lacks);
      f.evidence["extra"] = update_names(db, extra);
      if (is_self) {
        f.evidence["applied_on_disk_not_in_database"] = disk_only;
        f.evidence["in_database_not_on_disk"] = db_only;
      }
      f.resources.push_back(h.name);
      if (!lacks.empty())
        f.remediation.push_back(Remediation::hint(fmt::format(
            "apply the {} missing update(s) to {} (xe patch-apply / xe update-apply), or remove "
            "the extra ones elsewhere", lacks.size(), h.name)));
      else
        f.remediation.push_back(Remediation::hint(
            "apply these updates to the other hosts too, so that every host has the same list"));
      fs.push_back(std::move(f));
    }
  }
  // Agility
  auto agility = non_agile_vms(db);
  if (!agility.empty()) {
    Finding f;
    f.id = "pool.vm_not_agile";
    f.severity = Severity::high;
    f.title = fmt::format("{} running or suspended VM(s) cannot move freely", agility.size());
    f.summary = "A VM with a disk or suspend image on a non-shared SR cannot be migrated off its "
                "host; one pinned by affinity will be placed back there. Move their disks to "
                "shared storage or shut them down before upgrading their host.";
    auto& vms = f.evidence["vms"] = Evidence::array();
    for (const auto& v : db.vms) {
      auto it = agility.find(v.ref);
      if (it == agility.end()) continue;
      Evidence e = Evidence::object();
      e["name"] = v.name;
      e["uuid"] = v.uuid;
      e["power_state"] = v.power_state;
      e["host"] = v.resident_on.empty() ? "" : host_label(db, v.resident_on);
      e["reasons"] = it->second.reasons;
      vms.push_back(std::move(e));
      f.resources.push_back(v.name);
    }
    f.remediation.push_back(Remediation::hint(
        "move the disks to a shared SR (xe vm-migrate ... vdi:<vdi-uuid>=<sr-uuid>) or shut the "
        "VM down; clear affinity with xe vm-param-set uuid=<vm> affinity="));
    fs.push_back(std::move(f));
  }
  // Local SRs in use
  {
    std::multimap<std::string, const VBD*> by_vdi;
    for (const auto& b : db.vbds) by_vdi.emplace(b.vdi, &b);
    for (const auto& h : db.hosts) {
      for (const auto& pbd : db.pbds) {
        if (pbd.host != h.ref) continue;
        const SR* s = db.sr(pbd.sr);
        if (!s || !s->is_local_disk_sr()) continue;
        Evidence vdis = Evidence::array();
        std::set<std::string> vm_names;
        for (const auto& d : db.vdis) {
          if (d.sr != s->ref) continue;
          Evidence e = Evidence::object();
          e["name"] = d.name;
          e["uuid"] = d.uuid;
          e["virtual_size"] = d.virtual_size;
          std::vector<std::string> users;
          auto [lo, hi] = by_vdi.equal_range(d.ref);
          for (auto it = lo; it != hi; ++it)
            if (const VM* v = db.vm(it->second->vm)) {
              users.push_back(v->name);
              if (!v->is_template && !v->is_snapshot) vm_names.insert(v->name);
            }
          e["vms"] = users;
          vdis.push_back(std::move(e));
        }
        if (vdis.empty()) continue;
        Finding f;
        f.id = "pool.local_sr_in_use";
        f.severity = layout_new ? Severity::high : Severity::medium;
        f.inhibitor = layout_new;
        f.title = fmt::format("Local SR \"{}\" on host \"{}\" holds {} VDI(s)", s->name, h.name, vdis.size());
        f.summary = "Upgrading this host to the new partition layout (safe2upgrade) re-creates its "
                    "local SR empty: every VDI on it is destroyed. Keep the old layout, or move or "
                    "export these disks first.";
        f.evidence["host"] = host_ev(h);
        f.evidence["sr"] = Evidence{{"name", s->name}, {"uuid", s->uuid}, {"type", s->type}};
        if (auto dev = map_get(pbd.device_config, "device")) f.evidence["device"] = *dev;
        f.evidence["vdis"] = std::move(vdis);
        f.evidence["vms"] = std::vector<std::string>(vm_names.begin(), vm_names.end());
        f.resources = {h.name, "SR " + s->uuid};
        f.remediation.push_back(Remediation::hint(
            "do not create /var/preserve/safe2upgrade on this host until the SR is empty"));
        fs.push_back(std::move(f));
      }
    }
  }
  // Capacity
  {
    CapacityPlan plan = plan_capacity(db);
    Finding f;
    f.id = "pool.capacity";
    f.title = "Not enough free memory to evacuate each host in turn";
    if (!plan.known) {
      f.severity = Severity::low;
      f.title = "Cannot check whether each host can be evacuated";
      f.summary = "The database has no memory figures (host_metrics) for some hosts.";
      std::vector<std::string> names;
      for (const auto& r : plan.unknown) names.push_back(host_label(db, r));
      f.evidence["hosts_without_memory_figures"] = names;
      f.remediation.push_back(Remediation::hint("read the database of the master while the pool is running"));
      fs.push_back(std::move(f));
    } else {
      auto& steps = f.evidence["steps"] = Evidence::array();
      for (const auto& st : plan.steps) {
        if (st.unplaced.empty()) continue;
        Evidence e = Evidence::object();
        e["host"] = host_label(db, st.host);
        e["role"] = st.host == db.pool.master ? "master" : "member";
        e["memory_needed"] = st.need;
        e["memory_free_elsewhere"] = st.free_elsewhere;
        e["shortfall"] = st.shortfall;
        e["shortfall_text"] = mib(st.shortfall);
        std::vector<std::string> names;
        for (const auto& r : st.unplaced) names.push_back(db.vm(r)->name);
        e["vms_that_do_not_fit"] = names;
        steps.push_back(std::move(e));
        f.resources.push_back(host_label(db, st.host));
      }
      if (!steps.empty()) {
        bool single = db.hosts.size() == 1;
        f.severity = single ? Severity::low : Severity::high;
        const auto& first = steps.front();
        f.summary = single ? "A pool of one host has nowhere to move its running VMs: they will "
                             "be shut down during the upgrade."
                           : fmt::format("With host \"{}\" out of the pool its running VMs need {} "
                                         "more than the other hosts have free.",
                                         first["host"].get<std::string>(),
                                         first["shortfall_text"].get<std::string>());
        f.remediation.push_back(Remediation::hint(
            "shut down or move VMs that are not needed during the upgrade, or add memory or a host"));
        fs.push_back(std::move(f));
      }
    }
  }
  // Metadata backup
  {
    bool found = false;
    Evidence near = Evidence::array();
    for (const auto& d : db.vdis) {
      bool marked = map_get(d.other_config, "ctxs-pool-backup").value_or("") == "true";
      bool named = d.name == "Pool Metadata Backup";
      if (!marked && !named) continue;
      const SR* s = db.sr(d.sr);
      if (marked && s && s->shared && !d.is_snapshot) {
        found = true;
        break;
      }
      near.push_back(Evidence{{"vdi", d.uuid}, {"name", d.name}, {"marked", marked},
                              {"sr_shared", s && s->shared}});
    }
    if (!found) {
      Finding f;
      f.id = "pool.no_metadata_backup";
      f.severity = Severity::medium;
      f.title = "No pool metadata backup on shared storage";
      f.summary = "There is no \"Pool Metadata Backup\" VDI (other-config ctxs-pool-backup=true) on "
                  "a shared SR; back the metadata up before the upgrade.";
      if (!near.empty()) f.evidence["candidates_not_counted"] = std::move(near);
      std::string shared_sr;
      if (const SR* d = db.sr(db.pool.default_sr); d && d->shared && d->content_type != "iso") shared_sr = d->uuid;
      for (const auto& s : db.srs)
        if (shared_sr.empty() && s.shared && s.content_type != "iso" && s.type != "iso") shared_sr = s.uuid;
      if (!shared_sr.empty())
        f.remediation.push_back(Remediation::command(
            "back the pool metadata up to a shared SR (on the master)",
            {"xe-backup-metadata", "-c", "-u", shared_sr}));
      f.remediation.push_back(Remediation::command(
          "and keep a copy of the database off the pool",
          {"xe", "pool-dump-database", "file-name=pool-database-before-upgrade.db"}));
      fs.push_back(std::move(f));
    }
  }
  // Stale copy
  {
    auto pc = db.manifest.find("pool_conf");
    bool manifest_member = pc != db.manifest.end() && pc->second.rfind("slave:", 0) == 0;
    bool root_member = root.present && root.is_member() && !root.db_path.empty() && opt.db.empty();
    if (manifest_member || root_member) {
      Finding f;
      f.id = "pool.db_stale";
      f.severity = Severity::medium;
      f.title = "This is a pool member's copy of the database";
      f.summary = "Members keep a periodically synchronised copy; the master's is authoritative. "
                  "Findings may be out of date: check again with the master's database "
                  "(xe pool-dump-database on the master).";
      f.evidence["pool_conf"] = manifest_member ? pc->second : *root.pool_conf;
      if (master) f.evidence["master"] = host_ev(*master);
      f.remediation.push_back(Remediation::command(
          "dump the authoritative database on the master", {"xe", "pool-dump-database", "file-name=pool.db"}));
      fs.push_back(std::move(f));
    }
  }
  // Root facts
  if (root.present) {
    if (root.is_member()) {
      const Host* self = db.host_by_uuid(root.this_host_uuid());
      bool master_not_newer = master && self && master->product_version == self->product_version &&
                              master->build_number == self->build_number;
      Finding f;
      f.id = "pool.master_first";
      f.severity = master_not_newer ? Severity::high : Severity::medium;
      f.inhibitor = master_not_newer;
      f.title = "This host is a pool member: upgrade the master first";
      f.summary = master_not_newer
                      ? "The master is still on this host's version; the installer will not "
                        "upgrade a member before its master."
                      : "Make sure the master has been upgraded before this host.";
      f.evidence["pool_conf"] = *root.pool_conf;
      if (master) {
        f.evidence["master"] = host_ev(*master);
        f.evidence["master_version"] = master->product_version + " " + master->build_number;
      }
      if (self) f.evidence["this_host"] = host_ev(*self);
      if (master) f.resources.push_back(master->name);
      fs.push_back(std::move(f));
    }
    std::vector<std::string> problems;
    if (!root.inventory_found) problems.push_back("etc/xensource-inventory is missing");
    else
      for (const char* k : {"INSTALLATION_UUID", "CONTROL_DOMAIN_UUID"})
        if (root.inventory.count(k) == 0 || root.inventory.at(k).empty())
          problems.push_back(std::string("etc/xensource-inventory lacks ") + k);
    for (const auto& s : root.firstboot_missing_state)
      problems.push_back("etc/firstboot.d/" + s + " has no state file in etc/firstboot.d/state");
    if (!problems.empty()) {
      Finding f;
      f.id = "host.not_upgradeable";
      f.severity = Severity::high;
      f.inhibitor = true;
      f.title = "The installer will not recognise this installation as upgradeable";
      f.summary = "The installer checks the inventory and that every first-boot script has run; "
                  "it stops with \"Upgradeability test failed\" otherwise.";
      f.evidence["problems"] = problems;
      f.resources.push_back(root.dir);
      f.remediation.push_back(Remediation::hint(
          "boot the host normally once so its first-boot scripts complete, and check "
          "etc/xensource-inventory"));
      fs.push_back(std::move(f));
    }
  }
  sort_findings(fs);
  return fs;
}

// ---------------------------------------------------------------- runbook

namespace {

std::string shq(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789-_./=:,+@") == std::string::npos)
    return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// One line of text for a document: names may hold newlines or control characters.
std::string oneline(const std::string& s) {
  std::string o;
  for (char c : s) o += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  return o;
}

class Doc {
 public:
  explicit Doc(bool md) : md_(md) {}
  void h1(const std::string& t) {
    if (md_) out_ << "# " << t << "\n\n";
    else out_ << t << '\n' << std::string(t.size(), '=') << "\n\n";
  }
  void h2(const std::string& t) {
    if (md_) out_ << "## " << t << "\n\n";
    else out_ << t << '\n' << std::string(t.size(), '-') << "\n\n";
  }
  void h3(const std::string& t) {
    if (md_) out_ << "### " << t << "\n\n";
    else out_ << "* " << t << "\n\n";
  }
  void para(const std::string& t) { out_ << t << "\n\n"; }
  void item(const std::string& t) { out_ << (md_ ? "- " : "  - ") << t << '\n'; }
  void end_list() { out_ << '\n'; }
  void cmds(const std::vector<std::string>& lines) {
    if (lines.empty()) return;
    if (md_) {
      out_ << "```sh\n";
      for (const auto& l : lines) out_ << l << '\n';
      out_ << "```\n\n";
    } else {
      for (const auto& l : lines) out_ << (l.rfind("#", 0) == 0 ? "    " : "    $ ") << l << '\n';
      out_ << '\n';
    }
  }
  std::string str() const { return out_.str(); }

 private:
  bool md_;
  std::ostringstream out_;
};

std::string redact(const std::string& key, const std::string& value) {
  std::string k = key;
  std::transform(k.begin(), k.end(), k.begin(), ::tolower);
  if (k.find("password") != std::string::npos || k.find("secret") != std::string::npos)
    return "<redacted>";
  return value;
}

}  // namespace

std::string render_runbook(const PoolDb& db, const std::vector<Finding>& findings, const PoolOptions& opt) {
  const bool md = opt.runbook == "markdown";
  const bool layout_new = opt.layout == "new";
  Doc d(md);
  const Host* master = db.master();
  std::string pool_name = oneline(db.pool.name.empty() ? "(unnamed pool)" : db.pool.name);
  d.h1(fmt::format("Upgrade runbook for pool \"{}\"", pool_name));
  d.para(fmt::format("Pool uuid {}, {} host(s), database schema {}, generation {}. Layout: {}.",
                     db.pool.uuid, db.hosts.size(), db.schema.empty() ? "?" : db.schema,
                     db.generation, layout_new ? "new (eject, clean install, rejoin)" : "keep the current partition layout"));
  CapacityPlan plan = plan_capacity(db);
  auto agility = non_agile_vms(db);

  d.h2("Hosts, in upgrade order");
  int n = 0;
  for (const auto& h : db.hosts) {
    int running = 0;
    for (const auto& v : db.vms)
      if (counts_as_guest(v) && v.live() && v.resident_on == h.ref) ++running;
    d.item(fmt::format("{}. {} ({}) uuid={} address={} version {} build {}, {} running VM(s), free memory {}",
                       ++n, oneline(h.name), h.ref == db.pool.master ? "master" : "member", h.uuid,
                       h.address, h.product_version, h.build_number, running,
                       h.memory_free < 0 ? "unknown" : mib(h.memory_free)));
  }
  d.end_list();

  d.h2("Before you start");
  int inhibitors = 0;
  for (const auto& f : findings) inhibitors += f.inhibitor;
  if (inhibitors) d.para(fmt::format("{} inhibitor(s) must be cleared first (see `xsguard pool`).", inhibitors));
  std::vector<std::string> pre;
  if (db.pool.ha_enabled) pre.push_back("xe pool-ha-disable");
  if (db.pool.wlb_enabled.value_or(false))
    pre.push_back("xe pool-param-set uuid=" + db.pool.uuid + " wlb-enabled=false");
  pre.push_back("xe pool-dump-database file-name=" + shq("pool-" + db.pool.uuid + "-before-upgrade.db"));
  for (const auto& f : findings)
    if (f.id == "pool.no_metadata_backup")
      for (const auto& r : f.remediation)
        if (r.kind == Remediation::Kind::command && !r.argv.empty() && r.argv[0] == "xe-backup-metadata") {
          std::string l;
          for (const auto& a : r.argv) l += (l.empty() ? "" : " ") + shq(a);
          pre.push_back(l);
        }
  d.cmds(pre);
  for (const auto& f : findings)
    if (f.id == "pool.updates_mismatch" || f.id == "pool.versions_mixed") d.item(oneline(f.title));
  for (const auto& v : db.vms) {
    auto it = agility.find(v.ref);
    if (it == agility.end()) continue;
    std::string why;
    for (const auto& r : it->second.reasons) why += (why.empty() ? "" : "; ") + r;
    d.item(fmt::format("VM \"{}\" (uuid {}) is not agile: {}. {}", oneline(v.name), v.uuid, oneline(why),
                       it->second.local_storage
                           ? "Move its disks to shared storage or shut it down: xe vm-shutdown uuid=" + v.uuid
                           : "Clear the affinity: xe vm-param-set uuid=" + v.uuid + " affinity="));
  }
  d.end_list();

  auto step_for = [&](const std::string& host_ref) -> const CapacityStep* {
    for (const auto& s : plan.steps)
      if (s.host == host_ref) return &s;
    return nullptr;
  };
  auto evacuate = [&](const Host& h) {
    const CapacityStep* st = step_for(h.ref);
    std::vector<std::string> c{"xe host-disable uuid=" + h.uuid};
    if (st && !plan.known) {
      for (const auto& v : db.vms)
        if (counts_as_guest(v) && v.live() && v.resident_on == h.ref)
          c.push_back(fmt::format("# to move: {} ({}); free memory unknown, host-evacuate places it",
                                  oneline(v.name), mib(v.memory_need())));
    } else if (st) {
      {
        for (const auto& [vm, dest] : st->placed) {
          const VM* v = db.vm(vm);
          const Host* to = db.host(dest);
          c.push_back(fmt::format("# {} ({}) -> {}", oneline(v->name), mib(v->memory_need()), oneline(to->name)));
          c.push_back(fmt::format("xe vm-migrate uuid={} host-uuid={} live=true", v->uuid, to->uuid));
        }
        for (const auto& vm : st->unplaced) {
          const VM* v = db.vm(vm);
          c.push_back(fmt::format("# does not fit anywhere: {} ({}); shut it down", oneline(v->name), mib(v->memory_need())));
          c.push_back("xe vm-shutdown uuid=" + v->uuid);
        }
        for (const auto& vm : st->stuck) {
          const VM* v = db.vm(vm);
          c.push_back(fmt::format("# on local storage, cannot move: {}; shut it down (or move its disks first)", oneline(v->name)));
          c.push_back("xe vm-shutdown uuid=" + v->uuid);
        }
      }
    }
    c.push_back("xe host-evacuate uuid=" + h.uuid);
    d.cmds(c);
  };
  auto local_srs = [&](const Host& h) {
    for (const auto& pbd : db.pbds) {
      if (pbd.host != h.ref) continue;
      const SR* s = db.sr(pbd.sr);
      if (!s || !s->is_local_disk_sr()) continue;
      size_t vdis = 0;
      for (const auto& v : db.vdis) vdis += v.sr == s->ref;
      if (vdis == 0)
        d.item(fmt::format("Local SR \"{}\" ({}) is empty: safe2upgrade may be created on this host: "
                           "touch /var/preserve/safe2upgrade", oneline(s->name), s->uuid));
      else
        d.item(fmt::format("Local SR \"{}\" ({}) holds {} VDI(s): do NOT create /var/preserve/safe2upgrade "
                           "on this host until they are moved or exported.", oneline(s->name), s->uuid, vdis));
    }
    d.end_list();
  };
  auto record_settings = [&](const Host& h) {
    d.para("Record the settings to re-create after the clean install:");
    for (const auto& p : db.pifs) {
      if (p.host != h.ref) continue;
      const Network* net = db.network(p.network);
      std::string netname = net ? oneline(net->name) : "?";
      if (p.management)
        d.item(fmt::format("Management interface {} (MAC {}) on network \"{}\": {} {} netmask {} gateway {} DNS {}",
                           p.device, p.mac, netname, p.ip_mode, p.ip, p.netmask, p.gateway, p.dns));
      else if (p.ip_mode == "Static" || p.ip_mode == "DHCP")
        d.item(fmt::format("Interface {} on network \"{}\": {} {} netmask {}", p.device, netname, p.ip_mode, p.ip, p.netmask));
    }
    for (const auto& b : db.bonds) {
      const PIF* m = db.pif(b.master);
      if (!m || m->host != h.ref) continue;
      std::string slaves;
      for (const auto& p : db.pifs)
        if (p.bond_slave_of == b.ref) slaves += (slaves.empty() ? "" : ",") + p.device;
      const Network* net = db.network(m->network);
      d.item(fmt::format("Bond {} mode {} of {} on network \"{}\"", m->device, b.mode.empty() ? "?" : b.mode,
                         slaves, net ? oneline(net->name) : "?"));
    }
    for (const auto& v : db.vlans) {
      const PIF* t = db.pif(v.tagged_pif);
      const PIF* u = db.pif(v.untagged_pif);
      if (!t || t->host != h.ref) continue;
      const Network* net = u ? db.network(u->network) : nullptr;
      d.item(fmt::format("VLAN {} on {} for network \"{}\" (uuid {})", v.tag, t->device,
                         net ? oneline(net->name) : "?", net ? net->uuid : "?"));
    }
    for (const auto& pbd : db.pbds) {
      if (pbd.host != h.ref) continue;
      const SR* s = db.sr(pbd.sr);
      if (!s || !s->shared || pbd.device_config.empty()) continue;
      std::string cfg;
      for (const auto& [k, v] : pbd.device_config) cfg += fmt::format(" {}={}", k, shq(redact(k, v)));
      d.item(fmt::format("Storage \"{}\" ({}, uuid {}):{}", oneline(s->name), s->type, s->uuid, oneline(cfg)));
    }
    d.end_list();
  };
  auto rejoin = [&](const Host& h, const Host& to) {
    std::vector<std::string> c;
    c.push_back("# on the freshly installed " + oneline(h.name) + ", with only its management interface configured:");
    for (const auto& p : db.pifs)
      if (p.host == h.ref && p.management && p.ip_mode == "Static")
        c.push_back(fmt::format("xe pif-reconfigure-ip uuid=<new PIF uuid of {}> mode=static IP={} netmask={} gateway={} DNS={}",
                                p.device, p.ip, p.netmask, p.gateway, shq(p.dns)));
    c.push_back(fmt::format("xe pool-join master-address={} master-username=root master-password=<password>", to.address));
    for (const auto& b : db.bonds) {
      const PIF* m = db.pif(b.master);
      if (!m || m->host != h.ref) continue;
      const Network* net = db.network(m->network);
      std::string slaves;
      for (const auto& p : db.pifs)
        if (p.bond_slave_of == b.ref) slaves += (slaves.empty() ? "" : ",") + ("<new PIF uuid of " + p.device + ">");
      c.push_back(fmt::format("xe bond-create network-uuid={} pif-uuids={}{}", net ? net->uuid : "?", slaves,
                              b.mode.empty() ? "" : " mode=" + b.mode));
    }
    for (const auto& v : db.vlans) {
      const PIF* t = db.pif(v.tagged_pif);
      const PIF* u = db.pif(v.untagged_pif);
      if (!t || t->host != h.ref) continue;
      const Network* net = u ? db.network(u->network) : nullptr;
      c.push_back(fmt::format("xe vlan-create network-uuid={} pif-uuid=<new PIF uuid of {}> vlan={}",
                              net ? net->uuid : "?", t->device, v.tag));
    }
    c.push_back("xe host-list params=uuid,name-label,software-version");
    d.cmds(c);
  };

  d.h2("Upgrade, one host at a time (master first)");
  if (!layout_new) {
    for (const auto& h : db.hosts) {
      bool is_master = h.ref == db.pool.master;
      d.h3(fmt::format("{} \"{}\" ({})", is_master ? "Master" : "Member", oneline(h.name), h.uuid));
      d.para("Move its running VMs away, then put it in maintenance:");
      evacuate(h);
      d.para("Boot the installer on this host and choose the upgrade, keeping the partition layout. "
             "After it restarts, check its version and re-enable it:");
      d.cmds({"xe host-param-get uuid=" + h.uuid + " param-name=software-version param-key=product_version",
              "xe host-enable uuid=" + h.uuid});
      if (is_master) d.para("It stays the pool master. Upgrade the members next.");
    }
  } else {
    const Host* first_member = nullptr;
    for (const auto& h : db.hosts)
      if (h.ref != db.pool.master) {
        first_member = &h;
        break;
      }
    if (master) {
      d.h3(fmt::format("Master \"{}\" ({}): rolling upgrade, old layout", oneline(master->name), master->uuid));
      d.para("Upgrade the master in place first, keeping the layout (do not switch layouts on it yet):");
      evacuate(*master);
      d.cmds({"xe host-param-get uuid=" + master->uuid + " param-name=software-version param-key=product_version",
              "xe host-enable uuid=" + master->uuid});
    }
    for (const auto& h : db.hosts) {
      if (h.ref == db.pool.master) continue;
      d.h3(fmt::format("Member \"{}\" ({}): eject, clean install, rejoin", oneline(h.name), h.uuid));
      record_settings(h);
      d.para("Move its VMs away and eject it:");
      evacuate(h);
      d.cmds({"xe pool-eject host-uuid=" + h.uuid});
      local_srs(h);
      d.para("Install the new version from scratch (new layout), then rejoin:");
      if (master) rejoin(h, *master);
    }
    if (master && first_member) {
      d.h3("Hand the master role to an upgraded member");
      d.cmds({"xe pool-designate-new-master host-uuid=" + first_member->uuid});
      d.h3(fmt::format("Former master \"{}\" ({}): eject, clean install, rejoin", oneline(master->name), master->uuid));
      record_settings(*master);
      evacuate(*master);
      d.cmds({"xe pool-eject host-uuid=" + master->uuid});
      local_srs(*master);
      rejoin(*master, *first_member);
    } else if (master) {
      d.para("A pool of one: back up the VMs and metadata, install the new version, and restore.");
      local_srs(*master);
    }
  }
  d.h2("Afterwards");
  d.para("Check that every host reports the same version and that the shared SRs are plugged on all hosts:");
  d.cmds({"xe host-list params=name-label,software-version", "xe pbd-list currently-attached=false"});
  return d.str();
}

// ---------------------------------------------------------------- export

nlohmann::ordered_json export_inventory(const PoolDb& db) {
  using J = nlohmann::ordered_json;
  J j;
  j["pool"] = J{{"name", db.pool.name}, {"uuid", db.pool.uuid}, {"master", host_label(db, db.pool.master)},
                {"ha_enabled", db.pool.ha_enabled}, {"wlb_enabled", db.pool.wlb_enabled.value_or(false)},
                {"schema", db.schema}};
  auto& hosts = j["hosts"] = J::array();
  for (const auto& h : db.hosts)
    hosts.push_back(J{{"name", h.name}, {"uuid", h.uuid}, {"role", h.ref == db.pool.master ? "master" : "member"},
                      {"address", h.address}, {"hostname", h.hostname}, {"product_version", h.product_version},
                      {"build_number", h.build_number}, {"memory_total", h.memory_total},
                      {"memory_free", h.memory_free}, {"enabled", h.enabled}});
  auto& vms = j["vms"] = J::array();
  for (const auto& v : db.vms)
    if (counts_as_guest(v))
      vms.push_back(J{{"name", v.name}, {"uuid", v.uuid}, {"power_state", v.power_state},
                      {"host", v.resident_on.empty() ? "" : host_label(db, v.resident_on)},
                      {"memory_static_max", v.memory_static_max}, {"memory_dynamic_max", v.memory_dynamic_max}});
  auto& srs = j["srs"] = J::array();
  for (const auto& s : db.srs) {
    std::vector<std::string> hs;
    for (const auto& p : db.pbds)
      if (p.sr == s.ref && db.host(p.host)) hs.push_back(host_label(db, p.host));
    srs.push_back(J{{"name", s.name}, {"uuid", s.uuid}, {"type", s.type}, {"content_type", s.content_type},
                    {"shared", s.shared}, {"physical_size", s.physical_size},
                    {"physical_utilisation", s.physical_utilisation}, {"hosts", hs}});
  }
  std::multimap<std::string, const VBD*> by_vdi;
  for (const auto& b : db.vbds) by_vdi.emplace(b.vdi, &b);
  auto& vdis = j["vdis"] = J::array();
  for (const auto& d : db.vdis) {
    std::vector<std::string> users;
    auto [lo, hi] = by_vdi.equal_range(d.ref);
    for (auto it = lo; it != hi; ++it)
      if (const VM* v = db.vm(it->second->vm)) users.push_back(v->name);
    const SR* s = db.sr(d.sr);
    vdis.push_back(J{{"name", d.name}, {"uuid", d.uuid}, {"sr", s ? s->name : ""}, {"sr_uuid", s ? s->uuid : ""},
                     {"type", d.type}, {"virtual_size", d.virtual_size}, {"is_snapshot", d.is_snapshot},
                     {"vms", users}});
  }
  auto& nets = j["networks"] = J::array();
  for (const auto& n : db.networks)
    nets.push_back(J{{"name", n.name}, {"uuid", n.uuid}, {"bridge", n.bridge}, {"mtu", n.mtu}});
  auto& pifs = j["pifs"] = J::array();
  for (const auto& p : db.pifs) {
    const Network* n = db.network(p.network);
    pifs.push_back(J{{"host", host_label(db, p.host)}, {"device", p.device}, {"uuid", p.uuid}, {"mac", p.mac},
                     {"network", n ? n->name : ""}, {"vlan", p.vlan}, {"management", p.management},
                     {"ip_configuration_mode", p.ip_mode}, {"ip", p.ip}, {"netmask", p.netmask},
                     {"gateway", p.gateway}, {"dns", p.dns}, {"physical", p.physical}});
  }
  auto& bonds = j["bonds"] = J::array();
  for (const auto& b : db.bonds) {
    const PIF* m = db.pif(b.master);
    std::vector<std::string> slaves;
    for (const auto& p : db.pifs)
      if (p.bond_slave_of == b.ref) slaves.push_back(p.device);
    bonds.push_back(J{{"host", m ? host_label(db, m->host) : ""}, {"uuid", b.uuid},
                      {"device", m ? m->device : ""}, {"mode", b.mode}, {"slaves", slaves}});
  }
  auto& vlans = j["vlans"] = J::array();
  for (const auto& v : db.vlans) {
    const PIF* t = db.pif(v.tagged_pif);
    const PIF* u = db.pif(v.untagged_pif);
    const Network* n = u ? db.network(u->network) : nullptr;
    vlans.push_back(J{{"host", t ? host_label(db, t->host) : ""}, {"uuid", v.uuid}, {"tag", v.tag},
                      {"device", t ? t->device : ""}, {"network", n ? n->name : ""}});
  }
  auto& ups = j["updates"] = J::array();
  for (const auto& u : db.updates) {
    std::vector<std::string> on;
    for (const auto& h : db.hosts) {
      auto it = db.applied.find(h.ref);
      if (it != db.applied.end() && std::binary_search(it->second.begin(), it->second.end(), u.uuid))
        on.push_back(h.name);
    }
    ups.push_back(J{{"name", u.name}, {"uuid", u.uuid}, {"version", u.version}, {"source", u.source}, {"hosts", on}});
  }
  return j;
}

static std::string csv_cell(const nlohmann::ordered_json& v) {
  std::string s;
  if (v.is_string()) {
    s = v.get<std::string>();
    // A spreadsheet must not run a name as a formula.
    if (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r'))
      s = "'" + s;
  } else if (v.is_array()) {
    for (const auto& e : v) s += (s.empty() ? "" : ";") + (e.is_string() ? e.get<std::string>() : e.dump());
  } else {
    s = v.dump();
  }
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::map<std::string, std::string> export_csv(const PoolDb& db) {
  std::map<std::string, std::string> files;
  auto inv = export_inventory(db);
  for (auto it = inv.begin(); it != inv.end(); ++it) {
    if (!it.value().is_array()) continue;
    std::string text;
    const auto& rows = it.value();
    if (rows.empty()) {
      files[it.key() + ".csv"] = "";
      continue;
    }
    bool first = true;
    for (auto c = rows.front().begin(); c != rows.front().end(); ++c) {
      text += (first ? "" : ",") + c.key();
      first = false;
    }
    text += "\r\n";
    for (const auto& r : rows) {
      first = true;
      for (auto c = r.begin(); c != r.end(); ++c) {
        text += (first ? "" : ",") + csv_cell(c.value());
        first = false;
      }
      text += "\r\n";
    }
    files[it.key() + ".csv"] = text;
  }
  return files;
}

// ---------------------------------------------------------------- the command

int run_pool(const PoolOptions& opt, std::ostream& out) {
  if (opt.layout != "keep" && opt.layout != "new") throw UsageError("--layout must be keep or new");
  if (!opt.runbook.empty() && opt.runbook != "text" && opt.runbook != "markdown")
    throw UsageError("--runbook takes text or markdown");
  if (!opt.export_format.empty() && opt.export_format != "csv" && opt.export_format != "json")
    throw UsageError("--export takes csv or json");
  if (opt.export_format == "csv" && opt.out_dir.empty())
    throw UsageError("--export csv writes one file per resource kind: give --out DIR");
  if (!opt.runbook.empty() && !opt.export_format.empty() && opt.out_dir.empty())
    throw UsageError("--runbook and --export together need --out DIR");

  RootFacts root;
  if (!opt.root.empty()) root = read_root(opt.root);
  std::string path = opt.db.empty() ? root.db_path : opt.db;
  if (path.empty())
    throw InputError(opt.root.empty() ? "no database: give --db FILE or --root DIR"
                                      : opt.root + ": no var/lib/xcp/state.db or var/xapi/state.db");
  PoolDb db = build_pool(read_database(path, pool_projection()));

  Report report = new_report("pool");
  report.findings = analyse_pool(db, root, opt);

  std::string runbook;
  if (!opt.runbook.empty()) runbook = render_runbook(db, report.findings, opt);

  if (!opt.out_dir.empty()) {
    std::ostringstream rep;
    if (opt.json) write_json(rep, report);
    else write_text(rep, report);
    write_file_durably(system_io(), opt.out_dir, opt.json ? "pool-report.json" : "pool-report.txt", rep.str());
    if (!runbook.empty())
      write_file_durably(system_io(), opt.out_dir, opt.runbook == "markdown" ? "runbook.md" : "runbook.txt", runbook);
    if (opt.export_format == "json")
      write_file_durably(system_io(), opt.out_dir, "inventory.json",
                         export_inventory(db).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    if (opt.export_format == "csv")
      for (const auto& [name, text] : export_csv(db)) write_file_durably(system_io(), opt.out_dir, name, text);
    out << rep.str();
  } else if (!runbook.empty()) {
    out << runbook;
  } else if (opt.export_format == "json") {
    out << export_inventory(db).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else if (opt.json) {
    write_json(out, report);
  } else {
    write_text(out, report);
  }
  out.flush();
  return exit_code_for(report.findings);
}

}  // namespace xsguard
