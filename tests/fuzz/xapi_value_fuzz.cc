// libFuzzer target for the pool-database value decoder and reader: whitespace
// unprotection, S-expression sets and maps, scalars, and the streaming XML reader
// with small limits. Build: see `make fuzz`.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "model/errors.h"
#include "xapi/database.h"
#include "xapi/model.h"
#include "xapi/value.h"

using namespace xsguard::xapi;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string u = unprotect(in);
  (void)parse_set(u);
  (void)parse_map(u);
  (void)parse_set(in);
  (void)parse_map(in);
  (void)parse_int(in);
  (void)parse_float(in);
  (void)parse_datetime(in);
  (void)is_null_ref(in);
  ReadLimits lim;
  lim.max_tag_bytes = 1 << 16;
  try {
    Projection all;
    all.all = true;
    (void)parse_database(in, all, lim);
    (void)build_pool(parse_database(in, pool_projection(), lim));
  } catch (const xsguard::InputError&) {
  }
  return 0;
}
