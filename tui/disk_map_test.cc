#include "tui/disk_map.h"

#include <doctest/doctest.h>

#include "tui/demo_assets.h"

using namespace xsguard::tui;
using Json = nlohmann::ordered_json;

namespace {

Json part(int n, uint64_t start, uint64_t end, const char* type, const char* label = "") {
  return Json{{"number", n}, {"start", start}, {"end", end}, {"sectors", end - start + 1},
              {"type", type}, {"fs_label", label}, {"fs_type", ""}, {"logical", false}, {"extended", false}};
}

Json disk(const char* label, std::vector<Json> parts, uint64_t size = 300ull << 30) {
  return Json{{"path", "/dev/sda"}, {"size_bytes", size}, {"logical_sector_size", 512},
              {"label", label}, {"partitions", parts}};
}

}  // namespace

TEST_CASE("disk map: Dell utility partition ahead of an old msdos layout") {
  auto d = disk("msdos", {part(1, 63, 65598, "0xde"), part(2, 67584, 8456191, "0x83", "root-dellxs")});
  auto m = disk_start_map(d, 1);
  REQUIRE(m.size() == 3);
  CHECK(m[0].label == "MBR");
  CHECK(m[1].kind == MapRegion::Kind::free);
  CHECK(m[1].embed_area);
  CHECK(m[1].start == 1);
  CHECK(m[1].end == 63);
  CHECK(m[2].kind == MapRegion::Kind::utility);
  CHECK(m[2].continues);
}

TEST_CASE("disk map: XenServer 7 GPT shows the table, the first MiB and the BIOS boot partition") {
  auto d = disk("gpt", {part(1, 46139392, 83888127, "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "root-x"),
                        part(4, 83888128, 84936703, "21686148-6449-6E6F-744E-656564454649"),
                        part(5, 2048, 8390655, "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "logs-x")});
  auto m = disk_start_map(d, 0);
  REQUIRE(m.size() == 6);
  CHECK(m[0].label == "PMBR");
  CHECK(m[1].label == "GPT");
  CHECK(m[1].end == 34);
  CHECK(m[2].kind == MapRegion::Kind::free);
  CHECK_FALSE(m[2].embed_area);  // on GPT the gap is not GRUB's
  CHECK(m[3].label == "#5 logs-x");
  CHECK(m[3].continues);
  CHECK(m[4].kind == MapRegion::Kind::skipped);
  CHECK(m[5].kind == MapRegion::Kind::bios_boot);
  CHECK(m[5].embed_area);
  CHECK(m[5].start == 83888128);
}

TEST_CASE("disk map: the first partition beyond the first MiB is still shown") {
  auto d = disk("msdos", {part(2, 67584, 8456191, "0x83", "root-dellxs")});
  auto m = disk_start_map(d, 0);
  REQUIRE(m.size() == 4);
  CHECK(m[1].embed_area);
  CHECK(m[1].end == 2048);
  CHECK(m[2].kind == MapRegion::Kind::skipped);
  CHECK(m[3].label == "#2 root-dellxs");
  CHECK(m[3].start == 67584);
}

TEST_CASE("disk map: no partitions, a disk smaller than a MiB, garbage in the JSON") {
  auto m = disk_start_map(disk("none", {}, 4096), 0);
  REQUIRE(m.size() == 2);
  CHECK(m[0].label == "sector 0");
  CHECK(m[1].end == 8);
  Json bad = Json{{"partitions", Json::array({1, "x", Json::object()})}};
  CHECK_FALSE(disk_start_map(bad, 0).empty());
  CHECK_FALSE(disk_start_map(Json::array(), 0).empty());
}

TEST_CASE("disk map layout: every region visible, widths add up") {
  auto d = disk("msdos", {part(1, 63, 65598, "0xde"), part(2, 67584, 8456191, "0x83", "root-dellxs")});
  auto m = disk_start_map(d, 1);
  for (int width : {40, 75, 128}) {
    auto xs = layout_map(m, width);
    REQUIRE(xs.size() == m.size() + 1);
    for (size_t i = 0; i + 1 < xs.size(); ++i) CHECK(xs[i + 1] - xs[i] >= 4);
    CHECK(xs.back() <= width - 1);
  }
  // The 32 MiB partition gets more room than the 1-sector MBR.
  auto xs = layout_map(m, 75);
  CHECK(xs[3] - xs[2] > xs[1] - xs[0]);
}

TEST_CASE("disk map layout: more regions than columns stay inside the bar") {
  std::vector<Json> parts;
  for (int i = 0; i < 30; ++i)
    parts.push_back(part(i + 1, 40 + uint64_t(i) * 60, 40 + uint64_t(i) * 60 + 49,
                         "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "a-long-label"));
  auto m = disk_start_map(disk("gpt", parts), 0);
  REQUIRE(m.size() > 30);
  for (int width : {20, 75}) {
    auto xs = layout_map(m, width);
    REQUIRE(xs.size() == m.size() + 1);
    for (size_t i = 0; i + 1 < xs.size(); ++i) CHECK(xs[i] <= xs[i + 1]);
    CHECK(xs.back() <= width - 1);
  }
}

TEST_CASE("sectors_text") {
  CHECK(sectors_text(62, 512) == "62 sectors (31.0 KiB)");
  CHECK(sectors_text(1, 512) == "1 sectors (512 B)");
  CHECK(sectors_text(629145600, 512) == "629145600 sectors (300.0 GiB)");
}
