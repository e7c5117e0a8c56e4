#include "model/disk_findings.h"

#include <doctest/doctest.h>

#include "model/partition_table.h"
#include "model/testing/disk_builder.h"

using namespace xsguard;
using namespace xsguard::testing;

namespace {

constexpr uint64_t kGiB = 1ull << 30;

struct Disk {
  SparseDisk bytes;
  DiskLayout layout;
  explicit Disk(uint64_t size) : bytes(size) {}
  void read() {
    layout.path = "/dev/sda";
    layout.size_bytes = bytes.size();
    read_partition_table(bytes, layout);
  }
  void label(int number, const char* fs_label, const char* fs_type = "ext3") {
    for (auto& p : layout.partitions)
      if (p.number == number) p.fs_label = fs_label, p.fs_type = fs_type;
  }
};

// The XS 6.5 layout on a Dell: utility at 63, root-* at 2, backup, local SR.
Disk dell_xs65(uint64_t size = 300 * kGiB) {
  Disk d(size);
  put_mbr(d.bytes, {{0xDE, 63, 65000}, {0x83, 65536, 8388608, 0x80}, {0x83, 8454144, 8388608},
                    {0x8E, 16842752, 100000000}});
  d.read();
  d.label(2, "root-abcdef");
  return d;
}

// XS 7 new GPT layout: on disk 5,2,1,4,6,3. boot_type: BIOS boot or ESP.
Disk xs7_gpt(const char* boot_type, bool with_logs = true) {
  Disk d(100 * kGiB);
  const uint64_t G = 2097152;  // 1 GiB in sectors
  std::vector<GptPart> parts = {
      {kGptLinuxData, 2048 + 4 * G + 2 * 18 * G, 2048 + 4 * G + 3 * 18 * G - 1, ""},  // 1 root
      {kGptLinuxData, 2048 + 4 * G + 18 * G, 2048 + 4 * G + 2 * 18 * G - 1, ""},      // 2 backup
      {kGptLinuxLvm, 2048 + 4 * G + 3 * 18 * G + G + G / 2, 100 * G - 100, ""},       // 3 SR
      {boot_type, 2048 + 4 * G + 3 * 18 * G, 2048 + 4 * G + 3 * 18 * G + G / 2 - 1, ""},  // 4
  };
  if (with_logs) {
    parts.push_back({kGptLinuxData, 2048, 2048 + 4 * G - 1, ""});  // 5 logs
    parts.push_back({kGptLinuxSwap, 2048 + 4 * G + 3 * 18 * G + G / 2,
                     2048 + 4 * G + 3 * 18 * G + G + G / 2 - 1, ""});  // 6 swap
  }
  put_gpt(d.bytes, 512, parts);
  d.read();
  d.label(1, "root-xyz");
  if (with_logs) d.label(5, "logs-xyz");
  return d;
}

std::vector<Finding> assess(Disk& d, CoreSize core, BootMode booted = BootMode::bios,
                            const OldRootFacts* old_root = nullptr, bool target_root = false) {
  DiskFacts f;
  f.layout = &d.layout;
  f.is_block_device = true;
  f.embed = judge_grub_embed(d.bytes, 512, core);
  if (auto u = find_utility_partition(d.layout)) {
    PatchedSource without(d.bytes);
    for (auto& e : plan_partition_removal(d.bytes, d.layout, u->partition->number))
      without.patch(e.offset, e.bytes);
    f.embed_without_utility = judge_grub_embed(without, 512, core);
  }
  f.booted = booted;
  f.booted_source = "test";
  f.old_root = old_root;
  f.target_root_given = target_root;
  return assess_disk(f);
}

const Finding* find(const std::vector<Finding>& fs, const std::string& id) {
  for (const auto& f : fs)
    if (f.id == id) return &f;
  return nullptr;
}

CoreSize fixed(uint32_t c) { return {c, c, CoreSource::option, "test"}; }

}  // namespace

