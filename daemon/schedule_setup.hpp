#pragma once
// Scheduling's wiring for main (docs/scheduling.md): the tenants' sending windows, read with
// their zones from /usr/share/zoneinfo at start, and the cancel routes' configuration.
#include <memory>
#include <optional>

#include <caf/fwd.hpp>

#include "actors/router.hpp"
#include "api/cancel_api.hpp"
#include "core/config/config.hpp"
#include "core/schedule/hold.hpp"

namespace volley {

// Every [[tenant]] with a send_window and its zone (empty map: none). nullopt when a zone cannot
// be read or parsed: logged naming the tenant and its timezone key, and volleyd does not start.
std::optional<std::shared_ptr<const schedule::TenantWindows>> load_sending_windows(const Config& cfg);

// The zone files' directory: TZDIR when set (as the C library honours it), else /usr/share/zoneinfo.
std::string zoneinfo_dir();

}  // namespace volley
