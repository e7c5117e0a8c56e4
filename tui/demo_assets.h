// What `xsguard menu --demo` carries: a disk image (Dell utility partition ahead of an
// XenServer 6.5 layout; only its data extents, compressed) and an install log that
// stalls at 72% and then fails in grub-install. Generated: see tools/gen_demo_assets.cc.
#pragma once
#include <cstddef>
#include <cstdint>

namespace xsguard::tui {

struct DemoExtent {
  uint64_t offset, length;
};

struct DemoAssets {
  uint64_t image_size;
  const DemoExtent* extents;
  size_t extent_count;
  const unsigned char* image_data;  // zlib stream of every extent's bytes, in order
  size_t image_data_size;
  size_t image_data_raw_size;
  const unsigned char* log;
  size_t log_size;
};

extern const DemoAssets kDemoAssets;

}  // namespace xsguard::tui
