// Built against an installed ActorRT with find_package(dxrt): DX-RT's C++
// API, its exceptions' codes and its configuration, on a model argument.
#include <atomic>
#include <cstdio>
#include <cstring>
#include <vector>

#include "dxrt/dxrt_api.h"

#define CHECK(cond)                                                            \
  if (!(cond)) {                                                               \
    std::printf("FAILED: %s (line %d)\n", #cond, __LINE__);                    \
    return 1;                                                                  \
  }

int main(int argc, char** argv) {
  CHECK(argc == 2);
  try {
    dxrt::InferenceEngine missing("/nonexistent/model.onnx");
    CHECK(false);
  } catch (const dxrt::Exception& e) {
    CHECK(e.code() == 257); // DX-APP's test for a missing model
    CHECK(std::to_string(e.code()) == "257");
  }
  dxrt::InferenceEngine ie(argv[1]);
  std::atomic<int> called{0};
  ie.RegisterCallback([&called](dxrt::TensorPtrs& outputs, void* arg) {
    if (!outputs.empty() && arg != nullptr)
      ++called;
    return 0;
  });
  std::vector<uint8_t> input(ie.GetInputSize(), 1);
  int tag = 7;
  auto outputs = ie.Run(input.data(), &tag);
  CHECK(outputs.size() == ie.GetOutputTensorNames().size());
  CHECK(outputs[0]->size_in_bytes() == ie.GetOutputTensorSizes()[0]);
  int id = ie.RunAsync(input.data(), &tag);
  auto waited = ie.Wait(id);
  CHECK(std::memcmp(waited[0]->data(), outputs[0]->data(),
                    outputs[0]->size_in_bytes())
        == 0);
  CHECK(called == 2); // DX-RT's Run fires the callback too
  CHECK(!dxrt::Configuration::GetInstance().GetVersion().empty());
  std::printf(
    "dxrt_app ok: %s, ONNX Runtime '%s'\n", ie.GetModelName().c_str(),
    dxrt::Configuration::GetInstance().GetONNXRuntimeVersion().c_str());
  return 0;
}
