#include "xapi/model.h"

#include <algorithm>
#include <set>

#include "model/errors.h"

namespace xsguard::xapi {

bool SR::is_local_disk_sr() const {
  if (shared) return false;
  if (type == "udev" || type == "iso" || content_type == "iso" || content_type == "disk")
    return false;
  return true;
}

const Projection& pool_projection() {
  static const Projection p = [] {
    Projection p;
    p.tables = {
        {"pool", {"uuid", "name_label", "master", "ha_enabled", "wlb_enabled", "wlb_url",
                  "default_SR"}},
        {"host", {"uuid", "name__label", "hostname", "address", "enabled", "software_version",
                  "metrics", "memory__overhead", "updates"}},
        {"host_metrics", {"memory__total", "memory__free", "live"}},
        {"VM", {"uuid", "name__label", "power_state", "resident_on", "affinity", "suspend_VDI",
                "is_a_template", "is_control_domain", "is_a_snapshot", "memory__static_max",
                "memory__dynamic_max", "memory__overhead"}},
        {"VBD", {"VM", "VDI", "type", "empty", "userdevice"}},
        {"VDI", {"uuid", "name__label", "SR", "type", "virtual_size", "is_a_snapshot",
                 "other_config"}},
        {"SR", {"uuid", "name__label", "type", "content_type", "shared", "physical_size",
                "physical_utilisation"}},
        {"PBD", {"uuid", "host", "SR", "device_config", "currently_attached"}},
        {"network", {"uuid", "name__label", "bridge", "MTU"}},
        {"PIF", {"uuid", "device", "MAC", "host", "network", "VLAN", "MTU",
                 "ip_configuration_mode", "IP", "netmask", "gateway", "DNS", "management",
                 "physical", "bond_slave_of", "VLAN_master_of"}},
        {"Bond", {"uuid", "master", "mode", "primary_slave"}},
        {"VLAN", {"uuid", "tagged_PIF", "untagged_PIF", "tag"}},
        {"pool_patch", {"uuid", "name__label", "version", "pool_update"}},
        {"host_patch", {"host", "pool_patch", "applied"}},
        {"pool_update", {"uuid", "name__label", "version", "hosts"}},
    };
    return p;
  }();
  return p;
}

namespace {

template <class T>
const T* lookup(const std::vector<T>& v, const std::unordered_map<std::string, size_t>& ix,
                std::string_view key) {
  if (key.empty()) return nullptr;
  auto it = ix.find(std::string(key));
  return it == ix.end() ? nullptr : &v[it->second];
}

std::string s(std::string_view v) { return std::string(v); }

}  // namespace

const Host* PoolDb::host(std::string_view r) const { return lookup(hosts, host_ix, r); }
const VM* PoolDb::vm(std::string_view r) const { return lookup(vms, vm_ix, r); }
const VDI* PoolDb::vdi(std::string_view r) const { return lookup(vdis, vdi_ix, r); }
const SR* PoolDb::sr(std::string_view r) const { return lookup(srs, sr_ix, r); }
const Network* PoolDb::network(std::string_view r) const { return lookup(networks, net_ix, r); }
const PIF* PoolDb::pif(std::string_view r) const { return lookup(pifs, pif_ix, r); }
const Update* PoolDb::update(std::string_view u) const { return lookup(updates, upd_ix, u); }
const Host* PoolDb::host_by_uuid(std::string_view uuid) const {
  for (const auto& h : hosts)
    if (h.uuid == uuid) return &h;
  return nullptr;
}

PoolDb build_pool(const Database& db) {
  PoolDb p;
  p.manifest = db.manifest;
  p.schema = db.schema_version();
  if (auto g = db.manifest.find("generation_count"); g != db.manifest.end())
    p.generation = parse_int(g->second).value_or(-1);

  const Table& pools = db.table("pool");
  if (pools.rows().empty()) throw InputError("the database has no pool row");
  {
    const Row& r = pools.rows().front();
    p.pool.ref = r.ref;
    p.pool.uuid = s(pools.str(r, "uuid"));
    p.pool.name = s(pools.str(r, "name_label"));  // pool: single underscore
    p.pool.master = s(pools.ref(r, "master"));
    p.pool.ha_enabled = pools.boolean(r, "ha_enabled").value_or(false);
    if (pools.has(r, "wlb_enabled")) p.pool.wlb_enabled = pools.boolean(r, "wlb_enabled").value_or(false);
    p.pool.wlb_url = s(pools.str(r, "wlb_url"));
    p.pool.default_sr = s(pools.ref(r, "default_SR"));
  }

  const Table& metrics = db.table("host_metrics");
  const Table& hosts = db.table("host");
  for (const Row& r : hosts.rows()) {
    Host h;
    h.ref = r.ref;
    h.uuid = s(hosts.str(r, "uuid"));
    h.name = s(hosts.str(r, "name__label"));
    h.hostname = s(hosts.str(r, "hostname"));
    h.address = s(hosts.str(r, "address"));
    h.enabled = hosts.boolean(r, "enabled").value_or(true);
    StringMap sv = hosts.map(r, "software_version");
    h.product_version = map_get(sv, "product_version").value_or("");
    h.build_number = map_get(sv, "build_number").value_or("");
    h.product_brand = map_get(sv, "product_brand").value_or("");
    h.platform_version = map_get(sv, "platform_version").value_or("");
    h.memory_overhead = hosts.integer(r, "memory__overhead").value_or(0);
    if (const Row* m = metrics.find(hosts.ref(r, "metrics"))) {
      h.memory_total = metrics.integer(*m, "memory__total").value_or(-1);
      h.memory_free = metrics.integer(*m, "memory__free").value_or(-1);
    }
    h.updates = hosts.set(r, "updates");
    p.hosts.push_back(std::move(h));
  }
  if (p.hosts.empty()) throw InputError("the database has no host row");
  std::stable_sort(p.hosts.begin(), p.hosts.end(), [&](const Host& a, const Host& b) {
    bool am = a.ref == p.pool.master, bm = b.ref == p.pool.master;
    if (am != bm) return am;
    if (a.name != b.name) return a.name < b.name;
    return a.uuid < b.uuid;
  });
  for (size_t i = 0; i < p.hosts.size(); ++i) p.host_ix.emplace(p.hosts[i].ref, i);

  auto dangling = [&](const Table& t, std::string_view ref) {
    if (!ref.empty() && !t.find(ref)) ++p.dangling_refs;
  };

  const Table& vms = db.table("VM");
  for (const Row& r : vms.rows()) {
    VM v;
    v.ref = r.ref;
    v.uuid = s(vms.str(r, "uuid"));
    v.name = s(vms.str(r, "name__label"));
    v.power_state = s(vms.str(r, "power_state"));
    v.resident_on = s(vms.ref(r, "resident_on"));
    v.affinity = s(vms.ref(r, "affinity"));
    v.suspend_vdi = s(vms.ref(r, "suspend_VDI"));
    v.is_template = vms.boolean(r, "is_a_template").value_or(false);
    v.is_control_domain = vms.boolean(r, "is_control_domain").value_or(false);
    v.is_snapshot = vms.boolean(r, "is_a_snapshot").value_or(false);
    v.memory_static_max = vms.integer(r, "memory__static_max").value_or(0);
    v.memory_dynamic_max = vms.integer(r, "memory__dynamic_max").value_or(0);
    v.memory_overhead = vms.integer(r, "memory__overhead").value_or(0);
    dangling(hosts, v.resident_on);
    if (!v.resident_on.empty() && !hosts.find(v.resident_on)) v.resident_on.clear();
    if (!v.affinity.empty() && !hosts.find(v.affinity)) v.affinity.clear();
    p.vm_ix.emplace(v.ref, p.vms.size());
    p.vms.push_back(std::move(v));
  }

  const Table& srs = db.table("SR");
  for (const Row& r : srs.rows()) {
    SR x;
    x.ref = r.ref;
    x.uuid = s(srs.str(r, "uuid"));
    x.name = s(srs.str(r, "name__label"));
    x.type = s(srs.str(r, "type"));
    x.content_type = s(srs.str(r, "content_type"));
    x.shared = srs.boolean(r, "shared").value_or(false);
    x.physical_size = srs.integer(r, "physical_size").value_or(0);
    x.physical_utilisation = srs.integer(r, "physical_utilisation").value_or(0);
    p.sr_ix.emplace(x.ref, p.srs.size());
    p.srs.push_back(std::move(x));
  }

  const Table& vdis = db.table("VDI");
  for (const Row& r : vdis.rows()) {
    VDI x;
    x.ref = r.ref;
    x.uuid = s(vdis.str(r, "uuid"));
    x.name = s(vdis.str(r, "name__label"));
    x.sr = s(vdis.ref(r, "SR"));
    x.type = s(vdis.str(r, "type"));
    x.virtual_size = vdis.integer(r, "virtual_size").value_or(0);
    x.is_snapshot = vdis.boolean(r, "is_a_snapshot").value_or(false);
    x.other_config = vdis.map(r, "other_config");
    dangling(srs, x.sr);
    p.vdi_ix.emplace(x.ref, p.vdis.size());
    p.vdis.push_back(std::move(x));
  }

  const Table& vbds = db.table("VBD");
  for (const Row& r : vbds.rows()) {
    VBD x;
    x.ref = r.ref;
    x.vm = s(vbds.ref(r, "VM"));
    x.vdi = s(vbds.ref(r, "VDI"));
    x.type = s(vbds.str(r, "type"));
    x.empty = vbds.boolean(r, "empty").value_or(false);
    x.userdevice = s(vbds.str(r, "userdevice"));
    dangling(vms, x.vm);
    dangling(vdis, x.vdi);
    p.vbds.push_back(std::move(x));
  }

  const Table& pbds = db.table("PBD");
  for (const Row& r : pbds.rows()) {
    PBD x;
    x.ref = r.ref;
    x.uuid = s(pbds.str(r, "uuid"));
    x.host = s(pbds.ref(r, "host"));
    x.sr = s(pbds.ref(r, "SR"));
    x.device_config = pbds.map(r, "device_config");
    x.currently_attached = pbds.boolean(r, "currently_attached").value_or(false);
    dangling(hosts, x.host);
    dangling(srs, x.sr);
    p.pbds.push_back(std::move(x));
  }

  const Table& nets = db.table("network");
  for (const Row& r : nets.rows()) {
    Network x;
    x.ref = r.ref;
    x.uuid = s(nets.str(r, "uuid"));
    x.name = s(nets.str(r, "name__label"));
    x.bridge = s(nets.str(r, "bridge"));
    x.mtu = nets.integer(r, "MTU").value_or(0);
    p.net_ix.emplace(x.ref, p.networks.size());
    p.networks.push_back(std::move(x));
  }

  const Table& pifs = db.table("PIF");
  for (const Row& r : pifs.rows()) {
    PIF x;
    x.ref = r.ref;
    x.uuid = s(pifs.str(r, "uuid"));
    x.device = s(pifs.str(r, "device"));
    x.mac = s(pifs.str(r, "MAC"));
    x.host = s(pifs.ref(r, "host"));
    x.network = s(pifs.ref(r, "network"));
    x.vlan = pifs.integer(r, "VLAN").value_or(-1);
    x.mtu = pifs.integer(r, "MTU").value_or(0);
    x.ip_mode = s(pifs.str(r, "ip_configuration_mode"));
    x.ip = s(pifs.str(r, "IP"));
    x.netmask = s(pifs.str(r, "netmask"));
    x.gateway = s(pifs.str(r, "gateway"));
    x.dns = s(pifs.str(r, "DNS"));
    x.management = pifs.boolean(r, "management").value_or(false);
    x.physical = pifs.boolean(r, "physical").value_or(false);
    x.bond_slave_of = s(pifs.ref(r, "bond_slave_of"));
    x.vlan_master_of = s(pifs.ref(r, "VLAN_master_of"));
    dangling(hosts, x.host);
    dangling(nets, x.network);
    p.pif_ix.emplace(x.ref, p.pifs.size());
    p.pifs.push_back(std::move(x));
  }

  const Table& bonds = db.table("Bond");
  for (const Row& r : bonds.rows()) {
    Bond x;
    x.ref = r.ref;
    x.uuid = s(bonds.str(r, "uuid"));
    x.master = s(bonds.ref(r, "master"));
    x.mode = s(bonds.str(r, "mode"));
    x.primary_slave = s(bonds.ref(r, "primary_slave"));
    p.bonds.push_back(std::move(x));
  }

  const Table& vlans = db.table("VLAN");
  for (const Row& r : vlans.rows()) {
    VLAN x;
    x.ref = r.ref;
    x.uuid = s(vlans.str(r, "uuid"));
    x.tagged_pif = s(vlans.ref(r, "tagged_PIF"));
    x.untagged_pif = s(vlans.ref(r, "untagged_PIF"));
    x.tag = vlans.integer(r, "tag").value_or(-1);
    p.vlans.push_back(std::move(x));
  }

  // Updates: pool_update (7.1+) and pool_patch (hotfixes; 7.1 also writes a
  // compatibility pool_patch per update, which is folded into the update).
  const Table& pupd = db.table("pool_update");
  const Table& ppatch = db.table("pool_patch");
  const Table& hpatch = db.table("host_patch");
  p.has_update_tables = db.has_table("pool_patch") || db.has_table("pool_update");
  std::map<std::string, std::set<std::string>> applied;
  auto add_update = [&](Update u) {
    if (u.uuid.empty() || p.upd_ix.count(u.uuid)) return;
    p.upd_ix.emplace(u.uuid, p.updates.size());
    p.updates.push_back(std::move(u));
  };
  for (const Row& r : pupd.rows()) {
    Update u{s(pupd.str(r, "uuid")), s(pupd.str(r, "name__label")), s(pupd.str(r, "version")),
             "pool_update"};
    std::string uuid = u.uuid;
    add_update(std::move(u));
    for (const auto& h : pupd.set(r, "hosts"))
      if (hosts.find(h)) applied[h].insert(uuid);
  }
  std::map<std::string, std::string> patch_uuid;  // pool_patch ref -> identifying uuid
  for (const Row& r : ppatch.rows()) {
    std::string_view upd_ref = ppatch.ref(r, "pool_update");
    if (const Row* u = pupd.find(upd_ref)) {
      patch_uuid[r.ref] = s(pupd.str(*u, "uuid"));
      continue;
    }
    Update u{s(ppatch.str(r, "uuid")), s(ppatch.str(r, "name__label")),
             s(ppatch.str(r, "version")), "pool_patch"};
    patch_uuid[r.ref] = u.uuid;
    add_update(std::move(u));
  }
  for (const Row& r : hpatch.rows()) {
    if (!hpatch.boolean(r, "applied").value_or(true)) continue;
    std::string h = s(hpatch.ref(r, "host"));
    auto it = patch_uuid.find(s(hpatch.ref(r, "pool_patch")));
    if (h.empty() || !hosts.find(h) || it == patch_uuid.end() || it->second.empty()) continue;
    applied[h].insert(it->second);
  }
  for (const auto& h : p.hosts)
    for (const auto& ref : h.updates)
      if (const Row* u = pupd.find(ref)) applied[h.ref].insert(s(pupd.str(*u, "uuid")));
  for (auto& [h, set] : applied) p.applied[h].assign(set.begin(), set.end());

  for (const auto& [name, t] : db.tables) p.malformed_values += t.malformed_values();
  return p;
}

}  // namespace xsguard::xapi
