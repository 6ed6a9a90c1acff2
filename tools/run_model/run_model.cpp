// Runs a model on ActorRT and prints throughput and latency with DX-RT's
// run_model flags and result block, then what DX-RT lacks: latency
// percentiles, per-core jobs, queue vs compute time, each lane's backend.
// Usage: run_model -m model.onnx [-l N | -t SECONDS] [-s] [-f FPS] ...
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "actorrt/inference_engine.hpp"
#include "actors/runtime.hpp"
#include "core/clock.hpp"
#include "tools/common/batching.hpp"
#include "tools/common/core_usage.hpp"
#include "tools/common/latency.hpp"
#include "tools/common/measure.hpp"
#include "tools/common/number_checks.hpp"

using namespace actorrt;
using json = nlohmann::json;
using tools::mean_ms;
using tools::percentile;

namespace {

std::atomic<bool> interrupted{false};

struct settings : tools::load {
  std::string model;
  std::string input_file;
  std::string output_file;
  std::string json_file;
  std::string trace_file;
  std::string devices = "all";
  std::string sweep;
  int warmup = 5;
  int bound = 0;
  int buffer_count = InferenceOption::default_buffer_count();
  bool verbose = false;
  bool use_ort = false;
  tools::batching batch;
};

/// The devices option: "all", "0,1", or "count:N".
std::vector<int> parse_device_list(const std::string& text) {
  if (text == "all")
    return {};
  std::vector<int> ids;
  if (text.rfind("count:", 0) == 0) {
    int n = std::stoi(text.substr(6));
    if (n < 1)
      throw InvalidArgument("--devices count:N needs N >= 1");
    for (int i = 0; i < n; ++i)
      ids.push_back(i);
    return ids;
  }
  std::stringstream list{text};
  std::string id;
  while (std::getline(list, id, ','))
    ids.push_back(std::stoi(id));
  return ids;
}

blob read_input(const std::string& file, size_t expected) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw FileNotFound("cannot read input file '" + file + "'");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                          std::istreambuf_iterator<char>());
  if (bytes.size() != expected)
    throw InvalidArgument("input file '" + file + "' has "
                          + std::to_string(bytes.size())
                          + " bytes; the model's input size is "
                          + std::to_string(expected) + " bytes");
  return blob::copy_of(bytes.data(), bytes.size());
}

