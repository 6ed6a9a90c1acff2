// libFuzzer target over model loading: any byte string is either a model or
// a typed ActorRT error, never a crash, a hang or another exception.
// Built and run by scripts/fuzz.sh (clang), not by CI.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/errors.hpp"
#include "core/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto m = actorrt::model::from_bytes(
      "fuzz", std::string(reinterpret_cast<const char*>(data), size));
    actorrt::describe(*m);
    (void) m->input_size();
    (void) m->output_size();
  } catch (const actorrt::Error&) {
    // a typed refusal is the right answer
  }
  return 0;
}
