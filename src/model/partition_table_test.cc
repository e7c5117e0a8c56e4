#include "model/partition_table.h"

#include <doctest/doctest.h>

#include "model/testing/disk_builder.h"

using namespace xsguard;
using namespace xsguard::testing;

namespace {

DiskLayout read(const ByteSource& disk, uint32_t lss = 512) {
  DiskLayout l;
  l.size_bytes = disk.size();
  l.logical_sector = lss;
  read_partition_table(disk, l);
  return l;
}

bool has_problem(const DiskLayout& l, const std::string& code) {
  for (const auto& p : l.problems)
    if (p.code == code) return true;
  return false;
}

constexpr uint64_t kGiB = 1ull << 30;

}  // namespace

TEST_CASE("crc32 matches the IEEE check value") {
  const char* s = "123456789";
  CHECK(crc32_ieee(reinterpret_cast<const uint8_t*>(s), 9) == 0xCBF43926u);
}

TEST_CASE("blank and foreign first sectors") {
  SparseDisk blank(10 << 20);
  CHECK(read(blank).label == LabelKind::none);
  SparseDisk foreign(10 << 20);
  foreign.write(0, "\xEB\x3C\x90MSDOS5.0", 11);
  CHECK(read(foreign).label == LabelKind::unknown);
  CHECK(read(foreign).problems.empty());
  SparseDisk tiny(100);
  auto l = read(tiny);
  CHECK(l.label == LabelKind::unknown);
  CHECK(has_problem(l, "unreadable"));
}

TEST_CASE("msdos primaries, Dell utility first, Linux numbering") {
  SparseDisk d(20 * kGiB);
  put_mbr(d, {{0xDE, 63, 65000}, {0x83, 65536, 8388608, 0x80}, {0x83, 8454144, 8388608},
              {0x8E, 16842752, 20000000}});
  auto l = read(d);
  REQUIRE(l.label == LabelKind::msdos);
  REQUIRE(l.partitions.size() == 4);
  CHECK(l.partitions[0].mbr_type == 0xDE);
  CHECK(l.partitions[0].start == 63);
  CHECK(l.partitions[1].bootable);
  CHECK(l.partitions[3].number == 4);
  CHECK(l.problems.empty());
}

TEST_CASE("msdos extended chain: logicals are numbered from 5 and relative to their EBR") {
  SparseDisk d(1 * kGiB);
  put_mbr(d, {{0x05, 2048, 1000000}});
  put_mbr(d, {{0x83, 2048, 4096}, {0x05, 10000, 5000}}, 2048 * 512ull);
  put_mbr(d, {{0x82, 100, 2000}}, (2048 + 10000) * 512ull);
  auto l = read(d);
  REQUIRE(l.partitions.size() == 3);
  CHECK(l.partitions[0].extended);
  CHECK(l.partitions[1].number == 5);
  CHECK(l.partitions[1].start == 2048 + 2048);
  CHECK(l.partitions[2].number == 6);
  CHECK(l.partitions[2].start == 2048 + 10000 + 100);
  CHECK(l.problems.empty());
  CHECK(l.by_start().size() == 2);
}

TEST_CASE("an EBR chain that loops is reported, not followed forever") {
  SparseDisk d(1 * kGiB);
  put_mbr(d, {{0x05, 2048, 1000000}});
  put_mbr(d, {{0x83, 2048, 100}, {0x05, 5000, 100}}, 2048 * 512ull);
  // The second EBR links to itself (links are relative to the extended partition).
  put_mbr(d, {{0x83, 64, 100}, {0x05, 5000, 100}}, (2048 + 5000) * 512ull);
  auto l = read(d);
  CHECK(has_problem(l, "ebr_loop"));
  CHECK(l.partitions.size() == 3);
}

TEST_CASE("an EBR beyond the disk or without signature") {
  SparseDisk d(100 << 20);
  put_mbr(d, {{0x0F, 1u << 30, 1000}});
  auto l = read(d);
  CHECK(has_problem(l, "ebr_beyond_end"));
  CHECK(has_problem(l, "beyond_end"));
  SparseDisk e(100 << 20);
  put_mbr(e, {{0x05, 2048, 100000}});
  CHECK(has_problem(read(e), "ebr_no_signature"));
}

TEST_CASE("overlap and bad boot flags") {
  SparseDisk d(1 * kGiB);
  put_mbr(d, {{0x83, 2048, 10000}, {0x83, 5000, 10000, 0x12}});
  auto l = read(d);
  CHECK(has_problem(l, "overlap"));
  CHECK(has_problem(l, "bad_boot_flag"));
}

TEST_CASE("GPT with names, types and a valid backup") {
  SparseDisk d(60 * kGiB);
  put_gpt(d, 512, {{kGptEsp, 2048, 10239, "DELLUTILITY"}, {kGptBiosBoot, 10240, 12287, "boot"},
                   {kGptLinuxData, 12288, 1000000, "root"}});
  auto l = read(d);
  REQUIRE(l.label == LabelKind::gpt);
  REQUIRE(l.partitions.size() == 3);
  CHECK(l.partitions[0].gpt_type == kGptEsp);
  CHECK(l.partitions[0].gpt_name == "DELLUTILITY");
  CHECK(l.partitions[1].gpt_type == kGptBiosBoot);
  CHECK(l.partitions[2].sectors == 1000000 - 12288 + 1);
  CHECK(l.problems.empty());
}

