#include "capture/xapi_settings.h"

#include <algorithm>
#include <cctype>
#include <ostream>

namespace xsguard::capture {

using nlohmann::ordered_json;
using namespace xapi;

const Projection& settings_projection() {
  static const Projection p = [] {
    Projection p;
    p.tables = {
        {"pool", {"uuid", "name_label", "master", "other_config"}},
        {"host", {"uuid", "name__label", "hostname", "address", "other_config"}},
        {"PIF", {"uuid", "device", "MAC", "host", "network", "VLAN", "management",
                 "ip_configuration_mode", "IP", "netmask", "gateway", "DNS", "bond_slave_of",
                 "physical"}},
        {"Bond", {"uuid", "master", "mode", "primary_slave"}},
        {"VLAN", {"uuid", "tagged_PIF", "untagged_PIF", "tag"}},
        {"network", {"uuid", "name__label", "bridge"}},
        {"PBD", {"uuid", "host", "SR", "device_config"}},
        {"SR", {"uuid", "name__label", "type", "shared"}},
    };
    return p;
  }();
  return p;
}

namespace {

std::string s(std::string_view v) { return std::string(v); }

bool secret_key(std::string_view key) {
  std::string k(key);
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return k.find("password") != std::string::npos || k.find("secret") != std::string::npos;
}

ordered_json map_json(const StringMap& m) {
  ordered_json j = ordered_json::object();
  for (const auto& [k, v] : m) j[k] = secret_key(k) ? std::string("(not recorded)") : v;
  return j;
}

// other-config keys that xapi, the installer or XenServer's own scripts set: the rest
// were set by hand (or by XenCenter on the administrator's behalf).
bool automatic_key(std::string_view table, std::string_view key) {
  static const char* const kHost[] = {"agent_start_time", "boot_time", "iscsi_iqn",
                                      "multipathing", "multipathhandle", "last_blob_sync_time"};
  static const char* const kPool[] = {"cpuid_feature_mask", "memory-ratio-hvm", "memory-ratio-pv",
                                      "last_blob_sync_time"};
  if (key.substr(0, 16) == "MAINTENANCE_MODE") return true;
  if (table == "host")
    return std::find(std::begin(kHost), std::end(kHost), key) != std::end(kHost);
  return std::find(std::begin(kPool), std::end(kPool), key) != std::end(kPool);
}

ordered_json by_hand(std::string_view table, const StringMap& m) {
  StringMap kept;
  for (const auto& kv : m)
    if (!automatic_key(table, kv.first)) kept.push_back(kv);
  return map_json(kept);
}

// Types of SRs on the host's own disks or devices: not a connection to record.
bool local_sr_type(std::string_view t) {
  for (const char* l : {"lvm", "ext", "udev", "file", "dummy"})
    if (t == l) return true;
  return false;
}

}  // namespace

ordered_json xapi_settings(const Database& db, const std::string& host_uuid) {
  const Table& pools = db.table("pool");
  const Table& hosts = db.table("host");
  const Table& pifs = db.table("PIF");
  const Table& bonds = db.table("Bond");
  const Table& vlans = db.table("VLAN");
  const Table& nets = db.table("network");
  const Table& pbds = db.table("PBD");
  const Table& srs = db.table("SR");

  ordered_json out;
  out["schema"] = db.schema_version();
  if (!pools.rows().empty()) {
    const Row& r = pools.rows().front();
    ordered_json p;
    p["uuid"] = s(pools.str(r, "uuid"));
    p["name"] = s(pools.str(r, "name_label"));
    p["other_config_set_by_hand"] = by_hand("pool", pools.map(r, "other_config"));
    out["pool"] = p;
  }
  bool known = false;
  for (const Row& r : hosts.rows()) known |= hosts.str(r, "uuid") == host_uuid;
  out["host_selection"] = known ? "this host (INSTALLATION_UUID of etc/xensource-inventory)"
                                : "every host: this host's uuid is not known or not in the database";

  auto bridge_of = [&](std::string_view net) {
    const Row* n = nets.find(net);
    return n ? s(nets.str(*n, "bridge")) : std::string();
  };
  auto& list = out["hosts"] = ordered_json::array();
  for (const Row& h : hosts.rows()) {
    if (known && hosts.str(h, "uuid") != host_uuid) continue;
    ordered_json j;
    j["uuid"] = s(hosts.str(h, "uuid"));
    j["name"] = s(hosts.str(h, "name__label"));
    j["hostname"] = s(hosts.str(h, "hostname"));
    j["address"] = s(hosts.str(h, "address"));
    StringMap oc = hosts.map(h, "other_config");
    j["iscsi_iqn"] = map_get(oc, "iscsi_iqn").value_or("");

    auto pif_device = [&](std::string_view ref) {
      const Row* p = pifs.find(ref);
      return p ? s(pifs.str(*p, "device")) : std::string("(unknown)");
    };
    ordered_json mgmt = nullptr;
    auto& bj = j["bonds"] = ordered_json::array();
    auto& vj = j["vlans"] = ordered_json::array();
    for (const Row& p : pifs.rows()) {
      if (pifs.ref(p, "host") != h.ref) continue;
      if (pifs.boolean(p, "management").value_or(false)) {
        mgmt = ordered_json::object();
        mgmt["device"] = s(pifs.str(p, "device"));
        mgmt["bridge"] = bridge_of(pifs.ref(p, "network"));
        mgmt["vlan"] = pifs.integer(p, "VLAN").value_or(-1);
        mgmt["mode"] = s(pifs.str(p, "ip_configuration_mode"));
        mgmt["ip"] = s(pifs.str(p, "IP"));
        mgmt["netmask"] = s(pifs.str(p, "netmask"));
        mgmt["gateway"] = s(pifs.str(p, "gateway"));
        mgmt["dns"] = s(pifs.str(p, "DNS"));
      }
    }
    j["management"] = mgmt;
    for (const Row& b : bonds.rows()) {
      const Row* master = pifs.find(bonds.ref(b, "master"));
      if (!master || pifs.ref(*master, "host") != h.ref) continue;
      ordered_json x;
      x["device"] = s(pifs.str(*master, "device"));
      x["mode"] = s(bonds.str(b, "mode"));
      x["bridge"] = bridge_of(pifs.ref(*master, "network"));
      auto& slaves = x["slaves"] = ordered_json::array();
      for (const Row& p : pifs.rows())
        if (pifs.ref(p, "bond_slave_of") == b.ref) slaves.push_back(s(pifs.str(p, "device")));
      x["primary_slave"] = bonds.ref(b, "primary_slave").empty() ? "" : pif_device(bonds.ref(b, "primary_slave"));
      bj.push_back(x);
    }
    for (const Row& v : vlans.rows()) {
      const Row* untagged = pifs.find(vlans.ref(v, "untagged_PIF"));
      if (!untagged || pifs.ref(*untagged, "host") != h.ref) continue;
      ordered_json x;
      x["tag"] = vlans.integer(v, "tag").value_or(-1);
      x["on"] = pif_device(vlans.ref(v, "tagged_PIF"));
      x["bridge"] = bridge_of(pifs.ref(*untagged, "network"));
      vj.push_back(x);
    }
    auto& sj = j["storage"] = ordered_json::array();
    for (const Row& p : pbds.rows()) {
      if (pbds.ref(p, "host") != h.ref) continue;
      const Row* sr = srs.find(pbds.ref(p, "SR"));
      std::string type = sr ? s(srs.str(*sr, "type")) : "";
      if (!sr || local_sr_type(type)) continue;
      ordered_json x;
      x["sr_uuid"] = s(srs.str(*sr, "uuid"));
      x["sr_name"] = s(srs.str(*sr, "name__label"));
      x["type"] = type;
      x["shared"] = srs.boolean(*sr, "shared").value_or(false);
      x["device_config"] = map_json(pbds.map(p, "device_config"));
      sj.push_back(x);
    }
    j["other_config_set_by_hand"] = by_hand("host", oc);
    list.push_back(j);
  }
  return out;
}

namespace {

std::string kv_text(const ordered_json& m) {
  if (!m.is_object()) return "(?)";
  std::string t;
  for (auto it = m.begin(); it != m.end(); ++it)
    t += (t.empty() ? "" : ", ") + it.key() + "=" +
         (it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
  return t.empty() ? "(none)" : t;
}

std::string str(const ordered_json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

void write_xapi_text(std::ostream& out, const ordered_json& x) {
  if (x.contains("pool") && x["pool"].is_object()) {
    const auto& p = x["pool"];
    out << "  pool " << str(p, "name") << " (" << str(p, "uuid") << ")\n";
    if (p.contains("other_config_set_by_hand"))
      out << "    other-config set by hand: " << kv_text(p["other_config_set_by_hand"]) << '\n';
  }
  if (!x.contains("hosts") || !x["hosts"].is_array()) return;
  for (const auto& h : x["hosts"]) {
    if (!h.is_object()) continue;
    out << "  host " << str(h, "name") << " (" << str(h, "uuid") << ")\n";
    if (h.contains("management") && h["management"].is_object()) {
      const auto& m = h["management"];
      out << "    management: " << str(m, "device") << " on " << str(m, "bridge") << ", "
          << str(m, "mode") << ' ' << str(m, "ip") << '/' << str(m, "netmask") << " gateway "
          << str(m, "gateway") << " DNS " << str(m, "dns");
      if (str(m, "vlan") != "-1") out << " VLAN " << str(m, "vlan");
      out << '\n';
    }
    if (h.contains("bonds") && h["bonds"].is_array())
      for (const auto& b : h["bonds"]) {
        std::string slaves;
        if (b.contains("slaves") && b["slaves"].is_array())
          for (const auto& sl : b["slaves"]) slaves += (slaves.empty() ? "" : "+") + (sl.is_string() ? sl.get<std::string>() : sl.dump());
        out << "    bond " << str(b, "device") << " (" << str(b, "mode") << "): " << slaves << '\n';
      }
    if (h.contains("vlans") && h["vlans"].is_array())
      for (const auto& v : h["vlans"])
        out << "    VLAN " << str(v, "tag") << " on " << str(v, "on") << " (" << str(v, "bridge") << ")\n";
    if (h.contains("storage") && h["storage"].is_array())
      for (const auto& sr : h["storage"])
        out << "    storage " << str(sr, "type") << " \"" << str(sr, "sr_name") << "\": "
            << (sr.contains("device_config") ? kv_text(sr["device_config"]) : "") << '\n';
    if (!str(h, "iscsi_iqn").empty()) out << "    iSCSI IQN: " << str(h, "iscsi_iqn") << '\n';
    if (h.contains("other_config_set_by_hand"))
      out << "    other-config set by hand: " << kv_text(h["other_config_set_by_hand"]) << '\n';
  }
}

}  // namespace xsguard::capture
