#include "commands/safe2upgrade.h"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <ostream>
#include <set>
#include <stdexcept>

#include "model/errors.h"
#include "model/xs_layout.h"
#include "probe/disk_probe.h"
#include "xapi/model.h"

namespace xsguard {

namespace {

constexpr const char* kPreserve = "var/preserve";
constexpr const char* kName = "safe2upgrade";
constexpr const char* kRel = "var/preserve/safe2upgrade";
// XS 7.x keeps the database in var/lib/xcp, 6.x and earlier in var/xapi.
constexpr const char* kDatabases[] = {"var/lib/xcp/state.db", "var/xapi/state.db"};

std::string human_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = double(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) v /= 1024, ++u;
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, units[u]);
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

// Opens rel below dirfd one component at a time, never following a symbolic link, so
// nothing outside the old root is ever reached. On failure errno says why (ELOOP: a
// link) and bad_part names the component.
Fd open_beneath(int dirfd, const std::string& rel, int flags, std::string* bad_part = nullptr) {
  Fd cur(::dup(dirfd));
  size_t at = 0;
  std::string walked;
  while (cur.ok()) {
    size_t slash = rel.find('/', at);
    const bool last = slash == std::string::npos;
    const std::string part = rel.substr(at, last ? std::string::npos : slash - at);
    walked += (walked.empty() ? "" : "/") + part;
    int next = openat(cur.get(), part.c_str(),
                      (last ? flags : O_RDONLY | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) {
      if (bad_part) *bad_part = walked;
      return Fd();
    }
    cur = Fd(next);
    if (last) break;
    at = slash + 1;
  }
  return cur;
}

std::string why_not(int err, const std::string& dir, const std::string& part) {
  if (err == ELOOP || err == ENOTDIR)
    return dir + "/" + part + " is a symbolic link or not a directory (not followed)";
  return dir + "/" + part + ": " + std::strerror(err);
}

std::string real(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) ? std::string(buf) : std::string();
}

// The whole disk under dir's filesystem: the partition's parent in sysfs. "" when the
// filesystem is not on a disk partition (tmpfs, device-mapper, a loop file...).
std::string whole_disk_of(const std::string& dir) {
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) return "";
  std::string sys = real("/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" +
                         std::to_string(minor(st.st_dev)));
  if (sys.empty() || access((sys + "/partition").c_str(), F_OK) != 0) return "";
  std::string parent = sys.substr(0, sys.rfind('/'));
  return "/dev/" + parent.substr(parent.rfind('/') + 1);
}

// ---- What the installer would do to the disk -------------------------------------

struct Conversion {
  std::string disk;
  std::optional<bool> converts;  // nullopt: unknown
  std::string reason;
  std::string label;
  std::optional<bool> logs;
  int sr_partition = 0;
  std::string sr_device;
  uint64_t sr_bytes = 0;
};

Conversion judge_disk(const Safe2UpgradeOptions& o) {
  Conversion c;
  c.disk = o.disk.empty() ? whole_disk_of(o.root) : o.disk;
  if (c.disk.empty()) {
    c.reason = "the disk holding " + o.root + " could not be found from its filesystem (pass --disk)";
    return c;
  }
  std::optional<ProbedDisk> probed;
  try {
    probed = probe_disk(c.disk, o.sector_size);
  } catch (const InputError& e) {
    if (!o.disk.empty()) throw;
    c.reason = std::string(e.what()) + " (pass --disk)";
    return c;
  }
  const DiskLayout& l = probed->layout;
  c.label = to_string(l.label);
  auto x = find_xs_install(l);
  if (!x) {
    c.reason = c.disk + " holds no XenServer installation the installer would recognise (no "
                        "root-* filesystem): is it the right disk?";
    return c;
  }
  c.logs = x->logs != 0;
  if (const Partition* sr = x->sr ? l.find(x->sr) : nullptr) {
    c.sr_partition = sr->number;
    c.sr_device = partition_device(c.disk, sr->number, probed->source->is_block_device());
    c.sr_bytes = sr->sectors * l.logical_sector;
  }
  if (l.label != LabelKind::gpt) {
    c.converts = false;
    c.reason = c.disk + " has an " + c.label + " partition table: the installer converts only GPT "
                                               "disks, so the file has no effect there";
  } else if (x->logs) {
    c.converts = false;
    c.reason = c.disk + " already has a logs partition (the new layout): the file has no effect";
  } else {
    c.converts = true;
    c.reason = c.disk + " is GPT with no logs partition: with the file present the upgrade "
                        "repartitions it to the new layout and recreates the local SR empty";
  }
  return c;
}