TEST_CASE("Dell 0xDE at 63 with a 63-sector core: inhibitor, and removal fixes it") {
  auto d = dell_xs65();
  auto fs = assess(d, fixed(63));
  const Finding* g = find(fs, "grub.embed");
  REQUIRE(g);
  CHECK(g->inhibitor);
  CHECK(g->evidence["reason"] == "core_too_large");
  CHECK(g->evidence["gap_sectors"] == 62);
  bool offers_fix = false;
  for (const auto& r : g->remediation)
    if (r.kind == Remediation::Kind::command && r.argv.size() == 5 && r.argv[1] == "fix")
      offers_fix = r.argv[2] == "utility-partition" && r.argv[4] == "/dev/sda";
  CHECK(offers_fix);
  const Finding* u = find(fs, "disk.utility_partition");
  REQUIRE(u);
  CHECK(u->severity == Severity::high);
  CHECK(u->evidence["vendor"] == "Dell");
  CHECK(u->evidence["grub_without_it"] == "fits");
  const Finding* x = find(fs, "xs.layout");
  REQUIRE(x);
  CHECK(x->evidence["layout"] == "old");
  CHECK(x->evidence["partitions"]["utility"] == "/dev/sda1");
  CHECK(x->evidence["partitions"]["root"] == "/dev/sda2");
  CHECK(x->evidence["partitions"]["local_sr"] == "/dev/sda4");
  CHECK(exit_code_for(fs) == kExitInhibitor);
}

TEST_CASE("Dell 0xDE at 63 with a 53-sector core fits; the default range is at risk") {
  auto d = dell_xs65();
  auto fits = assess(d, fixed(53));
  CHECK_FALSE(find(fits, "grub.embed")->inhibitor);
  CHECK(find(fits, "grub.embed")->severity == Severity::info);
  CHECK(find(fits, "disk.utility_partition")->severity == Severity::low);
  auto range = assess(d, default_core_range());
  const Finding* g = find(range, "grub.embed");
  CHECK(g->evidence["verdict"] == "at_risk");
  CHECK(g->evidence["smallest_failing_core"] == 63);
  CHECK(g->severity == Severity::medium);
  CHECK(exit_code_for(range) == kExitWarnings);
}

TEST_CASE("a failing table with no installation is only information, unless it is final") {
  Disk d(300 * kGiB);
  put_mbr(d.bytes, {{0xDE, 40, 65000}, {0x83, 65536, 8388608}});
  d.read();
  auto fs = assess(d, fixed(53));
  CHECK(find(fs, "grub.embed")->severity == Severity::info);
  CHECK(find(fs, "grub.embed")->evidence["reason"] == "area_too_small");
  CHECK(find(fs, "xs.layout") == nullptr);
  auto final_table = assess(d, fixed(53), BootMode::bios, nullptr, true);
  CHECK(find(final_table, "grub.embed")->inhibitor);
  CHECK(find(final_table, "disk.first_partition_below_63"));
}

TEST_CASE("UEFI: GRUB embedding does not matter, but a BIOS install cannot be upgraded") {
  auto d = dell_xs65();
  auto fs = assess(d, fixed(63), BootMode::uefi);
  CHECK_FALSE(find(fs, "grub.embed")->inhibitor);
  const Finding* m = find(fs, "firmware.mode_mismatch");
  REQUIRE(m);
  CHECK(m->inhibitor);
  CHECK(m->evidence["installation_boots"] == "bios");
}

TEST_CASE("XS 7 GPT layouts: BIOS boot fits; a UEFI install booted in BIOS mode mismatches") {
  auto bios = xs7_gpt(kGptBiosBoot);
  auto fs = assess(bios, fixed(70));
  CHECK(find(fs, "grub.embed")->evidence["verdict"] == "fits");
  CHECK(find(fs, "xs.layout")->evidence["layout"] == "new");
  CHECK(find(fs, "xs.layout")->evidence["partitions"]["logs"] == "/dev/sda5");
  CHECK(find(fs, "firmware.mode_mismatch") == nullptr);
  CHECK(exit_code_for(fs) == kExitClean);
  auto uefi = xs7_gpt(kGptEsp);
  auto ufs = assess(uefi, fixed(70), BootMode::bios);
  REQUIRE(find(ufs, "firmware.mode_mismatch"));
  CHECK(find(ufs, "firmware.mode_mismatch")->evidence["installation_boots"] == "uefi");
  CHECK(find(ufs, "grub.embed")->inhibitor);  // and GPT without EF02 cannot take GRUB
}

