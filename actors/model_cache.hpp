// Models this process received over the network, by digest: a node gets a
// model's bytes once, however many of its cores load it.
#pragma once

#include <string>

#include "core/model.hpp"

namespace actorrt {

/// The model with `digest` while some lane (or message) still holds it;
/// null otherwise.
model_ptr cached_model(const std::string& digest);

/// Makes `m`, which just arrived over the network, findable by its digest
/// for as long as anything holds it, and says on stderr that it came.
void cache_model(const model_ptr& m);

} // namespace actorrt