// ---- What the old root's database says is on the local SR ------------------------

struct Contents {
  std::string db_path;  // relative to the root, "" when none was found
  std::string status = "missing";  // read, missing, unreadable
  std::string error;
  Evidence host;  // {uuid, name} or a string saying why it is unknown
  Evidence srs = Evidence::array(), vdis = Evidence::array(), vms = Evidence::array();
  size_t sr_count = 0, vdi_count = 0, vm_count = 0;
  std::string first_sr_name;
};

std::string inventory_uuid(int rootfd) {
  Fd fd = open_beneath(rootfd, "etc/xensource-inventory", O_RDONLY);
  if (!fd.ok()) return "";
  char buf[64 * 1024];
  ssize_t n = ::read(fd.get(), buf, sizeof buf);
  if (n <= 0) return "";
  std::string text(buf, size_t(n));
  size_t at = text.find("INSTALLATION_UUID=");
  if (at == std::string::npos || (at > 0 && text[at - 1] != '\n')) return "";
  std::string v = text.substr(at + 18, text.find('\n', at) - at - 18);
  if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front())
    v = v.substr(1, v.size() - 2);
  return v;
}

void describe_contents(const xapi::PoolDb& db, const std::string& host_uuid, Contents& c) {
  const xapi::Host* host = host_uuid.empty() ? nullptr : db.host_by_uuid(host_uuid);
  if (!host && host_uuid.empty() && db.hosts.size() == 1) host = &db.hosts.front();
  if (host) {
    c.host = Evidence{{"uuid", host->uuid}, {"name_label", host->name}};
  } else {
    c.host = "unknown (" +
             std::string(host_uuid.empty() ? "no INSTALLATION_UUID in etc/xensource-inventory"
                                           : "INSTALLATION_UUID " + host_uuid + " is not in the database") +
             "): the local SRs of every host are listed";
  }
  std::set<std::string> sr_refs, vdi_refs, vm_refs;
  for (const auto& pbd : db.pbds) {
    if (host && pbd.host != host->ref) continue;
    const xapi::SR* sr = db.sr(pbd.sr);
    if (!sr || sr->shared || (sr->type != "lvm" && sr->type != "ext")) continue;
    if (!sr_refs.insert(sr->ref).second) continue;
    Evidence e{{"uuid", sr->uuid}, {"name_label", sr->name}, {"type", sr->type}};
    e["device"] = xapi::map_get(pbd.device_config, "device").value_or("");
    e["physical_size"] = sr->physical_size;
    e["physical_utilisation"] = sr->physical_utilisation;
    if (!host) {
      const xapi::Host* h = db.host(pbd.host);
      e["host"] = h ? h->name : pbd.host;
    }
    if (c.first_sr_name.empty()) c.first_sr_name = sr->name;
    c.srs.push_back(std::move(e));
  }
  for (const auto& vdi : db.vdis) {
    if (!sr_refs.count(vdi.sr)) continue;
    vdi_refs.insert(vdi.ref);
    Evidence e{{"uuid", vdi.uuid}, {"name_label", vdi.name}, {"virtual_size", vdi.virtual_size}};
    if (const xapi::SR* sr = db.sr(vdi.sr)) e["sr"] = sr->uuid;
    if (vdi.is_snapshot) e["snapshot"] = true;
    c.vdis.push_back(std::move(e));
  }
  for (const auto& vm : db.vms) {
    if (vm.is_control_domain) continue;
    Evidence disks = Evidence::array();
    for (const auto& vbd : db.vbds)
      if (vbd.vm == vm.ref && vdi_refs.count(vbd.vdi))
        if (const xapi::VDI* vdi = db.vdi(vbd.vdi)) disks.push_back(vdi->name);
    if (disks.empty() || !vm_refs.insert(vm.ref).second) continue;
    Evidence e{{"uuid", vm.uuid}, {"name_label", vm.name}, {"power_state", vm.power_state}};
    if (vm.is_template) e["template"] = true;
    if (vm.is_snapshot) e["snapshot"] = true;
    e["disks"] = std::move(disks);
    c.vms.push_back(std::move(e));
  }
  c.sr_count = sr_refs.size();
  c.vdi_count = vdi_refs.size();
  c.vm_count = vm_refs.size();
}

