// ONNX Runtime called directly, the reference for batching: one session
// with N intra-op threads (default 2, as a user would make it) running the
// model at several batch sizes; prints samples/s for each. A model that
// fixes batch 1 runs as ActorRT re-declares it (model::batch_variant).
#include <cstdio>
#include <cstring>

#include <CLI/CLI.hpp>

#include "bench_util.hpp"
#include "core/model.hpp"
#include "device/ort_executor.hpp"
#include "device/registry.hpp"

using namespace actorrt;

int main(int argc, char** argv) {
  CLI::App app{"ONNX Runtime called directly at several batch sizes"};
  std::string path = std::string(ACTORRT_MODEL_DIR) + "/strided_32.onnx";
  std::vector<int> batches{1, 8, 32};
  int threads = 2;
  double seconds = 2.0;
  app.add_option("-m,--model", path, "ONNX model (symbolic batch axis)");
  app.add_option("-b,--batch", batches, "batch sizes");
  app.add_option("-t,--threads", threads, "intra-op threads");
  app.add_option("-s,--seconds", seconds, "seconds per batch size");
  CLI11_PARSE(app, argc, argv);
  if (!ort_available()) {
    std::printf("ONNX Runtime is not available: %s\n",
                ort_load_error().c_str());
    return 1;
  }
  auto m = model::load(path);
  if (!m->batchable()) // batch 1 fixed: the re-declared graph ActorRT runs
    m = m->batch_variant();
  if (!m) {
    std::printf("%s cannot batch\n", path.c_str());
    return 1;
  }
  ort_executor session{*m, threads};
  for (int batch : batches) {
    std::vector<blob> buffers;
    for (auto& in : m->inputs()) {
      auto b = blob::allocate(in.byte_size() * batch);
      std::memset(b.data, 0, b.size);
      buffers.push_back(b);
    }
    auto inputs = attach(m->input_metas(), buffers, batch);
    long samples = 0;
    auto start = std::chrono::steady_clock::now();
    for (int warm = 0; warm < 20; ++warm) {
      auto outputs = attach(m->output_metas(), {}, batch);
      session.run(inputs, outputs);
    }
    start = std::chrono::steady_clock::now();
    while (bench::seconds_since(start) < seconds) {
      auto outputs = attach(m->output_metas(), {}, batch);
      session.run(inputs, outputs);
      samples += batch;
    }
    std::printf("ORT %d-thread session, batch %d: %.0f samples/s\n", threads,
                batch, samples / bench::seconds_since(start));
  }
}
