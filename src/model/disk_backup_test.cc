#include "model/disk_backup.h"

#include <doctest/doctest.h>

using namespace xsguard;

namespace {

DiskBackup sample() {
  DiskBackup b;
  b.created = "20260101T000000Z";
  b.tool_version = "test";
  b.disk = "/dev/sda";
  b.size_bytes = 1 << 30;
  b.model = "PERC H730\nMini";  // a newline must not break the format
  b.serial = "ABC";
  b.label = "msdos";
  b.purpose = "test";
  b.table_text = "label: dos\n/dev/sda1 : start=63, size=100, type=de\n";
  b.regions.push_back({0, std::vector<uint8_t>(4096, 0xAB)});
  b.regions.push_back({(1 << 30) - 512, std::vector<uint8_t>(512, 0x00)});
  b.regions[0].bytes[10] = '\n';
  return b;
}

}  // namespace

TEST_CASE("a backup reads back exactly") {
  std::string bytes = serialize_backup(sample());
  std::string error;
  auto b = parse_backup(bytes, error);
  REQUIRE_MESSAGE(b, error);
  CHECK(b->disk == "/dev/sda");
  CHECK(b->model == "PERC H730?Mini");
  CHECK(b->table_text == sample().table_text);
  REQUIRE(b->regions.size() == 2);
  CHECK(b->regions[0].bytes == sample().regions[0].bytes);
  CHECK(b->regions[1].offset == (1u << 30) - 512);
  CHECK(serialize_backup(*b) == bytes);
}

TEST_CASE("every truncation and every flipped byte is refused, never misread") {
  std::string bytes = serialize_backup(sample());
  std::string error;
  for (size_t cut = 0; cut < bytes.size(); cut += 97)
    CHECK_FALSE(parse_backup(std::string_view(bytes).substr(0, cut), error));
  for (size_t at = 0; at < bytes.size(); at += 61) {
    std::string damaged = bytes;
    damaged[at] ^= 0x20;
    CHECK_FALSE(parse_backup(damaged, error));
  }
}

TEST_CASE("hostile but well-checksummed backups are refused") {
  auto with = [](DiskBackup b) { return serialize_backup(b); };
  std::string error;
  DiskBackup outside = sample();
  outside.regions[1].offset = (1u << 30) - 100;  // runs past the recorded disk size
  CHECK_FALSE(parse_backup(with(outside), error));
  CHECK(error.find("outside") != std::string::npos);
  DiskBackup overlap = sample();
  overlap.regions[1].offset = 100;
  CHECK_FALSE(parse_backup(with(overlap), error));
  DiskBackup none = sample();
  none.regions.clear();
  CHECK_FALSE(parse_backup(with(none), error));
  CHECK_FALSE(parse_backup("xsguard disk backup v1\nend: 00\n", error));
  CHECK_FALSE(parse_backup(std::string(100, '\0'), error));
}

TEST_CASE("backup ranges are sector aligned, merged and clipped") {
  auto r = backup_ranges({{0, 1 << 20}, {446, 462}, {(1 << 20) + 100, (1 << 20) + 200}, {5000, 2000}},
                         512, 10 << 20);
  REQUIRE(r.size() == 1);
  CHECK(r[0].first == 0);
  CHECK(r[0].second == (1 << 20) + 512);
  auto tail = backup_ranges({{(10 << 20) - 100, (10 << 20) + 4096}}, 4096, 10 << 20);
  REQUIRE(tail.size() == 1);
  CHECK(tail[0].second == 10 << 20);
}