Contents read_contents(int rootfd, const std::string& root) {
  Contents c;
  for (const char* rel : kDatabases) {
    std::string bad;
    Fd fd = open_beneath(rootfd, rel, O_RDONLY, &bad);
    if (!fd.ok() && errno == ENOENT) continue;
    c.db_path = root + "/" + rel;
    if (!fd.ok()) {
      c.status = "unreadable";
      c.error = why_not(errno, root, bad);
      return c;
    }
    struct stat st {};
    if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      c.status = "unreadable";
      c.error = c.db_path + ": not a regular file";
      return c;
    }
    // Read through the descriptor already opened without following links.
    const std::string via = "/proc/self/fd/" + std::to_string(fd.get());
    try {
      xapi::PoolDb db = xapi::build_pool(xapi::read_database(via, xapi::pool_projection()));
      c.status = "read";
      describe_contents(db, inventory_uuid(rootfd), c);
    } catch (const std::exception& e) {
      std::string msg = e.what();
      if (msg.rfind(via + ": ", 0) == 0) msg = msg.substr(via.size() + 2);
      c.status = "unreadable";
      c.error = c.db_path + ": " + msg;
    }
    return c;
  }
  c.error = "no xapi database at " + root + "/" + kDatabases[0] + " or " + root + "/" + kDatabases[1];
  return c;
}

// ---- The report -------------------------------------------------------------------

struct Presence {
  bool present = false;
  std::string problem;  // a link or an unreadable component on the way
};

Presence find_file(int rootfd, const std::string& root) {
  Presence p;
  std::string bad;
  Fd dir = open_beneath(rootfd, kPreserve, O_RDONLY | O_DIRECTORY, &bad);
  if (!dir.ok()) {
    if (errno != ENOENT) p.problem = why_not(errno, root, bad);
    return p;
  }
  struct stat st {};
  p.present = fstatat(dir.get(), kName, &st, AT_SYMLINK_NOFOLLOW) == 0;
  return p;
}

std::vector<std::string> self_command(const Safe2UpgradeOptions& o, bool remove) {
  std::vector<std::string> argv = {"xsguard", "safe2upgrade", "--root", o.root};
  if (!o.disk.empty()) argv.insert(argv.end(), {"--disk", o.disk});
  if (remove) argv.push_back("--remove");
  argv.push_back("--apply");
  return argv;
}

std::string command_text(const Safe2UpgradeOptions& o, bool remove) {
  std::string s;
  for (const auto& a : self_command(o, remove)) s += (s.empty() ? "" : " ") + a;
  return s;
}

Finding state_finding(const Safe2UpgradeOptions& o, const Presence& p, const Conversion& c) {
  Finding f;
  f.id = kSafe2UpgradeState;
  f.severity = p.present && c.converts == true ? Severity::medium : Severity::info;
  const std::string file = o.root + "/" + kRel;
  f.resources = {file};
  if (!c.disk.empty()) f.resources.push_back(c.disk);
  f.title = p.present ? "safe2upgrade is set on " + o.root : "safe2upgrade is not set on " + o.root;
  f.summary = c.converts ? c.reason + "." : "Whether the upgrade would convert the disk is unknown: " + c.reason + ".";
  if (!p.problem.empty()) f.summary += " " + p.problem + ": xsguard does not look through it.";
  f.evidence["root"] = o.root;
  f.evidence["file"] = file;
  f.evidence["present"] = p.present;
  if (!p.problem.empty()) f.evidence["path_problem"] = p.problem;
  f.evidence["disk"] = c.disk.empty() ? Evidence("unknown") : Evidence(c.disk);
  f.evidence["label"] = c.label.empty() ? "unknown" : c.label;
  f.evidence["logs_partition"] = c.logs ? Evidence(*c.logs) : Evidence("unknown");
  f.evidence["converts"] = c.converts ? Evidence(*c.converts) : Evidence("unknown");
  f.evidence["reason"] = c.reason;
  if (p.present)
    f.remediation.push_back(Remediation::command(
        "Remove it: the upgrade keeps the current layout and the local SR", self_command(o, true)));
  else if (c.converts != false)
    f.remediation.push_back(Remediation::command(
        "Create it, to have the upgrade convert to the new layout (asks for confirmation)",
        self_command(o, false)));
  return f;
}

