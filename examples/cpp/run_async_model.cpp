// ActorRT's C++ API: RunAsync with a callback and user argument, then Wait.
// Usage: run_async_model model.onnx [loops]
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "actorrt/inference_engine.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s model.onnx [loops]\n", argv[0]);
    return 2;
  }
  int loops = argc > 2 ? std::atoi(argv[2]) : 100;
  actorrt::InferenceEngine ie{argv[1]};

  std::atomic<int> done{0};
  ie.RegisterCallback([&](const actorrt::tensors& outputs, void* user_arg,
                          const actorrt::failure& error) {
    if (error)
      std::fprintf(stderr, "job %p failed: %s\n", user_arg,
                   error.message.c_str());
    else if (outputs.empty())
      std::fprintf(stderr, "job %p: no outputs\n", user_arg);
    ++done;
    return 0;
  });

  // One raw buffer of GetInputSize() bytes, shared by every job: the blob's
  // owner keeps it alive until the last job that reads it has ended.
  auto input = actorrt::blob::allocate(ie.GetInputSize());
  std::fill(input.data, input.data + input.size, 0);
  std::vector<uint64_t> ids;
  for (int i = 0; i < loops; ++i)
    ids.push_back(ie.RunAsync({input}, reinterpret_cast<void*>(intptr_t(i))));

  // Wait sees every job too, even with a callback registered.
  for (auto id : ids)
    ie.Wait(id);
  std::printf("%d jobs, %d callbacks, mean latency %.0f us\n", loops,
              done.load(), ie.GetLatency().mean);
  return done == loops ? 0 : 1;
}
