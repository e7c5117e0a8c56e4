// The files from initramfs/ that go into every overlay, compiled into the binary so that
// `xsguard inject` needs nothing next to it. src/inject/hook_files.cc is generated from
// initramfs/ by src/inject/gen_hook_files.sh; a test keeps the two in step.
#pragma once
#include <cstddef>

namespace xsguard::inject {

struct HookFile {
  const char* path;  // where it lands in the installer's root
  unsigned mode;
  const char* data;
  size_t size;
};

extern const HookFile kHookFiles[];
extern const size_t kHookFileCount;

}  // namespace xsguard::inject