Finding destroys_finding(const Safe2UpgradeOptions& o, const Presence& p, const Conversion& c,
                         const Contents& s) {
  Finding f;
  f.id = kSafe2UpgradeDestroys;
  f.severity = Severity::high;
  f.inhibitor = p.present && c.converts == true;
  const std::string where = c.sr_device.empty() ? (c.disk.empty() ? "its disk" : c.disk) : c.sr_device;
  const std::string what =
      s.status != "read" ? "the local SR on " + where
      : s.sr_count == 1  ? fmt::format("the local SR \"{}\" ({} virtual disk{}, {} VM{})",
                                       s.first_sr_name, s.vdi_count, s.vdi_count == 1 ? "" : "s",
                                       s.vm_count, s.vm_count == 1 ? "" : "s")
                         : fmt::format("{} local SRs ({} virtual disks, {} VMs)", s.sr_count,
                                       s.vdi_count, s.vm_count);
  f.title = (p.present ? "The upgrade will destroy " : "Creating safe2upgrade would destroy ") + what;
  if (c.converts != true) f.title += " (if the disk is converted)";
  f.resources = {o.root + "/" + kRel};
  if (!c.sr_device.empty()) f.resources.push_back(c.sr_device);
  f.summary = "Converting to the new layout removes the local SR's volume group and its partition" +
              (c.sr_bytes ? " (" + human_bytes(c.sr_bytes) + ")" : std::string()) +
              ", then creates an empty SR: every virtual disk on it is lost.";
  if (s.status == "read")
    f.summary += s.sr_count == 0
                     ? " The database lists no local lvm or ext SR for this host."
                     : fmt::format(" The database lists {} virtual disk{} there, used by {} VM{}.",
                                   s.vdi_count, s.vdi_count == 1 ? "" : "s", s.vm_count,
                                   s.vm_count == 1 ? "" : "s");
  else
    f.summary += " What it holds is unknown: " + s.error + ".";
  if (c.sr_partition) {
    f.evidence["sr_partition"] = c.sr_device;
    f.evidence["sr_partition_bytes"] = c.sr_bytes;
  } else {
    f.evidence["sr_partition"] = "unknown";
  }
  Evidence db{{"path", s.db_path.empty() ? Evidence("none") : Evidence(s.db_path)},
              {"status", s.status}};
  if (!s.error.empty()) db["error"] = s.error;
  f.evidence["database"] = db;
  if (s.status == "read") {
    f.evidence["host"] = s.host;
    f.evidence["srs"] = s.srs;
    f.evidence["vdis"] = s.vdis;
    f.evidence["vms"] = s.vms;
  } else {
    for (const char* k : {"host", "srs", "vdis", "vms"}) f.evidence[k] = "unknown";
  }
  f.remediation.push_back(Remediation::hint(
      "Move the local VMs' disks to shared storage (Storage XenMotion) or export them before "
      "the upgrade."));
  if (p.present)
    f.remediation.push_back(Remediation::command(
        "Keep the current layout and the local SR", self_command(o, true)));
  return f;
}

// ---- Applying -----------------------------------------------------------------------

