// The xapi settings of one host that an administrator sets by hand and a clean
// install loses: the management interface, bonds, VLANs, the host's connections to
// shared storage (PBD device-config), the IQN, and other-config keys set by hand on
// the host and the pool. Read from the old root's pool database; an upgrade keeps
// them (the installer restores state.db), a reinstall followed by a pool join does not.
#pragma once
#include <nlohmann/json.hpp>
#include <iosfwd>
#include <string>

#include "xapi/database.h"

namespace xsguard::capture {

// The tables and columns xapi_settings() reads.
const xapi::Projection& settings_projection();

// host_uuid: this host (INSTALLATION_UUID of the old root's xensource-inventory);
// "" or a uuid the database does not hold: every host is listed.
// Values of keys that name a password or a secret are never recorded.
nlohmann::ordered_json xapi_settings(const xapi::Database& db, const std::string& host_uuid);

// The same for people, one setting a line.
void write_xapi_text(std::ostream& out, const nlohmann::ordered_json& settings);

}  // namespace xsguard::capture
