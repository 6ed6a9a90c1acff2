// This host's service: one actorrt-node --local whose cores the host's
// processes share, instead of each starting lanes of its own (DX-RT runs a
// service for the same reason: several processes, one NPU). A process
// reaches it as it reaches any worker node, with the same guarantees.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace actorrt {

/// The service's port: ACTORRT_SERVICE_PORT, else 7749. Throws
/// InvalidArgument for a value that is no port.
uint16_t service_port();

/// Where this host's service listens: 127.0.0.1:service_port().
std::string service_address();

/// How ACTORRT_SERVICE asks for it: "auto" (the default: use it when it
/// answers and neither ACTORRT_DEVICES nor ACTORRT_NODES says otherwise),
/// "on" (always; no service is an error) or "off". Throws InvalidArgument
/// for another value.
std::string service_mode();

/// The service this process should use now, or nothing (own devices).
std::optional<std::string> chosen_service();

} // namespace actorrt