void refuse_read_only(int fd, const std::string& what) {
  struct statvfs vfs {};
  if (fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
    throw RefusedError(what + " is mounted read-only; nothing was changed");
}

// Opens DIR/var/preserve for a change, refusing links and read-only mounts. For
// creating, a missing var/preserve is made (created set); for removing, missing means
// there is nothing to remove (an empty Fd).
Fd open_preserve(Io& io, const std::string& root, int rootfd, bool create, bool& created) {
  created = false;
  refuse_read_only(rootfd, root);
  std::string bad;
  Fd var = open_beneath(rootfd, "var", O_RDONLY | O_DIRECTORY, &bad);
  if (!var.ok()) {
    if (errno == ENOENT && !create) return Fd();
    throw RefusedError(errno == ENOENT ? root + "/var does not exist: is " + root + " an old root?"
                                       : why_not(errno, root, bad));
  }
  Fd dir(openat(var.get(), "preserve", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir.ok() && errno == ENOENT) {
    if (!create) return Fd();
    if (mkdirat(var.get(), "preserve", 0755) != 0 && errno != EEXIST)
      throw RefusedError(root + "/var/preserve: cannot create: " + std::strerror(errno));
    created = true;
    dir = Fd(openat(var.get(), "preserve", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  }
  if (!dir.ok()) throw RefusedError(why_not(errno, root, kPreserve));
  refuse_read_only(dir.get(), root + "/" + kPreserve);
  if (created) {
    // The new directory's entry must reach the disk too.
    if (!io.fsync(var.get()))
      throw std::runtime_error(root + "/var: fsync: " + std::string(std::strerror(errno)));
  }
  return dir;
}

std::string create_file(const Safe2UpgradeOptions& o, Io& io, Console& console, std::ostream& out,
                        int rootfd, const Finding* destroys) {
  const std::string file = o.root + "/" + kRel;
  bool created_dir = false;
  // Look without creating anything: nothing may be written before the answer.
  Fd dir = open_preserve(io, o.root, rootfd, false, created_dir);
  struct stat st {};
  if (dir.ok() && fstatat(dir.get(), kName, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return file + " is already present" +
           (S_ISLNK(st.st_mode) ? std::string(" (as a symbolic link)") : std::string()) +
           ": nothing to do";
  confirm(console, out, o.yes,
          "Create " + file + "?" + (destroys ? " " + destroys->title + "." : std::string()));
  if (!dir.ok()) dir = open_preserve(io, o.root, rootfd, true, created_dir);
  Fd fd(openat(dir.get(), kName, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd.ok() && errno == EEXIST) return file + " is already present: nothing to do";
  if (!fd.ok()) throw RefusedError(file + ": cannot create: " + std::strerror(errno));
  auto undo = [&](const std::string& what) {
    int e = errno;
    unlinkat(dir.get(), kName, 0);
    throw std::runtime_error(file + ": " + what + ": " + std::strerror(e) + "; it was removed again");
  };
  if (fchmod(fd.get(), 0644) != 0) undo("chmod");
  if (!io.fsync(fd.get())) undo("fsync");
  if (!io.fsync(dir.get())) undo("fsync of " + o.root + "/" + kPreserve);
  return "Created " + file + (created_dir ? " (and its directory)" : "") +
         ". Undo: " + command_text(o, true);
}

std::string remove_file(const Safe2UpgradeOptions& o, Io& io, Console& console, std::ostream& out,
                        int rootfd) {
  const std::string file = o.root + "/" + kRel;
  bool created_dir = false;
  Fd dir = open_preserve(io, o.root, rootfd, false, created_dir);
  struct stat st {};
  if (!dir.ok() || fstatat(dir.get(), kName, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return file + " is already absent: nothing to do";
  if (S_ISDIR(st.st_mode)) throw RefusedError(file + " is a directory; xsguard removes only a file");
  confirm(console, out, o.yes,
          "Remove " + file + "? The upgrade will then keep the current layout and the local SR.");
  if (unlinkat(dir.get(), kName, 0) != 0) {
    if (errno == ENOENT) return file + " is already absent: nothing to do";
    throw RefusedError(file + ": cannot remove: " + std::strerror(errno));
  }
  if (!io.fsync(dir.get()))
    throw std::runtime_error(o.root + "/" + kPreserve + ": fsync after removing " + kName + ": " +
                             std::strerror(errno));
  return "Removed " + file + ". The upgrade keeps the current layout.";
}

Fd open_root(const std::string& root) {
  if (root.empty()) throw UsageError("--root DIR is required");
  Fd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.ok()) throw InputError(root + ": not a directory (--root): " + std::strerror(errno));
  return fd;
}

}  // namespace

Report plan_safe2upgrade(const Safe2UpgradeOptions& o) {
  Fd rootfd = open_root(o.root);
  const Presence presence = find_file(rootfd.get(), o.root);
  const Conversion conversion = judge_disk(o);
  Report r = new_report("safe2upgrade");
  r.findings.push_back(state_finding(o, presence, conversion));
  if (conversion.converts != false)
    r.findings.push_back(
        destroys_finding(o, presence, conversion, read_contents(rootfd.get(), o.root)));
  sort_findings(r.findings);
  return r;
}

int run_safe2upgrade(const Safe2UpgradeOptions& o, Io& io, Console& console, std::ostream& out) {
  if (o.json && o.apply && !o.yes)
    throw UsageError("--json with --apply needs --yes: a question would mix with the JSON");
  Report r = plan_safe2upgrade(o);
  if (!o.apply) {
    if (o.json) {
      write_json(out, r);
    } else {
      write_text(out, r);
      out << "\nDry run: nothing was written. To " << (o.remove ? "remove" : "create")
          << " the file: " << command_text(o, o.remove) << '\n';
    }
    return exit_code_for(r.findings);
  }
  if (!o.json) {
    write_text(out, r);
    out << '\n' << std::flush;
  }
  const Finding* destroys = nullptr;
  for (const auto& f : r.findings)
    if (f.id == kSafe2UpgradeDestroys) destroys = &f;
  Fd rootfd = open_root(o.root);
  const std::string done = o.remove ? remove_file(o, io, console, out, rootfd.get())
                                    : create_file(o, io, console, out, rootfd.get(), destroys);
  if (o.json) {
    Finding f;
    f.id = "safe2upgrade.applied";
    f.title = done;
    f.evidence["action"] = o.remove ? "remove" : "create";
    f.resources = {o.root + "/" + kRel};
    r.findings.push_back(std::move(f));
    write_json(out, r);
  } else {
    out << done << '\n';
  }
  return kExitClean;
}

}  // namespace xsguard
