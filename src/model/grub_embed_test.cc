// GRUB 2.06's embedding rules on disks built in memory. Every expected message is
// GRUB's own line, as grub-bios-setup prints it (tests/oracle checks the model
// against the real program).
#include "model/grub_embed.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace xsguard {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

const char* const kNoGap =
    "this msdos-style partition label has no post-MBR gap; embedding won't be possible.";
const char* const kCoreTooLarge =
    "your core.img is unusually large.  It won't fit in the embedding area.";
const char* const kAreaTooSmall =
    "your embedding area is unusually small.  core.img won't fit in it..";
const char* const kOtherSoftware =
    "other software is using the embedding area, and there is not enough room for core.img.  "
    "Such software is often trying to store data in a way that avoids detection.  We "
    "recommend you investigate.";
const char* const kNoBiosBoot =
    "this GPT partition label contains no BIOS Boot Partition; embedding won't be possible.";
const char* const kBiosBootTooSmall =
    "your BIOS Boot Partition is too small; embedding won't be possible.";
const char* const kBiosBootUnder1MiB =
    "Your BIOS Boot Partition is under 1 MiB, please increase its size..";
const char* const kEmbeddingAreaTooSmall =
    "Your embedding area is unusually small.  core.img won't fit in it..";
const char* const kUnidentified =
    "unable to identify a filesystem in hd0; safety check can't be performed.";
const char* const kOutsideDisk = "attempt to read or write outside of disk `hd0'.";

std::string program_warning(uint64_t sector, const std::string& program) {
  return "Sector " + std::to_string(sector) + " is already in use by the program `" + program +
         "'; avoiding it.  This software may cause boot or other problems in future.  Please "
         "ask its authors not to store data in the boot track.";
}

std::string raid_warning(uint64_t sector) {
  return "Sector " + std::to_string(sector) +
         " is already in use by raid controller `HighPoint RAID controller'; avoiding it.  "
         "Please ask the manufacturer not to store data in MBR gap.";
}

// One entry of the partition table whose sector starts at table_byte.
void put_entry(SparseDisk& disk, uint64_t table_byte, int slot, uint8_t type, uint32_t start,
               uint32_t length = 1000, uint8_t flag = 0) {
  uint64_t e = table_byte + 446 + 16 * uint64_t(slot);
  disk.put_u8(e, flag);
  disk.put_u8(e + 4, type);
  disk.put_le32(e + 8, start);
  disk.put_le32(e + 12, length);
}

void sign_table(SparseDisk& disk, uint64_t table_byte) { disk.put_le16(table_byte + 510, 0xAA55); }

// A signed MBR with one primary partition.
SparseDisk mbr_disk(uint32_t start, uint8_t type = 0x83, uint64_t size = 4 * kMiB) {
  SparseDisk disk(size);
  put_entry(disk, 0, 0, type, start);
  sign_table(disk, 0);
  return disk;
}

void put_bytes(SparseDisk& disk, uint64_t offset, const std::vector<uint8_t>& bytes) {
  disk.write(offset, bytes.data(), bytes.size());
}

std::vector<uint64_t> run_of(uint64_t first, uint64_t count) {
  std::vector<uint64_t> v;
  for (uint64_t i = 0; i < count; ++i) v.push_back(first + i);
  return v;
}

using Guid = std::vector<uint8_t>;
const Guid kBiosBootType = {0x48, 0x61, 0x68, 0x21, 0x49, 0x64, 0x6f, 0x6e,
                            0x74, 0x4e, 0x65, 0x65, 0x64, 0x45, 0x46, 0x49};
const Guid kLinuxType = {0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
                         0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4};

struct GptEntry {
  uint32_t slot;
  Guid type;
  uint64_t first, last;  // in logical sectors
};

