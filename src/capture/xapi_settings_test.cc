#include "capture/xapi_settings.h"

#include <doctest/doctest.h>

#include <sstream>

#include "xapi/testing/dbgen.h"

using namespace xsguard;
using namespace xsguard::capture;
using namespace xsguard::xapi::testing;

namespace {

// Two hosts; host 0 has a bond of eth0+eth1 carrying management, VLAN 20 on the
// bond, an iSCSI and an NFS SR, a local SR, and other-config set by hand and by xapi.
std::string database(bool new_encoding) {
  const bool e = new_encoding;
  const std::string T = "true", F = "false", NUL = "OpaqueRef:NULL";
  auto host = [](int i) { return ref_of("host", i); };
  std::ostringstream o;
  o << "<database><manifest><pair key=\"schema_major_vsn\" value=\"5\"/>"
       "<pair key=\"schema_minor_vsn\" value=\"108\"/></manifest>";
  o << "<table name=\"Bond\">";
  RowWriter(o, e, ref_of("bond", 0)).a("uuid", uuid_of("bond", 0)).a("master", ref_of("pif-bond", 0))
      .a("mode", "active-backup").a("primary_slave", ref_of("pif-eth", 0));
  o << "</table><table name=\"PBD\">";
  RowWriter(o, e, ref_of("pbd", 0)).a("host", host(0)).a("SR", ref_of("sr", 0))
      .a("device_config", sexpr_map({{"target", "10.0.0.20"}, {"targetIQN", "iqn.2004-04.com.qnap:x"},
                                     {"chappassword", "SECRET-chap"}}));
  RowWriter(o, e, ref_of("pbd", 1)).a("host", host(0)).a("SR", ref_of("sr", 1))
      .a("device_config", sexpr_map({{"server", "10.0.0.9"}, {"serverpath", "/export/iso  dir"}}));
  RowWriter(o, e, ref_of("pbd", 2)).a("host", host(0)).a("SR", ref_of("sr", 2))
      .a("device_config", sexpr_map({{"device", "/dev/sda3"}}));
  RowWriter(o, e, ref_of("pbd", 3)).a("host", host(1)).a("SR", ref_of("sr", 0))
      .a("device_config", sexpr_map({{"target", "10.0.0.20"}}));
  o << "</table><table name=\"PIF\">";
  for (int i = 0; i < 2; ++i)
    RowWriter(o, e, ref_of("pif-eth", i)).a("uuid", uuid_of("pif-eth", i)).a("device", "eth" + std::to_string(i))
        .a("host", host(0)).a("network", ref_of("net", 9)).a("VLAN", -1).a("management", F)
        .a("bond_slave_of", ref_of("bond", 0)).a("physical", T);
  RowWriter(o, e, ref_of("pif-bond", 0)).a("uuid", uuid_of("pif-bond", 0)).a("device", "bond0").a("host", host(0))
      .a("network", ref_of("net", 0)).a("VLAN", -1).a("management", T).a("ip_configuration_mode", "Static")
      .a("IP", "10.0.1.5").a("netmask", "255.255.255.0").a("gateway", "10.0.1.254").a("DNS", "10.0.1.53")
      .a("bond_slave_of", NUL).a("physical", F);
  RowWriter(o, e, ref_of("pif-vlan", 0)).a("device", "bond0").a("host", host(0)).a("network", ref_of("net", 1))
      .a("VLAN", 20).a("management", F).a("bond_slave_of", NUL);
  RowWriter(o, e, ref_of("pif-eth", 5)).a("device", "eth0").a("host", host(1)).a("network", ref_of("net", 9))
      .a("management", T).a("IP", "10.0.1.6").a("bond_slave_of", NUL);
  o << "</table><table name=\"SR\">";
  RowWriter(o, e, ref_of("sr", 0)).a("uuid", uuid_of("sr", 0)).a("name__label", "iSCSI  store").a("type", "lvmoiscsi").a("shared", T);
  RowWriter(o, e, ref_of("sr", 1)).a("uuid", uuid_of("sr", 1)).a("name__label", "ISOs").a("type", "nfs").a("shared", T);
  RowWriter(o, e, ref_of("sr", 2)).a("uuid", uuid_of("sr", 2)).a("name__label", "Local storage").a("type", "lvm").a("shared", F);
  o << "</table><table name=\"VLAN\">";
  RowWriter(o, e, ref_of("vlan", 0)).a("tagged_PIF", ref_of("pif-bond", 0)).a("untagged_PIF", ref_of("pif-vlan", 0)).a("tag", 20);
  o << "</table><table name=\"host\">";
  RowWriter(o, e, host(0)).a("uuid", uuid_of("host", 0)).a("name__label", "host  0")
      .a("other_config", sexpr_map({{"iscsi_iqn", "iqn.2017-01.com.example:h0"}, {"agent_start_time", "1"},
                                    {"backup-owner", "ops team"}, {"ldap_password", "SECRET-ldap"}}));
  RowWriter(o, e, host(1)).a("uuid", uuid_of("host", 1)).a("name__label", "host 1").a("other_config", "()");
  o << "</table><table name=\"network\">";
  RowWriter(o, e, ref_of("net", 0)).a("bridge", "xapi1");
  RowWriter(o, e, ref_of("net", 1)).a("bridge", "xapi2");
  o << "</table><table name=\"pool\">";
  RowWriter(o, e, ref_of("pool", 0)).a("uuid", uuid_of("pool", 0)).a("name_label", "Pool A").a("master", host(0))
      .a("other_config", sexpr_map({{"cpuid_feature_mask", "ff"}, {"auto_poweron", "true"}}));
  o << "</table><table name=\"secret\">";
  RowWriter(o, e, ref_of("secret", 0)).a("value", "SECRET-value");
  o << "</table></database>";
  return o.str();
}

}  // namespace

