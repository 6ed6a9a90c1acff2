// Code written for DX-RT's C++ API, built against ActorRT's libdxrt.
// Usage: dxrt_run_async model.onnx [loops]
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <vector>

#include "dxrt/dxrt_api.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " model.onnx [loops]\n";
    return 2;
  }
  int loops = argc > 2 ? std::atoi(argv[2]) : 100;
  try {
    dxrt::InferenceOption option;
    option.boundOption = dxrt::InferenceOption::NPU_ALL;
    dxrt::InferenceEngine ie(argv[1], option);

    std::atomic<int> count{0};
    ie.RegisterCallback([&](dxrt::TensorPtrs& outputs, void* userArg) {
      (void) userArg;
      if (!outputs.empty())
        ++count;
      return 0;
    });

    std::vector<uint8_t> input(ie.GetInputSize(), 0);
    std::vector<int> jobs;
    for (int i = 0; i < loops; ++i)
      jobs.push_back(ie.RunAsync(input.data(), reinterpret_cast<void*>(i)));
    for (int id : jobs)
      ie.Wait(id);

    auto outputs = ie.Run(input.data());
    std::cout << "callbacks " << count << ", output " << outputs[0]->name()
              << " " << outputs[0]->size_in_bytes() << " bytes, latency "
              << ie.GetLatency() << " us\n";
    return count == loops + 1 ? 0 : 1; // Run fires the callback too
  } catch (const dxrt::Exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