// Protective MBR, header at LBA 1, 128 entries at LBA 2. GRUB reads neither CRC, so
// none is written.
SparseDisk gpt_disk(const std::vector<GptEntry>& entries, uint32_t sector = 512,
                    uint64_t size = 16 * kMiB) {
  SparseDisk disk(size);
  put_entry(disk, 0, 0, 0xEE, 1, uint32_t(size / sector - 1));
  sign_table(disk, 0);
  disk.write(sector, "EFI PART", 8);
  disk.put_le32(sector + 8, 0x00010000);
  disk.put_le32(sector + 12, 92);
  disk.put_le64(sector + 24, 1);
  disk.put_le64(sector + 72, 2);
  disk.put_le32(sector + 80, 128);
  disk.put_le32(sector + 84, 128);
  for (const auto& e : entries) {
    uint64_t at = 2 * uint64_t(sector) + 128 * uint64_t(e.slot);
    put_bytes(disk, at, e.type);
    disk.put_le64(at + 32, e.first);
    disk.put_le64(at + 40, e.last);
  }
  return disk;
}

void check_fails(const EmbedOutcome& o, EmbedReason reason, const std::string& message) {
  CHECK_FALSE(o.fits);
  CHECK(o.reason == reason);
  CHECK(o.message == message);
  CHECK(o.embed_sectors.empty());
}

TEST_CASE("msdos: a primary at sector `end` leaves end - 1 sectors, enough iff end >= C + 1") {
  const uint32_t cores[] = {1, 53, 61, 62, 63, 64, 70, 254, 888, 889};
  SparseDisk disk = mbr_disk(1);
  for (uint32_t end = 1; end <= 2048; ++end) {
    disk.put_le32(446 + 8, end);
    for (uint32_t core : cores) {
      INFO("end=" << end << " C=" << core);
      EmbedOutcome o = simulate_grub_embed(disk, 512, core);
      CHECK(o.partmap == "msdos");
      CHECK(o.gap_sectors == end - 1);
      CHECK(o.warnings.empty());
      if (end >= core + 1 && core > 888) {
        // The gap is big enough, but with RS codes GRUB takes at most 888 sectors,
        // fewer than C: the scan's own "not enough room" check fires.
        check_fails(o, EmbedReason::other_software, kOtherSoftware);
      } else if (end >= core + 1) {
        REQUIRE(o.fits);
        CHECK(o.reason == EmbedReason::fits);
        CHECK(o.message.empty());
        uint64_t written = std::min<uint64_t>({end - 1, 2ull * core, 888});
        CHECK(o.embed_sectors == run_of(1, written));
      } else if (end <= 1) {
        check_fails(o, EmbedReason::no_post_mbr_gap, kNoGap);
      } else if (core > 62) {
        check_fails(o, EmbedReason::core_too_large, kCoreTooLarge);
      } else {
        check_fails(o, EmbedReason::area_too_small, kAreaTooSmall);
      }
    }
  }
}

TEST_CASE("msdos: a nonzero-type entry at sector 0 leaves no post-MBR gap") {
  check_fails(simulate_grub_embed(mbr_disk(0), 512, 53), EmbedReason::no_post_mbr_gap, kNoGap);
}

TEST_CASE("msdos: every nonzero type bounds the gap, whatever its length; type 0 does not") {
  SparseDisk disk(4 * kMiB);
  put_entry(disk, 0, 0, 0x83, 2048);
  put_entry(disk, 0, 1, 0x00, 10);     // empty slot: ignored
  put_entry(disk, 0, 2, 0xDE, 40, 0);  // zero length, Dell utility type: counts
  sign_table(disk, 0);
  EmbedOutcome o = simulate_grub_embed(disk, 512, 53);
  CHECK(o.gap_sectors == 39);
  check_fails(o, EmbedReason::area_too_small, kAreaTooSmall);

  put_entry(disk, 0, 2, 0x00, 40, 0);
  o = simulate_grub_embed(disk, 512, 53);
  CHECK(o.fits);
  CHECK(o.gap_sectors == 2047);
}

