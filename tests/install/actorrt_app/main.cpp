// Built against an installed ActorRT with find_package(actorrt).
#include <cstdio>

#include "actorrt/inference_engine.hpp"

int main(int argc, char** argv) {
  if (argc != 2)
    return 2;
  actorrt::InferenceEngine ie{argv[1]};
  auto input = actorrt::blob::allocate(ie.GetInputSize());
  auto outputs = ie.Wait(ie.RunAsync({input}));
  if (outputs.size() != ie.GetOutputs().size()
      || outputs[0].bytes.size != ie.GetOutputs()[0].byte_size()) {
    std::printf("FAILED: outputs do not match the model\n");
    return 1;
  }
  std::printf("actorrt_app ok: %s on %s\n", ie.GetModelName().c_str(),
              ie.GetLaneBackends().at(0).c_str());
  return 0;
}
