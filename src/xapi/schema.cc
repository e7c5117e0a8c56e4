#include "xapi/schema.h"

#include <algorithm>
#include <array>
#include <tuple>

namespace xsguard::xapi {

namespace {

using K = ColumnKind;
struct Col {
  std::string_view table, column;
  ColumnKind kind;
};

// Sorted by (table, column) for binary search; a unit test checks the order.
constexpr Col kColumns[] = {
    {"Bond", "master", K::ref},
    {"Bond", "mode", K::enumeration},
    {"Bond", "other_config", K::map},
    {"Bond", "primary_slave", K::ref},
    {"Bond", "properties", K::map},
    {"Bond", "slaves", K::set},
    {"PBD", "SR", K::ref},
    {"PBD", "currently_attached", K::boolean},
    {"PBD", "device_config", K::map},
    {"PBD", "host", K::ref},
    {"PBD", "other_config", K::map},
    {"PIF", "DNS", K::string},
    {"PIF", "IPv6", K::set},
    {"PIF", "MTU", K::integer},
    {"PIF", "VLAN", K::integer},
    {"PIF", "VLAN_master_of", K::ref},
    {"PIF", "bond_master_of", K::set},
    {"PIF", "bond_slave_of", K::ref},
    {"PIF", "capabilities", K::set},
    {"PIF", "host", K::ref},
    {"PIF", "ip_configuration_mode", K::enumeration},
    {"PIF", "management", K::boolean},
    {"PIF", "network", K::ref},
    {"PIF", "other_config", K::map},
    {"PIF", "physical", K::boolean},
    {"PIF", "properties", K::map},
    {"SR", "PBDs", K::set},
    {"SR", "VDIs", K::set},
    {"SR", "other_config", K::map},
    {"SR", "physical_size", K::integer},
    {"SR", "physical_utilisation", K::integer},
    {"SR", "shared", K::boolean},
    {"SR", "sm_config", K::map},
    {"SR", "tags", K::set},
    {"VBD", "VDI", K::ref},
    {"VBD", "VM", K::ref},
    {"VBD", "currently_attached", K::boolean},
    {"VBD", "empty", K::boolean},
    {"VBD", "mode", K::enumeration},
    {"VBD", "other_config", K::map},
    {"VBD", "type", K::enumeration},
    {"VDI", "SR", K::ref},
    {"VDI", "VBDs", K::set},
    {"VDI", "is_a_snapshot", K::boolean},
    {"VDI", "managed", K::boolean},
    {"VDI", "other_config", K::map},
    {"VDI", "physical_utilisation", K::integer},
    {"VDI", "sharable", K::boolean},
    {"VDI", "sm_config", K::map},
    {"VDI", "snapshot_of", K::ref},
    {"VDI", "tags", K::set},
    {"VDI", "type", K::enumeration},
    {"VDI", "virtual_size", K::integer},
    {"VLAN", "other_config", K::map},
    {"VLAN", "tag", K::integer},
    {"VLAN", "tagged_PIF", K::ref},
    {"VLAN", "untagged_PIF", K::ref},
    {"VM", "VBDs", K::set},
    {"VM", "VIFs", K::set},
    {"VM", "affinity", K::ref},
    {"VM", "blocked_operations", K::map},
    {"VM", "is_a_snapshot", K::boolean},
    {"VM", "is_a_template", K::boolean},
    {"VM", "is_control_domain", K::boolean},
    {"VM", "memory__dynamic_max", K::integer},
    {"VM", "memory__dynamic_min", K::integer},
    {"VM", "memory__overhead", K::integer},
    {"VM", "memory__static_max", K::integer},
    {"VM", "memory__static_min", K::integer},
    {"VM", "memory__target", K::integer},
    {"VM", "other_config", K::map},
    {"VM", "platform", K::map},
    {"VM", "power_state", K::enumeration},
    {"VM", "resident_on", K::ref},
    {"VM", "snapshot_of", K::ref},
    {"VM", "suspend_SR", K::ref},
    {"VM", "suspend_VDI", K::ref},
    {"VM", "tags", K::set},
    {"host", "PBDs", K::set},
    {"host", "PIFs", K::set},
    {"host", "cpu_info", K::map},
    {"host", "enabled", K::boolean},
    {"host", "license_params", K::map},
    {"host", "memory__overhead", K::integer},
    {"host", "metrics", K::ref},
    {"host", "other_config", K::map},
    {"host", "patches", K::set},
    {"host", "resident_VMs", K::set},
    {"host", "software_version", K::map},
    {"host", "tags", K::set},
    {"host", "updates", K::set},
    {"host_metrics", "live", K::boolean},
    {"host_metrics", "memory__free", K::integer},
    {"host_metrics", "memory__total", K::integer},
    {"host_metrics", "other_config", K::map},
    {"host_patch", "applied", K::boolean},
    {"host_patch", "host", K::ref},
    {"host_patch", "other_config", K::map},
    {"host_patch", "pool_patch", K::ref},
    {"host_patch", "timestamp_applied", K::datetime},
    {"network", "MTU", K::integer},
    {"network", "PIFs", K::set},
    {"network", "VIFs", K::set},
    {"network", "other_config", K::map},
    {"network", "tags", K::set},
    {"pool", "default_SR", K::ref},
    {"pool", "ha_enabled", K::boolean},
    {"pool", "ha_statefiles", K::set},
    {"pool", "master", K::ref},
    {"pool", "metadata_VDIs", K::set},
    {"pool", "other_config", K::map},
    {"pool", "restrictions", K::map},
    {"pool", "tags", K::set},
    {"pool", "wlb_enabled", K::boolean},
    {"pool", "wlb_password", K::ref},
    {"pool_patch", "after_apply_guidance", K::set},
    {"pool_patch", "host_patches", K::set},
    {"pool_patch", "other_config", K::map},
    {"pool_patch", "pool_applied", K::boolean},
    {"pool_patch", "pool_update", K::ref},
    {"pool_patch", "size", K::integer},
    {"pool_update", "after_apply_guidance", K::set},
    {"pool_update", "hosts", K::set},
    {"pool_update", "installation_size", K::integer},
    {"pool_update", "other_config", K::map},
    {"pool_update", "vdi", K::ref},
};

constexpr bool less(const Col& a, const Col& b) {
  return a.table < b.table || (a.table == b.table && a.column < b.column);
}

}  // namespace

bool schema_table_sorted() {
  return std::is_sorted(std::begin(kColumns), std::end(kColumns), less);
}

ColumnKind column_kind(std::string_view table, std::string_view column) {
  Col key{table, column, K::string};
  auto it = std::lower_bound(std::begin(kColumns), std::end(kColumns), key, less);
  if (it != std::end(kColumns) && it->table == table && it->column == column) return it->kind;
  return K::string;
}

const char* to_string(ColumnKind k) {
  switch (k) {
    case K::string: return "string";
    case K::boolean: return "bool";
    case K::integer: return "int";
    case K::floating: return "float";
    case K::datetime: return "datetime";
    case K::ref: return "ref";
    case K::enumeration: return "enum";
    case K::set: return "set";
    case K::map: return "map";
  }
  return "string";
}

}  // namespace xsguard::xapi