TEST_CASE("msdos: the signature scan skips other programs' sectors and shifts the list") {
  SUBCASE("one signature: skipped, the run continues after it") {
    SparseDisk disk = mbr_disk(101);
    disk.write(5 * 512, "ZISD", 4);
    EmbedOutcome o = simulate_grub_embed(disk, 512, 53);
    REQUIRE(o.fits);
    CHECK(o.warnings == std::vector<std::string>{program_warning(5, "ZISD")});
    CHECK(o.skipped_sectors == std::vector<uint64_t>{5});
    std::vector<uint64_t> expected = run_of(1, 4);
    for (uint64_t s = 6; s <= 100; ++s) expected.push_back(s);
    CHECK(o.embed_sectors == expected);  // 99 sectors: the gap less the skipped one
  }
  SUBCASE("adjacent signatures: the sector that slides into the slot is checked too") {
    SparseDisk disk = mbr_disk(2049);
    put_bytes(disk, 1 * 512, {0xd4, 0x41, 0xa0, 0xf5, 0x03, 0x00, 0x03, 0x00});
    put_bytes(disk, 2 * 512, {0xd8, 0x41, 0xa0, 0xf5, 0x02, 0x00, 0x02, 0x00});
    EmbedOutcome o = simulate_grub_embed(disk, 512, 53);
    REQUIRE(o.fits);
    CHECK(o.warnings ==
          std::vector<std::string>{program_warning(1, "FlexNet"), program_warning(2, "FlexNet")});
    CHECK(o.embed_sectors == run_of(3, 106));
  }
  SUBCASE("HighPoint RAID gets the raid-controller wording") {
    SparseDisk disk = mbr_disk(2049);
    disk.write(7 * 512, "ycgl", 4);
    EmbedOutcome o = simulate_grub_embed(disk, 512, 53);
    CHECK(o.fits);
    CHECK(o.warnings == std::vector<std::string>{raid_warning(7)});
  }
  SUBCASE("HP and Acer signatures, matched at byte 0 only") {
    SparseDisk disk = mbr_disk(2049);
    put_bytes(disk, 3 * 512,
              {0x70, 0x8a, 0x5d, 0x46, 0x35, 0xc5, 0x1b, 0x93, 0xae, 0x3d, 0x86, 0xfd, 0xb1, 0x55,
               0x3e, 0xe0});
    disk.write(4 * 512, "GREGRegDone.Tag\0", 16);
    disk.write(6 * 512 + 1, "ZISD", 4);  // not at byte 0: GRUB overwrites it
    EmbedOutcome o = simulate_grub_embed(disk, 512, 53);
    CHECK(o.fits);
    CHECK(o.warnings ==
          std::vector<std::string>{program_warning(3, "HP Backup and Recovery Manager (?)"),
                                   program_warning(4, "Acer registration utility (?)")});
    CHECK(o.skipped_sectors == std::vector<uint64_t>{3, 4});
  }
  SUBCASE("signatures past the 2C sectors GRUB takes are never looked at") {
    SparseDisk disk = mbr_disk(2049);
    disk.write(200 * 512, "ZISD", 4);
    EmbedOutcome o = simulate_grub_embed(disk, 512, 53);
    CHECK(o.fits);
    CHECK(o.warnings.empty());
    CHECK(o.embed_sectors == run_of(1, 106));
  }
  SUBCASE("too many in a tight gap: other software, after warning about each one found") {
    SparseDisk disk = mbr_disk(55);  // 54 sectors for a 53-sector core
    disk.write(10 * 512, "ZISD", 4);
    disk.write(20 * 512, "ycgl", 4);
    disk.write(30 * 512, "ZISD", 4);  // never reached: GRUB stops once it is short
    EmbedOutcome o = simulate_grub_embed(disk, 512, 53);
    check_fails(o, EmbedReason::other_software, kOtherSoftware);
    CHECK(o.warnings == std::vector<std::string>{program_warning(10, "ZISD"), raid_warning(20)});
  }
}

