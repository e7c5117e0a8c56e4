#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace xsguard {

// Lower-case hex SHA-256 of a buffer.
std::string sha256_hex(const void* data, size_t len);

}  // namespace xsguard