TEST_CASE("safe2upgrade on a GPT old layout destroys the local SR") {
  auto d = xs7_gpt(kGptBiosBoot, false);  // old GPT layout: no logs partition
  d.label(3, "", "LVM2_member");
  OldRootFacts root{"/mnt/old", true};
  auto fs = assess(d, fixed(53), BootMode::bios, &root);
  const Finding* sr = find(fs, "xs.local_sr_destroyed");
  REQUIRE(sr);
  CHECK(sr->inhibitor);
  CHECK(sr->resources.back() == "/dev/sda3");
  CHECK(find(fs, "xs.safe2upgrade_present")->severity == Severity::medium);
  auto msdos = dell_xs65();
  auto mfs = assess(msdos, fixed(53), BootMode::bios, &root);
  CHECK(find(mfs, "xs.local_sr_destroyed") == nullptr);
  CHECK(find(mfs, "xs.safe2upgrade_present")->severity == Severity::info);
  OldRootFacts absent{"/mnt/old", false};
  CHECK(find(assess(d, fixed(53), BootMode::bios, &absent), "xs.safe2upgrade_present") == nullptr);
}

TEST_CASE("msdos tables past 2 TiB and disks too small for the new layout") {
  auto big = dell_xs65(3ull << 40);
  CHECK(find(assess(big, fixed(53)), "disk.msdos_over_2tib"));
  auto small = dell_xs65(40 * kGiB);
  CHECK(find(assess(small, fixed(53)), "xs.disk_too_small"));
  CHECK(find(assess(big, fixed(53)), "xs.disk_too_small") == nullptr);
}

TEST_CASE("a damaged table is an inhibitor on an installed disk") {
  auto d = xs7_gpt(kGptBiosBoot);
  d.bytes.put_u8(512 + 40, 0x42);  // primary header CRC no longer matches
  d.read();
  d.label(1, "root-xyz");
  auto fs = assess(d, fixed(53));
  const Finding* c = find(fs, "disk.table_corrupt");
  REQUIRE(c);
  CHECK(c->inhibitor);
  CHECK(c->evidence["problems"][0]["code"] == "gpt_header_crc");
}

TEST_CASE("GPT DELLUTILITY ESP is a utility partition; GRUB uses the BIOS boot partition") {
  Disk d(100 * kGiB);
  put_gpt(d.bytes, 512, {{kGptEsp, 2048, 2048 + 81919, "DELLUTILITY"},
                         {kGptLinuxData, 100000, 200000, "root"},
                         {kGptBiosBoot, 90000, 90000 + 2047, ""}});
  d.read();
  auto u = find_utility_partition(d.layout);
  REQUIRE(u);
  CHECK(u->vendor == "Dell");
  CHECK(u->installer_preserves);
  auto fs = assess(d, fixed(70));
  CHECK(find(fs, "grub.embed")->evidence["verdict"] == "fits");
  CHECK(find(fs, "disk.utility_partition")->severity == Severity::info);
}

TEST_CASE("findings sort inhibitors first, then severity, then id") {
  std::vector<Finding> fs(3);
  fs[0].id = "b", fs[0].severity = Severity::low;
  fs[1].id = "a", fs[1].severity = Severity::high;
  fs[2].id = "c", fs[2].severity = Severity::medium, fs[2].inhibitor = true;
  sort_findings(fs);
  CHECK(fs[0].id == "c");
  CHECK(fs[1].id == "a");
  CHECK(fs[2].id == "b");
  CHECK(exit_code_for({}) == kExitClean);
}