TEST_CASE("msdos: logical partitions, starting relative to their EBR, never lower the end") {
  SparseDisk disk(8 * kMiB);
  put_entry(disk, 0, 1, 0x05, 2048, 8192);
  sign_table(disk, 0);
  put_entry(disk, 2048 * 512, 0, 0x83, 1, 100);    // logical at 2049
  put_entry(disk, 2048 * 512, 1, 0x05, 200, 300);  // next EBR at 2048 + 200
  sign_table(disk, 2048 * 512);
  put_entry(disk, 2248 * 512, 0, 0x82, 63, 100);
  sign_table(disk, 2248 * 512);
  EmbedOutcome o = simulate_grub_embed(disk, 512, 70);
  CHECK(o.fits);
  CHECK(o.gap_sectors == 2047);  // the extended entry's own start

  put_entry(disk, 0, 1, 0x0F, 60, 8192);  // the extended entry bounds the gap like any other
  put_entry(disk, 60 * 512, 0, 0x83, 2000, 100);
  sign_table(disk, 60 * 512);
  o = simulate_grub_embed(disk, 512, 53);
  CHECK(o.fits);
  CHECK(o.gap_sectors == 59);
  check_fails(simulate_grub_embed(disk, 512, 70), EmbedReason::core_too_large, kCoreTooLarge);
}

TEST_CASE("msdos: an extended partition without logicals is no partition map to GRUB") {
  SparseDisk disk(4 * kMiB);
  put_entry(disk, 0, 0, 0x05, 2048, 4096);
  sign_table(disk, 0);
  sign_table(disk, 2048 * 512);
  EmbedOutcome o = simulate_grub_embed(disk, 512, 53);
  check_fails(o, EmbedReason::no_partition_map, kUnidentified);
  CHECK(o.partmap.empty());

  put_entry(disk, 2048 * 512, 0, 0x83, 2048, 100);  // one logical makes it a map
  o = simulate_grub_embed(disk, 512, 53);
  CHECK(o.fits);
  CHECK(o.partmap == "msdos");
}

TEST_CASE("msdos: broken EBR chains after a recognised table are bad partition maps") {
  SparseDisk disk(4 * kMiB);
  put_entry(disk, 0, 0, 0x83, 2048);
  put_entry(disk, 0, 1, 0x05, 4096, 1000);
  sign_table(disk, 0);
  const uint64_t ebr = 4096 * 512;
  put_entry(disk, ebr, 0, 0x83, 63, 100);
  sign_table(disk, ebr);

  SUBCASE("a link back to itself") {
    put_entry(disk, ebr, 1, 0x05, 0, 100);
    check_fails(simulate_grub_embed(disk, 512, 53), EmbedReason::bad_partition_map,
                "loop detected.");
  }
  SUBCASE("an EBR without 55AA") {
    disk.put_le16(ebr + 510, 0);
    check_fails(simulate_grub_embed(disk, 512, 53), EmbedReason::bad_partition_map,
                "no signature.");
  }
  SUBCASE("a boot flag with bits other than 0x80") {
    put_entry(disk, ebr, 0, 0x83, 63, 100, 0x81);
    check_fails(simulate_grub_embed(disk, 512, 53), EmbedReason::bad_partition_map,
                "bad boot flag.");
  }
  SUBCASE("0xEE in an EBR's first slot") {
    put_entry(disk, ebr, 0, 0xEE, 63, 100);
    check_fails(simulate_grub_embed(disk, 512, 53), EmbedReason::bad_partition_map, "dummy mbr.");
  }
  SUBCASE("a link past the end of the disk") {
    put_entry(disk, ebr, 1, 0x05, 100000, 100);
    check_fails(simulate_grub_embed(disk, 512, 53), EmbedReason::bad_partition_map, kOutsideDisk);
  }
}