TEST_CASE("capture xapi settings: one host's network, storage, IQN and hand-set keys") {
  for (bool enc : {false, true}) {
    auto db = xapi::parse_database(database(enc), settings_projection());
    auto x = xapi_settings(db, uuid_of("host", 0));
    REQUIRE(x["hosts"].size() == 1);
    const auto& h = x["hosts"][0];
    CHECK(h["name"] == "host  0");
    CHECK(h["management"]["device"] == "bond0");
    CHECK(h["management"]["ip"] == "10.0.1.5");
    CHECK(h["management"]["bridge"] == "xapi1");
    REQUIRE(h["bonds"].size() == 1);
    CHECK(h["bonds"][0]["mode"] == "active-backup");
    CHECK(h["bonds"][0]["slaves"] == nlohmann::ordered_json({"eth0", "eth1"}));
    CHECK(h["bonds"][0]["primary_slave"] == "eth0");
    REQUIRE(h["vlans"].size() == 1);
    CHECK(h["vlans"][0]["tag"] == 20);
    CHECK(h["vlans"][0]["on"] == "bond0");
    REQUIRE(h["storage"].size() == 2);  // iSCSI and NFS; the local SR is not a connection
    CHECK(h["storage"][0]["type"] == "lvmoiscsi");
    CHECK(h["storage"][0]["device_config"]["chappassword"] == "(not recorded)");
    CHECK(h["storage"][1]["device_config"]["serverpath"] == "/export/iso  dir");
    CHECK(h["iscsi_iqn"] == "iqn.2017-01.com.example:h0");
    CHECK(h["other_config_set_by_hand"] == nlohmann::ordered_json({{"backup-owner", "ops team"},
                                                                   {"ldap_password", "(not recorded)"}}));
    CHECK(x["pool"]["other_config_set_by_hand"] == nlohmann::ordered_json({{"auto_poweron", "true"}}));
    std::string all = x.dump();
    CHECK(all.find("SECRET") == std::string::npos);

    std::ostringstream text;
    write_xapi_text(text, x);
    CHECK(text.str().find("bond bond0 (active-backup): eth0+eth1") != std::string::npos);
    CHECK(text.str().find("VLAN 20 on bond0") != std::string::npos);
  }
}

TEST_CASE("capture xapi settings: an unknown host lists every host") {
  auto db = xapi::parse_database(database(true), settings_projection());
  auto x = xapi_settings(db, "");
  CHECK(x["hosts"].size() == 2);
  CHECK(x["host_selection"].get<std::string>().find("every host") == 0);
}
