#include <doctest/doctest.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <unistd.h>
#include <zlib.h>

#include "model/errors.h"
#include "xapi/database.h"
#include "xapi/model.h"
#include "xapi/testing/dbgen.h"

using namespace xsguard;
using namespace xsguard::xapi;

namespace {
Projection all() {
  Projection p;
  p.all = true;
  return p;
}
std::string gen(const testing::GenSpec& g) {
  std::ostringstream s;
  testing::generate(s, g);
  return s.str();
}
std::string error_of(std::string_view text, const ReadLimits& l = {}) {
  try {
    parse_database(text, all(), l);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("xapi reader: both encodings, with and without declaration, hostile names") {
  for (bool enc : {false, true})
    for (bool decl : {false, true}) {
      testing::GenSpec g;
      g.new_encoding = enc;
      g.xml_declaration = decl;
      g.pool_name = "A  \"pool\" & <co> 100% 'q'\nline2\tx";
      g.name_prefix = "vm  %_ %. '\\ ";
      PoolDb p = build_pool(parse_database(gen(g), pool_projection()));
      CHECK(p.pool.name == g.pool_name);  // name_label, not the name__label decoy
      REQUIRE(p.vms.size() == 2 + 4);
      CHECK(p.vm(testing::ref_of("vm", 3))->name == g.name_prefix + "3");
      CHECK(p.hosts.front().ref == p.pool.master);
      CHECK(p.hosts.front().product_version == "7.1.0");
      CHECK(p.sr(testing::ref_of("sr-shared", 0))->name == "NFS  storage");
    }
}

TEST_CASE("xapi reader: pretty-printed input, comments, single quotes, entities") {
  std::string x =
      "<?xml version=\"1.0\"?>\n<!-- c -->\n<database>\n  <manifest>\n"
      "    <pair key=\"schema_major_vsn\" value=\"5\"/>\n    <pair key='schema_minor_vsn' value='57'/>\n"
      "  </manifest>\n  <table name=\"pool\">\n    <row ref=\"OpaqueRef:p\" name_label=\"a&amp;b&#32;&#x41;&lt;%_\" "
      "master=\"OpaqueRef:h\"></row>\n  </table>\n  <table name=\"host\"><row ref=\"OpaqueRef:h\" "
      "name__label=\"h\" software_version='((\"product_version\" \"6.0.0\"))'/></table>\n</database>\n";
  Database db = parse_database(x, all());
  CHECK(db.schema_version() == "5.57");
  PoolDb p = build_pool(db);
  CHECK(p.pool.name == "a&b A<  ");
  CHECK(p.hosts[0].product_version == "6.0.0");
}

TEST_CASE("xapi reader: never keeps the secret table's values") {
  Database db = parse_database(gen({}), all());
  const Table& s = db.table("secret");
  REQUIRE(s.size() == 1);
  CHECK(s.columns().empty());
  CHECK(s.str(s.rows()[0], "value").empty());
}

TEST_CASE("xapi reader: a set column is parsed, a string column never is") {
  Database db = parse_database(gen({}), all());
  const Table& vms = db.table("VM");
  const Row& r = vms.rows()[0];
  CHECK_THROWS_AS(vms.set(r, "name__label"), std::logic_error);
  const Table& vdi = db.table("VDI");
  CHECK(vdi.map(vdi.rows()[0], "other_config").empty());
}

TEST_CASE("xapi reader: bad input is one InputError line") {
  testing::GenSpec g;
  std::string db = gen(g);
  CHECK(error_of(db.substr(0, db.size() / 2)).find("truncated") != std::string::npos);
  CHECK(error_of("").find("no XML element") != std::string::npos);
  CHECK(error_of("<config><row/></config>").find("root element is <config>") != std::string::npos);
  CHECK(error_of("<!DOCTYPE d [<!ENTITY a \"b\">]><database/>").find("DTD") != std::string::npos);
  CHECK(error_of("<database><table name=\"VM\"><row ref=\"OpaqueRef:a\" x=\"&a;\"/></table></database>")
            .find("unknown entity") != std::string::npos);
  CHECK(error_of("<database><![CDATA[x]]></database>").find("CDATA") != std::string::npos);
  CHECK(error_of("<database></table></database>").find("mismatched") != std::string::npos);
  CHECK(error_of("<database/><database/>").find("after </database>") != std::string::npos);
  CHECK(error_of("<database><table name=\"VM\"><row ref=\"OpaqueRef:a\"/><row ref=\"OpaqueRef:a\"/>"
                 "</table></database>").find("duplicate row") != std::string::npos);
  CHECK(error_of("<database><table name=\"VM\"><row ref=\"OpaqueRef:a\" a=\"1\" a=\"2\"/></table></database>")
            .find("twice") != std::string::npos);
  CHECK(error_of("<database><table name=\"VM\"><row name__label=\"x\"/></table></database>")
            .find("without a ref") != std::string::npos);
  std::string deep = "<database>";
  for (int i = 0; i < 40; ++i) deep += "<a>";
  CHECK(error_of(deep).find("nested too deeply") != std::string::npos);
  ReadLimits small;
  small.max_tag_bytes = 1 << 20;
  std::string huge = "<database><table name=\"VM\"><row ref=\"OpaqueRef:a\" x=\"" + std::string(5 << 20, 'A') + "\"/>";
  CHECK(error_of(huge, small).find("larger than") != std::string::npos);
  CHECK_THROWS_AS(build_pool(parse_database("<database/>", pool_projection())), InputError);
}

TEST_CASE("xapi reader: dangling refs are tolerated and counted") {
  std::string x =
      "<database><table name=\"pool\"><row ref=\"OpaqueRef:p\" master=\"OpaqueRef:h\"/></table>"
      "<table name=\"host\"><row ref=\"OpaqueRef:h\"/></table>"
      "<table name=\"VBD\"><row ref=\"OpaqueRef:b\" VM=\"OpaqueRef:gone\" VDI=\"OpaqueRef:NULL\"/></table>"
      "<table name=\"VM\"><row ref=\"OpaqueRef:v\" resident_on=\"OpaqueRef:nohost\" affinity=\"\"/></table>"
      "</database>";
  PoolDb p = build_pool(parse_database(x, pool_projection()));
  CHECK(p.dangling_refs == 2);
  CHECK(p.vms[0].resident_on.empty());
}

TEST_CASE("xapi reader: gzip file and a pipe") {
  std::string db = gen({});
  char path[] = "/tmp/xsguard-xapi-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  {
    gzFile gz = gzopen(path, "wb");
    gzwrite(gz, db.data(), static_cast<unsigned>(db.size()));
    gzclose(gz);
  }
  CHECK(build_pool(read_database(path, pool_projection())).hosts.size() == 2);
  {  // truncated gzip
    FILE* f = fopen(path, "r+");
    REQUIRE(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    CHECK(truncate(path, n / 2) == 0);
  }
  CHECK_THROWS_AS(read_database(path, pool_projection()), InputError);
  unlink(path);
}

static std::string dumps_dir() {
  if (const char* d = std::getenv("XSGUARD_XAPI_DUMPS")) return d;
  return "../shared/data/xapi-db-dumps";  // beside the repository, when present
}

TEST_CASE("xapi reader: the real dumps parse (XSGUARD_XAPI_DUMPS)") {
  std::string dir = dumps_dir();
  if (dir.empty() || access((dir + "/state2.xml").c_str(), R_OK) != 0) {
    MESSAGE("SKIP real dumps: none at " << dir);
    return;
  }
  CHECK(build_pool(read_database(dir + "/state2.xml", pool_projection())).pool.ha_enabled);
  CHECK(build_pool(read_database(dir + "/single-host-krakout.xml", pool_projection())).pool.wlb_enabled == true);
}