TEST_CASE("msdos: a bad boot flag or 0xEE in the MBR itself leaves no partition map") {
  SparseDisk flagged(4 * kMiB);
  put_entry(flagged, 0, 0, 0x83, 2048, 1000, 0x01);
  sign_table(flagged, 0);
  check_fails(simulate_grub_embed(flagged, 512, 53), EmbedReason::no_partition_map, kUnidentified);

  SparseDisk hybrid_without_gpt(4 * kMiB);
  put_entry(hybrid_without_gpt, 0, 0, 0x83, 2048);
  put_entry(hybrid_without_gpt, 0, 3, 0xEE, 1, 2047);
  sign_table(hybrid_without_gpt, 0);
  check_fails(simulate_grub_embed(hybrid_without_gpt, 512, 53), EmbedReason::no_partition_map,
              kUnidentified);

  SparseDisk unsigned_mbr(4 * kMiB);
  put_entry(unsigned_mbr, 0, 0, 0x83, 2048);
  check_fails(simulate_grub_embed(unsigned_mbr, 512, 53), EmbedReason::no_partition_map,
              kUnidentified);
}

TEST_CASE("msdos: embedding sectors past the end of the disk fail when GRUB writes them") {
  SparseDisk small = mbr_disk(2048, 0x83, 300 * 512);
  CHECK(simulate_grub_embed(small, 512, 53).fits);  // 106 sectors, all on the disk
  EmbedOutcome o = simulate_grub_embed(small, 512, 254);
  check_fails(o, EmbedReason::bad_partition_map, kOutsideDisk);
}

TEST_CASE("msdos: options") {
  SparseDisk disk = mbr_disk(2048);
  EmbedOptions no_rs;
  no_rs.rs_codes = false;
  CHECK(simulate_grub_embed(disk, 512, 53, no_rs).embed_sectors == run_of(1, 53));

  EmbedOptions short_gap;
  short_gap.warn_short_gap = true;
  short_gap.disk_name = "hd1";
  SparseDisk tight = mbr_disk(40);
  EmbedOutcome o = simulate_grub_embed(tight, 512, 53, short_gap);
  CHECK(o.warnings == std::vector<std::string>{"You have a short MBR gap and use advanced "
                                               "config. Please increase post-MBR gap.."});
  CHECK(o.reason == EmbedReason::area_too_small);
  SparseDisk empty(4 * kMiB);
  CHECK(simulate_grub_embed(empty, 512, 53, short_gap).message ==
        "unable to identify a filesystem in hd1; safety check can't be performed.");
}

TEST_CASE("gpt: no BIOS Boot Partition") {
  SparseDisk disk = gpt_disk({{0, kLinuxType, 2048, 30000}});
  EmbedOutcome o = simulate_grub_embed(disk, 512, 53);
  CHECK(o.partmap == "gpt");
  check_fails(o, EmbedReason::no_bios_boot_partition, kNoBiosBoot);

  // An entry whose last sector is one before its first has length 0: not found either.
  SparseDisk empty_boot = gpt_disk({{0, kLinuxType, 4096, 30000}, {1, kBiosBootType, 2048, 2047}});
  check_fails(simulate_grub_embed(empty_boot, 512, 53), EmbedReason::no_bios_boot_partition,
              kNoBiosBoot);
}

TEST_CASE("gpt: the BIOS Boot Partition must hold C sectors, with no spare one") {
  SparseDisk disk = gpt_disk({{0, kBiosBootType, 34, 34 + 70 - 1}, {1, kLinuxType, 2048, 30000}});
  EmbedOutcome fits = simulate_grub_embed(disk, 512, 70);
  REQUIRE(fits.fits);
  CHECK(fits.area_start == 34);
  CHECK(fits.gap_sectors == 70);
  CHECK(fits.embed_sectors == run_of(34, 70));
  CHECK(fits.warnings == std::vector<std::string>{kBiosBootUnder1MiB});

  EmbedOutcome too_small = simulate_grub_embed(disk, 512, 71);
  check_fails(too_small, EmbedReason::bios_boot_too_small, kBiosBootTooSmall);
  CHECK(too_small.warnings == std::vector<std::string>{kBiosBootUnder1MiB});
}

