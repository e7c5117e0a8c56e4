// xsguard pool: pool readiness for a rolling upgrade, read offline from the xapi pool
// database (state.db or `xe pool-dump-database`), optionally with a mounted old root
// for the host-local facts; plus this pool's upgrade runbook and a resource export.
#pragma once
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/finding.h"
#include "report/report.h"
#include "xapi/model.h"

namespace xsguard {

struct PoolOptions {
  std::string db;           // --db FILE (plain or gzip)
  std::string root;         // --root DIR: a mounted old root
  bool json = false;        // --json
  std::string runbook;      // "", "text" or "markdown"
  std::string layout = "keep";  // keep | new
  std::string export_format;    // "", "csv" or "json"
  std::string out_dir;          // --out DIR: write files there instead of stdout
};

// What a mounted old root says about this host.
struct RootFacts {
  bool present = false;
  std::string dir;
  std::string db_path;                 // its state.db, "" when none
  std::optional<bool> ha_armed;        // var/lib/xcp/local.db ha.armed
  std::optional<std::string> pool_conf;  // etc/xensource/pool.conf, trimmed
  bool inventory_found = false;
  std::map<std::string, std::string> inventory;  // etc/xensource-inventory
  bool applied_dir_found = false;
  std::vector<std::string> applied;    // var/update/applied/<uuid>
  bool firstboot_found = false;
  std::vector<std::string> firstboot_missing_state;  // scripts without a state file
  bool is_member() const { return pool_conf && pool_conf->rfind("slave:", 0) == 0; }
  std::string this_host_uuid() const;
};

RootFacts read_root(const std::string& dir);  // throws InputError when dir is unusable

// Capacity plan: each host out of the pool in turn (the master first), its running
// VMs placed on the others' free memory.
struct CapacityStep {
  std::string host;  // ref
  std::vector<std::pair<std::string, std::string>> placed;  // VM ref -> host ref
  std::vector<std::string> unplaced;                        // VM refs that do not fit
  std::vector<std::string> stuck;  // VM refs with local disks: cannot move at all
  int64_t need = 0, free_elsewhere = 0, shortfall = 0;
};
struct CapacityPlan {
  bool known = true;                 // every host's free memory is in the database
  std::vector<std::string> unknown;  // hosts without memory figures
  std::vector<CapacityStep> steps;
};
CapacityPlan plan_capacity(const xapi::PoolDb& db);

// VM ref -> why it is not agile ("disk", "suspend image" on a local SR; "affinity").
struct AgilityIssue {
  std::vector<std::string> reasons;
  bool local_storage = false;  // false: only pinned by affinity (it can still move)
};
std::map<std::string, AgilityIssue> non_agile_vms(const xapi::PoolDb& db);

std::vector<Finding> analyse_pool(const xapi::PoolDb& db, const RootFacts& root,
                                  const PoolOptions& opt);

std::string render_runbook(const xapi::PoolDb& db, const std::vector<Finding>& findings,
                           const PoolOptions& opt);

// The resource inventory: {"hosts": [...], "vms": [...], ...}; CSV gives one table
// per resource kind, by file name (hosts.csv, ...).
nlohmann::ordered_json export_inventory(const xapi::PoolDb& db);
std::map<std::string, std::string> export_csv(const xapi::PoolDb& db);

// The command: reads, analyses, writes to out (or --out DIR); returns the exit code.
int run_pool(const PoolOptions& opt, std::ostream& out);

}  // namespace xsguard
