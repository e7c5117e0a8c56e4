// The pool, typed: what the readiness findings, the runbook and the export need,
// built from a Database using forward references only (VBD.VM, VDI.SR, PBD.host,
// PIF.host, VM.resident_on, ...). Back-reference sets that xapi regenerates on load
// (VM.VBDs, host.resident_VMs, SR.VDIs, ...) are never consulted.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "xapi/database.h"

namespace xsguard::xapi {

struct Pool {
  std::string ref, uuid, name, master;
  bool ha_enabled = false;
  std::optional<bool> wlb_enabled;  // nullopt: the schema predates WLB
  std::string wlb_url;
  std::string default_sr;
};

struct Host {
  std::string ref, uuid, name, hostname, address;
  bool enabled = true;
  std::string product_version, build_number, product_brand, platform_version;
  int64_t memory_total = -1, memory_free = -1, memory_overhead = 0;  // -1: unknown
  std::vector<std::string> updates;  // host.updates (refs), 7.1 and later
};

struct VM {
  std::string ref, uuid, name, power_state, resident_on, affinity, suspend_vdi;
  bool is_template = false, is_control_domain = false, is_snapshot = false;
  int64_t memory_static_max = 0, memory_dynamic_max = 0, memory_overhead = 0;
  // Memory the VM needs on a host it moves to.
  int64_t memory_need() const {
    int64_t m = memory_dynamic_max > 0 ? memory_dynamic_max : memory_static_max;
    return m + (memory_overhead > 0 ? memory_overhead : 0);
  }
  bool live() const { return power_state == "Running" || power_state == "Paused"; }
};

struct VBD {
  std::string ref, vm, vdi, type, userdevice;
  bool empty = false;
};

struct VDI {
  std::string ref, uuid, name, sr, type;
  int64_t virtual_size = 0;
  bool is_snapshot = false;
  StringMap other_config;
};

struct SR {
  std::string ref, uuid, name, type, content_type;
  bool shared = false;
  int64_t physical_size = 0, physical_utilisation = 0;
  // A host-local SR that holds VM disks (lvm/ext/file...), as opposed to removable
  // media, DVD drives and ISO libraries.
  bool is_local_disk_sr() const;
};

struct PBD {
  std::string ref, uuid, host, sr;
  StringMap device_config;
  bool currently_attached = false;
};

struct Network {
  std::string ref, uuid, name, bridge;
  int64_t mtu = 0;
};

struct PIF {
  std::string ref, uuid, device, mac, host, network, ip_mode, ip, netmask, gateway, dns;
  std::string bond_slave_of, vlan_master_of;
  int64_t vlan = -1, mtu = 0;
  bool management = false, physical = false;
};

struct Bond {
  std::string ref, uuid, master, mode, primary_slave;
};

struct VLAN {
  std::string ref, uuid, tagged_pif, untagged_pif;
  int64_t tag = -1;
};

// One applied hotfix or update, identified across hosts by its uuid.
struct Update {
  std::string uuid, name, version, source;  // source: pool_patch or pool_update
};

struct PoolDb {
  std::map<std::string, std::string> manifest;
  std::string schema;        // "5.66"
  int64_t generation = -1;   // manifest generation_count
  Pool pool;
  std::vector<Host> hosts;   // the master first, then by name
  std::vector<VM> vms;       // every VM row (templates, snapshots, control domains too)
  std::vector<VBD> vbds;
  std::vector<VDI> vdis;
  std::vector<SR> srs;
  std::vector<PBD> pbds;
  std::vector<Network> networks;
  std::vector<PIF> pifs;
  std::vector<Bond> bonds;
  std::vector<VLAN> vlans;
  std::vector<Update> updates;                          // every known update, by uuid
  std::map<std::string, std::vector<std::string>> applied;  // host ref -> update uuids
  size_t dangling_refs = 0;  // forward references to rows that are not in the file
  size_t malformed_values = 0;
  bool has_update_tables = false;  // pool_patch or pool_update present

  const Host* host(std::string_view ref) const;
  const Host* host_by_uuid(std::string_view uuid) const;
  const VM* vm(std::string_view ref) const;
  const VDI* vdi(std::string_view ref) const;
  const SR* sr(std::string_view ref) const;
  const Network* network(std::string_view ref) const;
  const PIF* pif(std::string_view ref) const;
  const Update* update(std::string_view uuid) const;
  const Host* master() const { return host(pool.master); }

  std::unordered_map<std::string, size_t> host_ix, vm_ix, vdi_ix, sr_ix, net_ix, pif_ix, upd_ix;
};

// The tables and columns build_pool needs (everything else is dropped while reading).
const Projection& pool_projection();

// Throws InputError when the database has no pool row or no host.
PoolDb build_pool(const Database& db);

}  // namespace xsguard::xapi
