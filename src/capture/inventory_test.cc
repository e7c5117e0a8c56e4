#include "capture/inventory.h"

#include <doctest/doctest.h>

#include <sstream>

#include "model/errors.h"

using namespace xsguard;
using namespace xsguard::capture;

TEST_CASE("capture inventory: JSON round trip and text") {
  Inventory inv;
  inv.captured_at = "2024-01-02T03:04:05Z";
  inv.root = "/mnt/old";
  inv.product = "XenServer";
  inv.version = "7.1.0";
  CapturedItem it;
  it.id = "fstab";
  it.path = "etc/fstab";
  it.captured = true;
  it.customised = "yes";
  it.custom_lines = {"nas:/b /mnt/b nfs defaults 0 0"};
  it.archived = "files/etc/fstab";
  it.mode = 0644;
  it.size = 10;
  it.sha256 = "ab";
  it.carried = carry_over("etc/fstab");
  inv.items.push_back(it);
  CapturedItem unknown_id = it;
  unknown_id.id = "not-an-item";
  inv.items.push_back(unknown_id);
  inv.xapi = {{"status", "absent"}, {"why", "no database"}};

  Inventory back = inventory_from_json(inventory_to_json(inv).dump());
  REQUIRE(back.items.size() == 1);  // unknown ids are dropped
  CHECK(back.items[0].custom_lines == it.custom_lines);
  CHECK(back.items[0].mode == 0644);
  CHECK(back.items[0].carried.verdict == Carried::no);
  CHECK(back.captured_at == inv.captured_at);

  std::ostringstream text;
  write_inventory_text(text, inv);
  CHECK(text.str().find("nas:/b /mnt/b nfs") != std::string::npos);
  CHECK(text.str().find("carried over by the upgrade: no") != std::string::npos);
  CHECK(text.str().find("no database") != std::string::npos);
}

TEST_CASE("capture inventory: damaged or hostile JSON is an input error") {
  for (std::string bad : {std::string("not json"), std::string("[]"), std::string("{\"schema\":\"other\"}"),
                          std::string("{\"schema\":\"xsguard.capture/1\"}"),
                          std::string("{\"schema\":\"xsguard.capture/1\",\"items\":[{\"id\":\"fstab\",\"path\":7}]}"),
                          std::string("{\"schema\":\"xsguard.capture/1\",\"items\":[{\"id\":\"fstab\",\"custom_lines\":[1]}]}"),
                          std::string("{\"schema\":\"xsguard.capture/1\",\"items\":[{\"id\":\"fstab\",\"mode\":-1}]}"),
                          std::string(100000, '[')})
    CHECK_THROWS_AS(inventory_from_json(bad), InputError);
}
