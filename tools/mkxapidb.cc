// mkxapidb: writes a generated xapi pool database to stdout, for tests and benchmarks.
//   mkxapidb [--hosts N] [--vms-per-host N] [--old-encoding] [--ha] [--wlb] [--mixed]
//            [--missing-update] [--pool-update] [--local-vm] [--affinity] [--no-backup]
//            [--member-copy] [--no-metrics] [--host-free BYTES] [--vm-memory BYTES]
//            [--pad BYTES] [--pool-name NAME] [--size MB]
//   mkxapidb --hostile KIND   truncated | wrong-root | dup-ref | dangling | entity |
//                             billion-laughs | huge-attr (1 GiB, streamed) | cdata | not-xml
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>

#include "xapi/testing/dbgen.h"

using namespace xsguard::xapi::testing;

static int hostile(const std::string& kind) {
  GenSpec g;
  std::ostringstream s;
  generate(s, g);
  std::string db = s.str();
  std::ostream& o = std::cout;
  if (kind == "truncated") o << db.substr(0, db.size() * 2 / 3);
  else if (kind == "wrong-root") o << "<?xml version=\"1.0\"?><config><row key=\"a\" value=\"b\"/></config>";
  else if (kind == "not-xml") o << "this is not a database\n";
  else if (kind == "dup-ref") {
    std::string vm = "<table name=\"VM\">";
    size_t at = db.find(vm) + vm.size();
    size_t end = db.find("/>", at) + 2;
    o << db.substr(0, end) << db.substr(at, end - at) << db.substr(end);
  } else if (kind == "dangling") {
    std::string from = ref_of("sr-shared", 0), to = "OpaqueRef:00000000-dead-beef-0000-000000000000";
    size_t p = db.find("<table name=\"VDI\">");
    for (size_t q; (q = db.find(from, p)) != std::string::npos && q < db.find("</table>", p); p = q + to.size())
      db.replace(q, from.size(), to);
    o << db;
  } else if (kind == "entity" || kind == "billion-laughs") {
    o << "<?xml version=\"1.0\"?>\n<!DOCTYPE database [\n<!ENTITY a \"aaaaaaaaaa\">\n";
    for (int i = 1; i < 10; ++i) o << "<!ENTITY " << char('a' + i) << " \"" << std::string(10, ' ') << "\">\n";
    o << "]>\n" << db.substr(db.find("<database>"));
  } else if (kind == "cdata") {
    o << "<database><![CDATA[x]]></database>";
  } else if (kind == "huge-attr") {
    o << "<database><manifest/><table name=\"VM\"><row ref=\"OpaqueRef:1\" name__label=\"";
    std::string chunk(1 << 20, 'A');
    for (int i = 0; i < 1024 && o; ++i) o.write(chunk.data(), chunk.size());
    o << "\"/></table></database>";
  } else {
    std::cerr << "mkxapidb: unknown --hostile kind " << kind << "\n";
    return 64;
  }
  o.flush();
  return 0;
}

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  GenSpec g;
  long size_mb = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) { std::cerr << "mkxapidb: " << a << " needs a value\n"; std::exit(64); }
      return argv[++i];
    };
    if (a == "--hosts") g.hosts = std::atoi(val().c_str());
    else if (a == "--vms-per-host") g.vms_per_host = std::atoi(val().c_str());
    else if (a == "--old-encoding") g.new_encoding = false;
    else if (a == "--no-declaration") g.xml_declaration = false;
    else if (a == "--ha") g.ha = true;
    else if (a == "--wlb") g.wlb = true;
    else if (a == "--mixed") g.mixed_versions = true;
    else if (a == "--missing-update") g.missing_update = true;
    else if (a == "--pool-update") g.use_pool_update = true;
    else if (a == "--local-vm") g.local_vm = true;
    else if (a == "--affinity") g.affinity_vm = true;
    else if (a == "--no-backup") g.metadata_backup = false;
    else if (a == "--member-copy") g.member_copy = true;
    else if (a == "--no-metrics") g.no_metrics = true;
    else if (a == "--host-free") g.host_free = std::atoll(val().c_str());
    else if (a == "--vm-memory") g.vm_memory = std::atoll(val().c_str());
    else if (a == "--pad") g.pad_bytes = std::strtoul(val().c_str(), nullptr, 10);
    else if (a == "--pool-name") g.pool_name = val();
    else if (a == "--vm-name") g.name_prefix = val();
    else if (a == "--size") size_mb = std::atol(val().c_str());
    else if (a == "--hostile") return hostile(val());
    else { std::cerr << "mkxapidb: unknown option " << a << "\n"; return 64; }
  }
  if (g.hosts < 1) g.hosts = 1;
  if (size_mb > 0) {  // pad the VMs so that the file is about size_mb MB
    long vms = long(g.hosts) * g.vms_per_host;
    if (vms > 0) g.pad_bytes = size_t(size_mb) * 1000000 / size_t(vms);
  }
  generate(std::cout, g);
  std::cout.flush();
  return std::cout ? 0 : 1;
}