TEST_CASE("GPT header CRC damage falls back to the backup and says so") {
  SparseDisk d(10 * kGiB);
  put_gpt(d, 512, {{kGptLinuxData, 2048, 4095, "a"}});
  d.put_u8(512 + 40, 0x99);  // first usable LBA changed under the CRC
  auto l = read(d);
  CHECK(l.label == LabelKind::gpt);
  CHECK(has_problem(l, "gpt_header_crc"));
  CHECK(l.partitions.size() == 1);
}

TEST_CASE("GPT entry array damage, and both copies gone") {
  SparseDisk d(10 * kGiB);
  put_gpt(d, 512, {{kGptLinuxData, 2048, 4095, "a"}});
  d.put_u8(1024 + 32, 0x01);  // primary array changed under its CRC
  auto l = read(d);
  CHECK(has_problem(l, "gpt_entries_crc"));
  CHECK(l.label == LabelKind::gpt);  // the backup still reads
  SparseDisk gone(10 * kGiB);
  put_gpt(gone, 512, {{kGptLinuxData, 2048, 4095, "a"}});
  gone.put_u8(512, 'X');
  gone.put_u8((gone.size() / 512 - 1) * 512, 'X');
  auto g = read(gone);
  CHECK(g.label == LabelKind::unknown);
  CHECK(has_problem(g, "gpt_header_bad"));
  CHECK(has_problem(g, "gpt_backup_bad"));
}

TEST_CASE("a GPT header that lies about its entry count costs nothing") {
  SparseDisk d(10 << 20);
  put_gpt(d, 512, {{kGptLinuxData, 2048, 4095, "a"}}, 128);
  // Claim 10,000,000 entries and fix the header CRC so only the count is wrong.
  d.put_le32(512 + 80, 10000000);
  std::vector<uint8_t> h(92);
  d.read(512, h.data(), 92);
  for (int i = 16; i < 20; ++i) h[size_t(i)] = 0;
  d.put_le32(512 + 16, crc32_ieee(h.data(), 92));
  auto l = read(d);
  CHECK(has_problem(l, "gpt_header_bad"));
}

TEST_CASE("4Kn GPT: header at byte 4096, sectors in 4096-byte units") {
  SparseDisk d(8 * kGiB);
  put_gpt(d, 4096, {{kGptBiosBoot, 256, 511, "bios"}, {kGptLinuxData, 512, 100000, "root"}});
  CHECK(guess_logical_sector_size(d) == 4096);
  auto l = read(d, 4096);
  REQUIRE(l.label == LabelKind::gpt);
  CHECK(l.partitions[0].start == 256);
  CHECK(l.problems.empty());
  SparseDisk small(8 * kGiB);
  put_gpt(small, 512, {{kGptLinuxData, 2048, 4095, "a"}});
  CHECK(guess_logical_sector_size(small) == 512);
}

TEST_CASE("a backup GPT short of the end is reported as misplaced") {
  SparseDisk d(10 * kGiB);
  put_gpt(d, 512, {{kGptLinuxData, 2048, 4095, "a"}});
  SparseDisk grown(20 * kGiB);
  std::vector<uint8_t> buf(1 << 20);
  d.read(0, buf.data(), buf.size());
  grown.write(0, buf.data(), buf.size());
  d.read(d.size() - buf.size(), buf.data(), buf.size());
  grown.write(d.size() - buf.size(), buf.data(), buf.size());
  auto l = read(grown);
  CHECK(l.label == LabelKind::gpt);
  CHECK(has_problem(l, "gpt_backup_misplaced"));
}

TEST_CASE("planned removal: msdos slot zeroed; GPT entries and CRCs rewritten") {
  SparseDisk m(1 * kGiB);
  put_mbr(m, {{0xDE, 63, 1000}, {0x83, 2048, 10000}});
  auto lm = read(m);
  PatchedSource pm(m);
  for (auto& e : plan_partition_removal(m, lm, 1)) pm.patch(e.offset, e.bytes);
  auto after = read(pm);
  REQUIRE(after.partitions.size() == 1);
  CHECK(after.partitions[0].number == 2);

  SparseDisk g(10 * kGiB);
  put_gpt(g, 512, {{kGptEsp, 2048, 4095, "DELLUTILITY"}, {kGptLinuxData, 4096, 8191, "root"}});
  auto lg = read(g);
  PatchedSource pg(g);
  auto edits = plan_partition_removal(g, lg, 1);
  CHECK(edits.size() == 4);
  for (auto& e : edits) pg.patch(e.offset, e.bytes);
  auto ag = read(pg);
  CHECK(ag.problems.empty());
  REQUIRE(ag.partitions.size() == 1);
  CHECK(ag.partitions[0].number == 2);
  CHECK(plan_partition_removal(g, lg, 7).empty());
}

TEST_CASE("partition device names") {
  CHECK(partition_device("/dev/sda", 1, true) == "/dev/sda1");
  CHECK(partition_device("/dev/nvme0n1", 2, true) == "/dev/nvme0n1p2");
  CHECK(partition_device("disk.img", 3, false) == "disk.img#3");
}