TEST_CASE("gpt: the under-1-MiB warning stops at 1900 sectors") {
  SparseDisk small = gpt_disk({{0, kBiosBootType, 2048, 2048 + 1899 - 1}});
  SparseDisk enough = gpt_disk({{0, kBiosBootType, 2048, 2048 + 1900 - 1}});
  CHECK(simulate_grub_embed(small, 512, 53).warnings.size() == 1);
  EmbedOutcome o = simulate_grub_embed(enough, 512, 53);
  CHECK(o.warnings.empty());
  CHECK(o.embed_sectors == run_of(2048, 106));
}

TEST_CASE("gpt: the first BIOS Boot Partition in table order wins, not the lowest on disk") {
  SparseDisk disk = gpt_disk({{0, kLinuxType, 34, 2047},
                              {1, kBiosBootType, 8192, 8192 + 100 - 1},
                              {2, kBiosBootType, 2048, 2048 + 2048 - 1}});
  EmbedOutcome o = simulate_grub_embed(disk, 512, 53);
  REQUIRE(o.fits);
  CHECK(o.area_start == 8192);
  CHECK(o.embed_sectors == run_of(8192, 100));
  check_fails(simulate_grub_embed(disk, 512, 254), EmbedReason::bios_boot_too_small,
              kBiosBootTooSmall);
}

TEST_CASE("gpt: a core over 888 sectors fails setup.c's own check, capital Y") {
  SparseDisk disk = gpt_disk({{0, kBiosBootType, 2048, 2048 + 4096 - 1}});
  CHECK(simulate_grub_embed(disk, 512, 888).fits);
  EmbedOutcome o = simulate_grub_embed(disk, 512, 889);
  check_fails(o, EmbedReason::area_too_small, kEmbeddingAreaTooSmall);
  CHECK(o.warnings.empty());
}

TEST_CASE("gpt: a BIOS Boot Partition past the end of the disk fails when GRUB writes it") {
  SparseDisk disk = gpt_disk({{0, kBiosBootType, 40000, 42047}}, 512, 16 * kMiB);
  check_fails(simulate_grub_embed(disk, 512, 53), EmbedReason::bad_partition_map, kOutsideDisk);
}

TEST_CASE("gpt: a header without entries, or a protective MBR without header, is no map") {
  SparseDisk no_entries = gpt_disk({});
  check_fails(simulate_grub_embed(no_entries, 512, 53), EmbedReason::no_partition_map,
              kUnidentified);
  SparseDisk no_header = gpt_disk({{0, kBiosBootType, 34, 2047}});
  no_header.write(512, "NOT PART", 8);
  check_fails(simulate_grub_embed(no_header, 512, 53), EmbedReason::no_partition_map,
              kUnidentified);
}

TEST_CASE("gpt: a header claiming 2^32-1 entries is walked as GRUB walks it") {
  SparseDisk disk = gpt_disk({{0, kLinuxType, 4096, 30000}, {100, kBiosBootType, 2048, 4095}});
  disk.put_le32(512 + 80, 0xFFFFFFFFu);
  EmbedOutcome o = simulate_grub_embed(disk, 512, 53);
  CHECK(o.fits);
  CHECK(o.area_start == 2048);

  SparseDisk no_boot = gpt_disk({{0, kLinuxType, 4096, 30000}}, 512, 1 * kMiB);
  no_boot.put_le32(512 + 80, 0xFFFFFFFFu);  // the walk runs into the end of the disk
  check_fails(simulate_grub_embed(no_boot, 512, 53), EmbedReason::bad_partition_map, kOutsideDisk);
}

