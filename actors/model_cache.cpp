#include "actors/model_cache.hpp"

#include <cstdio>
#include <map>
#include <mutex>

namespace actorrt {

namespace {

std::mutex mtx;
std::map<std::string, std::weak_ptr<const model>> by_digest;

} // namespace

model_ptr cached_model(const std::string& digest) {
  std::lock_guard<std::mutex> guard{mtx};
  auto i = by_digest.find(digest);
  return i == by_digest.end() ? nullptr : i->second.lock();
}

void cache_model(const model_ptr& m) {
  // Said once per arrival, so an operator sees what crossed the network.
  std::fprintf(stderr, "actorrt: received model '%s' (%zu bytes)\n",
               m->name().c_str(), m->bytes().size());
  std::lock_guard<std::mutex> guard{mtx};
  for (auto i = by_digest.begin(); i != by_digest.end();) // drop the dead
    i = i->second.expired() ? by_digest.erase(i) : std::next(i);
  by_digest[m->digest()] = m;
}

} // namespace actorrt
