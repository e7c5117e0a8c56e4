#include "model/digest.h"

#include <nettle/sha2.h>

namespace xsguard {

std::string sha256_hex(const void* data, size_t len) {
  sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, len, static_cast<const uint8_t*>(data));
  uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_digest(&ctx, sizeof digest, digest);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (uint8_t b : digest) out += hex[b >> 4], out += hex[b & 15];
  return out;
}

}  // namespace xsguard