TEST_CASE("4Kn: msdos starts count 4096-byte sectors; GRUB still embeds in 512-byte units") {
  SparseDisk disk = mbr_disk(8);  // sector 8 of 4096 bytes = 512-byte sector 64
  EmbedOutcome o = simulate_grub_embed(disk, 4096, 53);
  CHECK(o.gap_sectors == 63);
  CHECK(o.embed_sectors == run_of(1, 63));  // min(63, 2C)
  check_fails(simulate_grub_embed(disk, 4096, 64), EmbedReason::core_too_large, kCoreTooLarge);

  SparseDisk ext(64 * kMiB);
  put_entry(ext, 0, 0, 0x05, 256, 4096);  // EBR at 4096-byte sector 256
  sign_table(ext, 0);
  put_entry(ext, 256 * 4096, 0, 0x83, 1, 100);
  sign_table(ext, 256 * 4096);
  EmbedOutcome logical = simulate_grub_embed(ext, 4096, 70);
  CHECK(logical.fits);
  CHECK(logical.gap_sectors == 256 * 8 - 1);
}

TEST_CASE("4Kn: the GPT header is found at byte 4096 and its LBAs are scaled by 8") {
  SparseDisk disk =
      gpt_disk({{0, kBiosBootType, 6, 261}, {1, kLinuxType, 262, 3000}}, 4096, 64 * kMiB);
  EmbedOutcome o = simulate_grub_embed(disk, 4096, 70);
  REQUIRE(o.fits);
  CHECK(o.area_start == 48);
  CHECK(o.gap_sectors == 2048);
  CHECK(o.embed_sectors == run_of(48, 140));
  // GRUB probes for the header, so the answer does not depend on the sector size given.
  CHECK(simulate_grub_embed(disk, 512, 70).embed_sectors == o.embed_sectors);
}

TEST_CASE("judge: at risk when the verdict changes inside the core range") {
  SparseDisk dell = mbr_disk(63, 0xDE);  // 62-sector gap
  CoreSize range{53, 70, CoreSource::default_range, "test"};
  EmbedVerdict v = judge_grub_embed(dell, 512, range);
  CHECK(v.verdict == EmbedVerdictKind::at_risk);
  CHECK(v.smallest_failing_core == 63);
  CHECK(v.largest_fitting_core == 62);
  CHECK(v.outcome.reason == EmbedReason::core_too_large);
  CHECK(v.core.why == "test");

  SparseDisk roomy = mbr_disk(2048);
  v = judge_grub_embed(roomy, 512, range);
  CHECK(v.verdict == EmbedVerdictKind::fits);
  CHECK(v.smallest_failing_core == 0);
  CHECK(v.largest_fitting_core == 70);
  CHECK(v.outcome.embed_sectors == run_of(1, 140));

  SparseDisk cramped = mbr_disk(40);
  v = judge_grub_embed(cramped, 512, range);
  CHECK(v.verdict == EmbedVerdictKind::fails);
  CHECK(v.smallest_failing_core == 53);
  CHECK(v.largest_fitting_core == 0);
  CHECK(v.outcome.reason == EmbedReason::area_too_small);

  SparseDisk exact = mbr_disk(254);
  v = judge_grub_embed(exact, 512, CoreSize{253, 253, CoreSource::file, "core.img"});
  CHECK(v.verdict == EmbedVerdictKind::fits);

  CHECK_THROWS_AS(judge_grub_embed(roomy, 512, CoreSize{70, 53, CoreSource::option, "reversed"}),
                  std::invalid_argument);
  CHECK_THROWS_AS(judge_grub_embed(roomy, 512, CoreSize{0, 53, CoreSource::option, "zero"}),
                  std::invalid_argument);
}

TEST_CASE("default core range is 53..70 sectors and says where it comes from") {
  CoreSize c = default_core_range();
  CHECK(c.low == 53);
  CHECK(c.high == 70);
  CHECK(c.source == CoreSource::default_range);
  CHECK_FALSE(c.why.empty());
}

}  // namespace
}  // namespace xsguard