/// Closed loop at each concurrency: that many jobs always outstanding.
json concurrency_sweep(InferenceEngine& ie, const blob& input,
                       const std::string& levels, int jobs) {
  json rows = json::array();
  std::stringstream list{levels};
  std::string item;
  while (std::getline(list, item, ',')) {
    int n = std::stoi(item);
    std::vector<std::vector<int64_t>> lat(static_cast<size_t>(n));
    std::atomic<int> next{0};
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> clients;
    for (int c = 0; c < n; ++c)
      clients.emplace_back([&, c] {
        while (next++ < jobs && !interrupted) {
          auto t0 = now_ns();
          ie.Run({input});
          lat[size_t(c)].push_back((now_ns() - t0) / 1000);
        }
      });
    for (auto& t : clients)
      t.join();
    std::chrono::duration<double> secs
      = std::chrono::steady_clock::now() - start;
    std::vector<int64_t> all;
    for (auto& l : lat)
      all.insert(all.end(), l.begin(), l.end());
    double fps = double(all.size()) / secs.count();
    double p99 = percentile(all, 0.99);
    std::printf("  concurrency %3d: %10.2f FPS, p99 %.3f ms\n", n, fps, p99);
    rows.push_back({{"concurrency", n}, {"fps", fps}, {"p99_ms", p99}});
  }
  return rows;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Run an ONNX model on ActorRT and report FPS and latency"};
  settings s;
  bool benchmark = false;
  app.add_option("-m,--model", s.model, "model file (.onnx)")->required();
  app.add_option("-i,--input", s.input_file,
                 "input file: raw bytes of the model's input size");
  app.add_option("-o,--output", s.output_file,
                 "write the last job's outputs (raw bytes) there");
  app.add_flag("-b,--benchmark", benchmark,
               "RunAsync + callback at full load (the default)");
  app.add_flag("-s,--single", s.single, "one job at a time (Run)");
  app.add_option("-n,--npu", s.bound, "bound option 0..6 (NPU_ALL..NPU_02)")
    ->check(CLI::Range(0, 6));
  app.add_option("-l,--loops", s.loops, "number of inferences")
    ->check(tools::positive);
  app.add_option("-t,--time", s.seconds, "run for this many seconds")
    ->check(tools::positive);
  app.add_option("-w,--warmup-runs", s.warmup, "runs before measuring")
    ->check(tools::non_negative);
  app.add_option("-d,--devices", s.devices, "all, 0,1 or count:N");
  app.add_option("-f,--fps", s.fps, "open loop at this many jobs/s")
    ->check(tools::positive);
  app.add_option("--buffer-count", s.buffer_count, "jobs in flight per device")
    ->check(CLI::Range(1, 100));
  app.add_flag("-v,--verbose", s.verbose,
               "NPU processing time and latency in DX-RT's block, and the "
               "model's tensors");
  app.add_flag("--skip-io", s.skip_io,
               "benchmark mode only: no input file read, no outputs kept or "
               "written");
  app.add_flag("--use-ort", s.use_ort, "run CPU lanes on ONNX Runtime");
  s.batch.add_flags(app);
  app.add_option("--json", s.json_file, "write every figure as JSON there");
  app.add_option("--trace", s.trace_file,
                 "write the measured jobs' stages there (Chrome trace JSON, "
                 "for Perfetto or chrome://tracing)");
  app.add_option("--concurrency-sweep", s.sweep,
                 "closed-loop FPS and p99 at each concurrency, e.g. 1,2,4,8");
  CLI11_PARSE(app, argc, argv);
  if (s.loops == 0 && s.seconds == 0)
    s.loops = 300;
  if (s.skip_io && (s.single || s.fps > 0)) {
    std::fprintf(stderr, "run_model: --skip-io is only for benchmark mode "
                         "(not with -s or -f)\n");
    return 2;
  }
  if (s.skip_io && !(s.input_file.empty() && s.output_file.empty()))
    std::fprintf(stderr, "run_model: --skip-io: -i and -o are not used\n");
  if (s.skip_io)
    s.input_file.clear(), s.output_file.clear();
  std::signal(SIGINT, [](int) { interrupted = true; });
  try {
    InferenceOption opt;
    opt.bound = static_cast<bound_option>(s.bound);
    opt.buffer_count = s.buffer_count;
    opt.devices = parse_device_list(s.devices);
    if (s.use_ort)
      opt.use_ort = true;
    s.batch.apply(opt);
    InferenceEngine ie{s.model, opt};
    blob input = s.input_file.empty()
                   ? blob::allocate(ie.GetInputSize())
                   : read_input(s.input_file, ie.GetInputSize());
    if (s.input_file.empty())
      std::fill(input.data, input.data + input.size, uint8_t{0});
    for (int i = 0; i < s.warmup; ++i)
      ie.Run({input});
    auto before = ie.GetStats();
    if (!s.trace_file.empty())
      StartTrace(s.trace_file);
    tools::run_record r;
    double secs = tools::measure(ie, s, input, r, interrupted);
    if (!s.trace_file.empty())
      std::printf("trace of %zu jobs written to %s\n", StopTrace(),
                  s.trace_file.c_str());
    auto after = ie.GetStats();
    auto usage = tools::core_usage_between(before, after, secs);
    double mean_batch = tools::mean_batch_between(before, after);
    int jobs = r.done;
    double fps = jobs / secs;

    std::printf("model  %s\ndevices", s.model.c_str());
    for (auto& d : ie.GetDevices())
      std::printf(" %s", d.c_str());
    std::printf("%s\nlanes ",
                ie.IsSimulated() ? "  (SIMULATED NPU: no real compute)" : "");
    for (auto& lane : ie.GetLaneBackends())
      std::printf(" [%s]", lane.c_str());
    std::printf("\nmode   %s%s\n",
                s.single ? "single (Run, one job at a time)"
                         : "benchmark (RunAsync + callback)",
                s.fps > 0 ? ", open loop" : "");
    if (s.verbose)
      for (auto& t : ie.GetInputs())
        std::printf("input  %s %s %s\n", t.name.c_str(), to_string(t.type),
                    shape_string(t.shape).c_str());
    // DX-RT's block, unchanged.
    std::printf("============================================================"
                "\n* Benchmark Result (%d inputs)\n",
                jobs);
    if (s.verbose) {
      std::printf("  - NPU Processing Time Average : %.3f ms (Actual NPU "
                  "core computation time for a single request)\n",
                  mean_ms(r.compute_us));
      std::printf("  - Latency Average : %.3f ms (End-to-end time per "
                  "request, including data transfer and system "
                  "overheads)\n",
                  mean_ms(r.latency_us));
      std::printf("  - FPS : %.2f (Overall user-observed inference "
                  "throughput)\n",
                  fps);
    } else {
      std::printf("  - FPS : %.2f\n", fps);
    }
    std::printf("============================================================"
                "\n");
    // What DX-RT lacks.
    json out;
    out["model"] = s.model;
    out["mode"] = s.single ? "single" : "benchmark";
    out["simulated"] = ie.IsSimulated();
    out["jobs"] = jobs;
    out["errors"] = r.errors.load();
    out["seconds"] = secs;
    out["fps"] = fps;
    out["interrupted"] = interrupted.load();
    if (s.fps > 0)
      out["target_fps"] = s.fps;
    auto lat = tools::latency_summary_ms(r.latency_us);
    out["latency_ms"] = lat;
    double compute = mean_ms(r.compute_us);
    out["compute_ms"] = compute;
    out["queue_ms"] = std::max(0.0, mean_ms(r.latency_us) - compute);
    std::printf("  latency ms: p50 %.3f  p90 %.3f  p95 %.3f  p99 %.3f  "
                "p99.9 %.3f  max %.3f\n",
                lat["p50"].get<double>(), lat["p90"].get<double>(),
                lat["p95"].get<double>(), lat["p99"].get<double>(),
                lat["p99.9"].get<double>(), lat["max"].get<double>());
    std::printf("  queue %.3f ms + compute %.3f ms per job; errors %d%s\n",
                out["queue_ms"].get<double>(), compute, r.errors.load(),
                interrupted ? "  (interrupted: what was measured so far)" : "");
    out["mean_batch"] = mean_batch;
    out["max_batch"] = s.batch.max_batch;
    std::printf("  mean batch %.2f jobs per call (max %d, delay %d us)\n",
                mean_batch, s.batch.max_batch, s.batch.delay_us);
    json cores = json::array();
    for (auto& c : usage) {
      std::printf("  core %d:%d  %8llu jobs  %9.2f FPS  %3.0f%% busy  %s%s\n",
                  c.device, c.core, (unsigned long long) c.jobs,
                  double(c.jobs) / secs, c.utilisation * 100, c.backend.c_str(),
                  c.simulated ? "  SIMULATED" : "");
      cores.push_back({{"device", c.device},
                       {"core", c.core},
                       {"host", c.host},
                       {"backend", c.backend},
                       {"jobs", c.jobs},
                       {"fps", double(c.jobs) / secs},
                       {"utilisation", c.utilisation},
                       {"simulated", c.simulated}});
    }
    out["cores"] = cores;
    if (!s.sweep.empty()) {
      std::printf("* Concurrency sweep (closed loop, Run)\n");
      out["concurrency_sweep"]
        = concurrency_sweep(ie, input, s.sweep, std::max(50, jobs / 4));
    }
    if (!s.output_file.empty()) {
      std::ofstream file(s.output_file, std::ios::binary);
      for (auto& t : r.last_outputs)
        file.write(reinterpret_cast<const char*>(t.bytes.data),
                   std::streamsize(t.bytes.size));
      if (!file)
        throw DeviceIO("cannot write output file '" + s.output_file + "'");
    }
    if (!s.json_file.empty()) {
      std::ofstream file(s.json_file);
      file << out.dump(2) << "\n";
      if (!file)
        throw DeviceIO("cannot write JSON file '" + s.json_file + "'");
    }
    return r.errors == 0 ? 0 : 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "run_model: %s: %s\n", to_string(e.code()), e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "run_model: %s\n", e.what());
    return 2;
  }
}
