#pragma once
// Tenancy (DESIGN.md): every stored key starts with a tenant id taken from X-Scope-OrgID.

#include <string_view>

namespace otelbox::storage {

// Loki and Tempo use "fake" as the tenant when multi-tenancy is off; so do we.
inline constexpr std::string_view kDefaultTenant = "fake";
inline constexpr std::string_view kTenantHeader = "X-Scope-OrgID";

}  // namespace otelbox::storage
