// Generates xapi pool databases for tests and benchmarks: any number of hosts and
// VMs, either whitespace encoding, hostile names, and every condition the pool
// findings look for. Streams to an ostream, so a 200 MB file costs no memory.
#pragma once
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace xsguard::xapi::testing {

struct GenSpec {
  int hosts = 2;
  int vms_per_host = 2;
  bool new_encoding = true;     // "%." (7.3+) or "%_" (up to 7.2)
  bool xml_declaration = true;
  bool ha = false, wlb = false;
  bool mixed_versions = false;   // the last host on an older version
  bool missing_update = false;   // the last host lacks one update
  bool use_pool_update = false;  // 7.1-style pool_update/host.updates, else pool_patch/host_patch
  bool local_vm = false;         // one running VM on host 0 with a disk on its local SR
  bool affinity_vm = false;      // one running VM pinned to host 0 (disk shared)
  bool metadata_backup = true;   // a marked "Pool Metadata Backup" VDI on the shared SR
  bool member_copy = false;      // manifest pool_conf slave:... (older dumps carry it)
  bool no_metrics = false;       // omit host_metrics
  int64_t host_free = int64_t(16) << 30;
  int64_t vm_memory = int64_t(1) << 30;
  std::string pool_name = "Pool  one";   // two spaces: exercises the encodings
  std::string name_prefix = "vm";         // VM names: prefix + number
  size_t pad_bytes = 0;                   // per VM, in a string column (benchmarks)
  bool with_secret = true;                // a secret row whose value must never show
};

inline std::string ref_of(const char* kind, int i) {
  // OpaqueRef:<36 chars>, derived from kind and i so that files are reproducible.
  unsigned h = 2166136261u;
  for (const char* p = kind; *p; ++p) h = (h ^ static_cast<unsigned char>(*p)) * 16777619u;
  char buf[64];
  std::snprintf(buf, sizeof buf, "OpaqueRef:%08x-%04x-%04x-%04x-%012x", h, (i >> 16) & 0xffff, i & 0xffff,
                0xabcd, static_cast<unsigned>(i) * 7919u);
  return buf;
}
inline std::string uuid_of(const char* kind, int i) { return ref_of(kind, i).substr(10); }

// Writer-side encoding, in xapi's order: S-expression quoting (for sets and maps),
// whitespace protection, XML attribute escaping.
inline std::string sexpr_quote(const std::string& s) {
  std::string o = "'";
  for (char c : s) {
    if (c == '\\' || c == '\'' || c == '"') o += '\\';
    o += c;
  }
  return o + "'";
}
inline std::string sexpr_set(const std::vector<std::string>& v) {
  std::string o = "(";
  for (size_t i = 0; i < v.size(); ++i) o += (i ? " " : "") + sexpr_quote(v[i]);
  return o + ")";
}
inline std::string sexpr_map(const std::vector<std::pair<std::string, std::string>>& v) {
  std::string o = "(";
  for (size_t i = 0; i < v.size(); ++i) o += (i ? " (" : "(") + sexpr_quote(v[i].first) + " " + sexpr_quote(v[i].second) + ")";
  return o + ")";
}
inline std::string protect(const std::string& s, bool new_encoding) {
  std::string o;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') o += "%%";
    else if (c == '\t') o += "%t";
    else if (c == '\n') o += "%n";
    else if (c == '\r') o += "%r";
    else if (c == ' ' && new_encoding) o += "%.";
    else if (c == ' ' && i + 1 < s.size() && s[i + 1] == ' ') { o += "%_"; ++i; }
    else o += c;
  }
  return o;
}
inline std::string xml_attr(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

class RowWriter {
 public:
  RowWriter(std::ostream& out, bool enc, const std::string& ref) : out_(out), enc_(enc) {
    out_ << "<row ref=\"" << ref << "\" __ctime=\"1\" __mtime=\"2\" _ref=\"" << ref << '"';
  }
  RowWriter& a(const char* col, const std::string& v) {
    out_ << ' ' << col << "=\"" << xml_attr(protect(v, enc_)) << '"';
    return *this;
  }
  RowWriter& a(const char* col, int64_t v) { return a(col, std::to_string(v)); }
  ~RowWriter() { out_ << "/>"; }

 private:
  std::ostream& out_;
  bool enc_;
};

inline void generate(std::ostream& out, const GenSpec& g) {
  const bool e = g.new_encoding;
  const std::string T = "true", F = "false", NUL = "OpaqueRef:NULL";
  if (g.xml_declaration) out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << "<database><manifest><pair key=\"schema_major_vsn\" value=\"5\"/>"
         "<pair key=\"schema_minor_vsn\" value=\"" << (g.use_pool_update ? "108" : "66") << "\"/>";
  out << "<pair key=\"generation_count\" value=\"1000\"/>";
  if (g.member_copy) out << "<pair key=\"pool_conf\" value=\"slave:10.0.0.1\"/>";
  out << "</manifest>";
  const int H = g.hosts, V = g.hosts * g.vms_per_host;
  auto host = [](int i) { return ref_of("host", i); };
  // Tables in byte order, as xapi writes them.
  out << "<table name=\"Bond\"/>";
  out << "<table name=\"PBD\">";
  for (int i = 0; i < H; ++i) {
    RowWriter(out, e, ref_of("pbd-local", i)).a("uuid", uuid_of("pbd-local", i)).a("host", host(i))
        .a("SR", ref_of("sr-local", i)).a("device_config", sexpr_map({{"device", "/dev/sda3"}}))
        .a("currently_attached", T);
    RowWriter(out, e, ref_of("pbd-shared", i)).a("uuid", uuid_of("pbd-shared", i)).a("host", host(i))
        .a("SR", ref_of("sr-shared", 0))
        .a("device_config", sexpr_map({{"server", "10.0.0.9"}, {"serverpath", "/export/sr"}}))
        .a("currently_attached", T);
  }
  out << "</table><table name=\"PIF\">";
  for (int i = 0; i < H; ++i)
    RowWriter(out, e, ref_of("pif", i)).a("uuid", uuid_of("pif", i)).a("device", "eth0")
        .a("MAC", "00:16:3e:00:00:01").a("host", host(i)).a("network", ref_of("net", 0)).a("VLAN", -1)
        .a("ip_configuration_mode", "Static").a("IP", "10.0.1." + std::to_string(i + 1))
        .a("netmask", "255.255.255.0").a("gateway", "10.0.1.254").a("DNS", "10.0.1.53")
        .a("management", T).a("physical", T).a("bond_slave_of", NUL).a("VLAN_master_of", NUL);
  out << "</table><table name=\"SR\">";
  RowWriter(out, e, ref_of("sr-shared", 0)).a("uuid", uuid_of("sr-shared", 0)).a("name__label", "NFS  storage")
      .a("type", "nfs").a("content_type", "").a("shared", T).a("other_config", "()");
  for (int i = 0; i < H; ++i)
    RowWriter(out, e, ref_of("sr-local", i)).a("uuid", uuid_of("sr-local", i)).a("name__label", "Local storage")
        .a("type", "lvm").a("content_type", "user").a("shared", F).a("other_config", "()");
  out << "</table><table name=\"VBD\">";
  for (int v = 0; v < V; ++v)
    RowWriter(out, e, ref_of("vbd", v)).a("VM", ref_of("vm", v)).a("VDI", ref_of("vdi", v)).a("type", "Disk")
        .a("empty", F).a("userdevice", "0").a("metrics", ref_of("vbd-metrics-not-persisted", v));
  out << "</table><table name=\"VDI\">";
  for (int v = 0; v < V; ++v) {
    bool local = g.local_vm && v == 0;
    RowWriter(out, e, ref_of("vdi", v)).a("uuid", uuid_of("vdi", v)).a("name__label", "disk " + std::to_string(v))
        .a("SR", local ? ref_of("sr-local", 0) : ref_of("sr-shared", 0)).a("type", "user")
        .a("virtual_size", int64_t(8) << 30).a("is_a_snapshot", F).a("other_config", "()");
  }
  if (g.metadata_backup)
    RowWriter(out, e, ref_of("vdi-meta", 0)).a("uuid", uuid_of("vdi-meta", 0)).a("name__label", "Pool Metadata Backup")
        .a("SR", ref_of("sr-shared", 0)).a("type", "user").a("virtual_size", int64_t(500) << 20)
        .a("is_a_snapshot", F).a("other_config", sexpr_map({{"ctxs-pool-backup", "true"}}));
  out << "</table><table name=\"VLAN\"/><table name=\"VM\">";
  for (int i = 0; i < H; ++i)
    RowWriter(out, e, ref_of("dom0", i)).a("uuid", uuid_of("dom0", i)).a("name__label", "Control domain")
        .a("power_state", "Running").a("resident_on", host(i)).a("is_control_domain", T).a("is_a_template", F)
        .a("memory__dynamic_max", int64_t(1) << 30).a("affinity", NUL);
  std::string pad(g.pad_bytes, 'x');
  for (size_t k = 0; k < pad.size(); k += 61) pad[k] = ' ';
  for (int v = 0; v < V; ++v) {
    int h = v % H;
    RowWriter w(out, e, ref_of("vm", v));
    w.a("uuid", uuid_of("vm", v)).a("name__label", g.name_prefix + std::to_string(v))
        .a("power_state", "Running").a("resident_on", host(h)).a("is_control_domain", F)
        .a("is_a_template", F).a("is_a_snapshot", F).a("memory__static_max", g.vm_memory)
        .a("memory__dynamic_max", g.vm_memory).a("memory__overhead", 0).a("suspend_VDI", NUL)
        .a("affinity", g.affinity_vm && v == 1 ? host(0) : NUL)
        .a("other_config", sexpr_map({{"note", "a (set) 'quoted' \\ value"}}));
    if (!pad.empty()) w.a("last_booted_record", pad);
  }
  out << "</table><table name=\"host\">";
  for (int i = 0; i < H; ++i) {
    bool old = g.mixed_versions && i == H - 1;
    std::vector<std::string> upd;
    if (g.use_pool_update && !(g.missing_update && i == H - 1)) upd.push_back(ref_of("pool-update", 0));
    RowWriter(out, e, host(i)).a("uuid", uuid_of("host", i)).a("name__label", "host " + std::to_string(i))
        .a("hostname", "h" + std::to_string(i)).a("address", "10.0.1." + std::to_string(i + 1)).a("enabled", T)
        .a("software_version", sexpr_map({{"product_version", old ? "7.0.0" : "7.1.0"},
                                          {"build_number", old ? "125380c" : "137272c"},
                                          {"product_brand", "XenServer"}}))
        .a("metrics", ref_of("host-metrics", i)).a("memory__overhead", 0)
        .a("updates", sexpr_set(upd));
  }
  out << "</table><table name=\"host_metrics\">";
  if (!g.no_metrics)
    for (int i = 0; i < H; ++i)
      RowWriter(out, e, ref_of("host-metrics", i)).a("memory__total", int64_t(64) << 30)
          .a("memory__free", g.host_free).a("live", T);
  out << "</table><table name=\"host_patch\">";
  if (!g.use_pool_update)
    for (int i = 0; i < H; ++i)
      if (!(g.missing_update && i == H - 1))
        RowWriter(out, e, ref_of("host-patch", i)).a("host", host(i)).a("pool_patch", ref_of("pool-patch", 0))
            .a("applied", T);
  out << "</table><table name=\"network\">";
  RowWriter(out, e, ref_of("net", 0)).a("uuid", uuid_of("net", 0)).a("name__label", "Pool-wide network associated with eth0")
      .a("bridge", "xenbr0").a("MTU", 1500);
  out << "</table><table name=\"pool\">";
  RowWriter(out, e, ref_of("pool", 0)).a("uuid", uuid_of("pool", 0)).a("name_label", g.pool_name)
      .a("name__label", "decoy: pool uses name_label").a("master", host(0)).a("ha_enabled", g.ha ? T : F)
      .a("wlb_enabled", g.wlb ? T : F).a("wlb_url", g.wlb ? "wlb.example:8012" : "")
      .a("default_SR", ref_of("sr-shared", 0)).a("other_config", "()");
  out << "</table><table name=\"pool_patch\">";
  RowWriter(out, e, ref_of("pool-patch", 0)).a("uuid", uuid_of("pool-patch", 0)).a("name__label", "XS71E001")
      .a("version", "1.0").a("pool_update", g.use_pool_update ? ref_of("pool-update", 0) : "");
  out << "</table>";
  if (g.use_pool_update) {
    out << "<table name=\"pool_update\">";
    RowWriter(out, e, ref_of("pool-update", 0)).a("uuid", uuid_of("pool-update", 0)).a("name__label", "XS71E001")
        .a("version", "1.0").a("hosts", "()");
    out << "</table>";
  }
  out << "<table name=\"secret\">";
  if (g.with_secret) RowWriter(out, e, ref_of("secret", 0)).a("uuid", uuid_of("secret", 0)).a("value", "SECRET-do-not-print");
  out << "</table></database>";
}

}  // namespace xsguard::xapi::testing
