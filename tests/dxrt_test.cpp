// DX-RT's C++ API over ActorRT (libdxrt): InferenceEngine, exceptions with
// DX-RT's codes, Configuration, Profiler, DeviceStatus, Tensor. Each test
// case runs in a process of its own, so ACTORRT_DEVICES set at its start
// decides the devices of its runtime.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "dxrt/dxrt_api.h"
#include "models.hpp"

using actorrt::test::model_path;
using actorrt::test::scratch;
namespace fs = std::filesystem;

namespace {

using ITEM = dxrt::Configuration::ITEM;
using ATTRIBUTE = dxrt::Configuration::ATTRIBUTE;

dxrt::Configuration& config() {
  return dxrt::Configuration::GetInstance();
}

} // namespace

TEST_CASE("DX-RT C++ code runs unchanged", "[dxrt]") {
  setenv("ACTORRT_DEVICES", "sim:3", 1);
  dxrt::InferenceOption option;
  option.boundOption = dxrt::InferenceOption::NPU_ALL;
  dxrt::InferenceEngine ie(model_path("tiny_cnn"), option);
  std::vector<uint8_t> input(ie.GetInputSize(), 0);
  input[0] = 7;
  std::atomic<int> calls{0};
  std::atomic<int> bad{0};
  ie.RegisterCallback([&](dxrt::TensorPtrs& outputs, void* user) {
    if (outputs.size() != 1 || static_cast<uint8_t*>(outputs[0]->data())[0] != 7
        || user != &calls)
      ++bad;
    ++calls;
    return 0;
  });
  std::vector<int> ids;
  for (int i = 0; i < 12; ++i)
    ids.push_back(ie.RunAsync(input.data(), &calls));
  for (int id : ids) {
    auto outputs = ie.Wait(id);
    REQUIRE(outputs.size() == 1);
    CHECK(outputs[0]->shape() == std::vector<int64_t>{1, 10});
    CHECK(outputs[0]->type() == dxrt::FLOAT);
  }
  CHECK(calls == 12);
  // DX-RT's Run fires the registered callback too, with its userArg.
  ie.Run(input.data(), &calls);
  CHECK(calls == 13);
  CHECK(bad == 0);
  ie.RegisterCallback(nullptr);
  std::vector<uint8_t> async_out(ie.GetOutputSize());
  input[0] = 9;
  ie.Wait(ie.RunAsync(input.data(), &calls, async_out.data()));
  CHECK(async_out[0] == 9);
  input[0] = 7;
  std::vector<uint8_t> out(ie.GetOutputSize());
  auto sync = ie.Run(input.data(), nullptr, out.data());
  CHECK(sync[0]->data() == out.data());
  CHECK(out[0] == 7);
  CHECK(ie.RunBenchmark(20) > 0);
  CHECK(ie.GetLatencyCnt() > 0);
  CHECK(ie.GetNpuInferenceTimeVector().size() > 0);
  CHECK(ie.GetAllTaskOutputs().size() == 1);
}

TEST_CASE("errors are DX-RT's exceptions with DX-RT's codes", "[dxrt]") {
  setenv("ACTORRT_DEVICES", "sim:1", 1);
  CHECK(dxrt::FILE_NOT_FOUND == 257);
  CHECK(dxrt::DEVICE_IO == 265);
  try {
    dxrt::InferenceEngine ie("/nonexistent/model.onnx");
    FAIL("a missing model loaded");
  } catch (const dxrt::FileNotFoundException& e) {
    CHECK(e.code() == 257);
    CHECK(std::string(e.what()).find("/nonexistent/model.onnx")
          != std::string::npos);
  }
  auto garbage = scratch("garbage.onnx");
  std::ofstream(garbage) << "not a model";
  CHECK_THROWS_AS(dxrt::InferenceEngine(garbage.string()),
                  dxrt::InvalidModelException);
  // Every one of them is a std::exception too.
  CHECK_THROWS_AS(dxrt::InferenceEngine("/nonexistent.onnx"), std::exception);

  dxrt::InferenceEngine ie(model_path("tiny_cnn"));
  CHECK_THROWS_AS(ie.Run(nullptr), dxrt::NullPointerException);
  std::vector<uint8_t> input(ie.GetInputSize());
  void* two[] = {input.data(), input.data()};
  CHECK_THROWS_AS(ie.RunAsync(std::vector<void*>(two, two + 2)),
                  dxrt::InvalidArgumentException);
  CHECK_THROWS_AS(ie.Wait(-1), dxrt::InvalidArgumentException);
  CHECK_THROWS_AS(ie.Wait(123456), dxrt::InvalidArgumentException);
  CHECK_THROWS_AS(ie.GetOutputTensorOffset("nope"),
                  dxrt::InvalidArgumentException);
  CHECK_THROWS_AS(ie.DSP_Wait(0), dxrt::InvalidOperationException);
  CHECK_THROWS_AS(ie.GetBitmatchMask(0), dxrt::InvalidOperationException);
  CHECK_THROWS_AS(ie.ValidateDevice(input.data(), 1), dxrt::DeviceIOException);
  // The engine keeps working after each of them.
  CHECK(ie.Run(input.data()).size() == 1);
  ie.Dispose();
  CHECK_THROWS_AS(ie.GetInputSize(), dxrt::InvalidOperationException);
}

TEST_CASE("multi-input models by vector and by name", "[dxrt]") {
  setenv("ACTORRT_DEVICES", "cpu:2", 1);
  dxrt::InferenceEngine ie(model_path("multi_io"));
  REQUIRE(ie.IsMultiInputModel());
  CHECK(ie.GetInputTensorCount() == 2);
  CHECK(ie.GetInputTensorNames()
        == std::vector<std::string>{"image", "features"});
  CHECK(ie.GetOutputTensorNames()
        == std::vector<std::string>{"conv_out", "fc_out"});
  CHECK(ie.GetInputTensorSizes()
        == std::vector<uint64_t>{3 * 16 * 16 * 4, 8 * 4});
  CHECK(ie.GetOutputTensorOffset("fc_out") == 4 * 16 * 16 * 4);
  CHECK(ie.GetInputTensorToTaskMapping().at("features") == "npu_0");
  std::vector<float> image(3 * 16 * 16, 0.5f), features(8, 1.0f);
  auto by_vector
    = ie.RunMultiInput(std::vector<void*>{image.data(), features.data()});
  std::map<std::string, void*> named{{"features", features.data()},
                                     {"image", image.data()}};
  auto by_name = ie.RunMultiInput(named);
  REQUIRE(by_vector.size() == 2);
  CHECK(std::memcmp(by_vector[1]->data(), by_name[1]->data(), 5 * 4) == 0);
  // One buffer of all inputs back to back is split, as in DX-RT.
  std::vector<uint8_t> whole(ie.GetInputSize());
  std::memcpy(whole.data(), image.data(), image.size() * 4);
  std::memcpy(whole.data() + image.size() * 4, features.data(), 8 * 4);
  auto split = ie.Wait(ie.RunAsync(whole.data()));
  CHECK(std::memcmp(split[1]->data(), by_vector[1]->data(), 5 * 4) == 0);
  CHECK(ie.Wait(ie.RunAsyncMultiInput(
                  std::vector<void*>{image.data(), features.data()}))
          .size()
        == 2);
  CHECK_THROWS_AS(ie.RunMultiInput(std::vector<void*>{image.data()}),
                  dxrt::InvalidArgumentException);
  named.erase("features");
  CHECK_THROWS_AS(ie.RunMultiInput(named), dxrt::InvalidArgumentException);
  named["features"] = features.data();
  named["extra"] = features.data();
  CHECK_THROWS_AS(ie.RunAsyncMultiInput(named), dxrt::InvalidArgumentException);
}

TEST_CASE("Run over vectors is a batch into the caller's buffers", "[dxrt]") {
  setenv("ACTORRT_DEVICES", "sim:3", 1);
  dxrt::InferenceEngine ie(model_path("tiny_cnn"));
  std::atomic<int> calls{0};
  ie.RegisterCallback([&](dxrt::TensorPtrs&, void*) {
    ++calls;
    return 0;
  });
  std::vector<std::vector<uint8_t>> in(5,
                                       std::vector<uint8_t>(ie.GetInputSize())),
    out(5, std::vector<uint8_t>(ie.GetOutputSize()));
  std::vector<void*> ins, outs;
  for (int i = 0; i < 5; ++i) {
    in[i][0] = uint8_t(i + 1);
    ins.push_back(in[i].data());
    outs.push_back(out[i].data());
  }
  auto results = ie.Run(ins, outs);
  REQUIRE(results.size() == 5);
  for (int i = 0; i < 5; ++i) {
    CHECK(results[i][0]->data() == out[i].data());
    CHECK(out[i][0] == i + 1);
  }
  CHECK(calls == 0); // a plain batch does not reach the callback
  std::vector<void*> args(5, &calls);
  ie.Run(ins, outs, args);
  CHECK(calls == 5);
  outs.pop_back();
  CHECK_THROWS_AS(ie.Run(ins, outs), dxrt::InvalidArgumentException);
  CHECK_THROWS_AS(ie.Run(std::vector<void*>{}, outs),
                  dxrt::InvalidArgumentException);
}

TEST_CASE("ValidateDevice compares a device with a reference lane", "[dxrt]") {
  setenv("ACTORRT_DEVICES", "cpu:1,cpu:1", 1);
  dxrt::InferenceEngine ie(model_path("tiny_cnn"));
  std::vector<float> input(3 * 32 * 32, 0.25f);
  auto outputs = ie.ValidateDevice(input.data(), 1);
  REQUIRE(outputs.size() == 1);
  auto mask = ie.GetBitmatchMask(0);
  CHECK(mask.size() == (outputs[0]->size_in_bytes() + 7) / 8);
  // Both backends agree on the sign and exponent of every output: the
  // high byte of each float matches.
  for (size_t k = 3; k < outputs[0]->size_in_bytes(); k += 4)
    CHECK((mask[k / 8] >> (k % 8) & 1) == 1);
  CHECK_THROWS_AS(ie.GetBitmatchMask(1), dxrt::InvalidArgumentException);
}

TEST_CASE("a .dxnn path loads the ONNX model beside it", "[dxrt]") {
  setenv("ACTORRT_DEVICES", "sim:1", 1);
  auto onnx = scratch("yolo.onnx");
  fs::copy_file(model_path("tiny_cnn"), onnx,
                fs::copy_options::overwrite_existing);
  auto dxnn = scratch("yolo.dxnn").string();
  dxrt::InferenceEngine ie(dxnn);
  CHECK(ie.GetInputSize() == 3 * 32 * 32 * 4);
  try {
    dxrt::InferenceEngine missing(scratch("other.dxnn").string());
    FAIL("loaded a .dxnn with no ONNX model beside it");
  } catch (const dxrt::FileNotFoundException& e) {
    CHECK(std::string(e.what()).find("other.dxnn") != std::string::npos);
    CHECK(std::string(e.what()).find("other.onnx") != std::string::npos);
  }
}

TEST_CASE("Configuration: items, attributes, locks, versions", "[dxrt]") {
  auto& c = config();
  CHECK_FALSE(c.GetEnable(ITEM::SHOW_MODEL_INFO));
  c.SetEnable(ITEM::SHOW_MODEL_INFO, true);
  CHECK(c.GetEnable(ITEM::SHOW_MODEL_INFO));
  c.SetEnable(ITEM::SHOW_MODEL_INFO, false);
  CHECK_THROWS_AS(c.SetEnable(static_cast<ITEM>(99), true),
                  dxrt::InvalidArgumentException);
  CHECK_THROWS_AS(c.GetEnable(static_cast<ITEM>(0)),
                  dxrt::InvalidArgumentException);
  // Items without machinery here say so instead of doing nothing.
  CHECK_THROWS_AS(c.SetEnable(ITEM::SERVICE, true),
                  dxrt::InvalidOperationException);
  CHECK_FALSE(c.GetEnable(ITEM::SERVICE));
  c.SetEnable(ITEM::SERVICE, false);
  c.SetAttribute(ITEM::PROFILER, ATTRIBUTE::PROFILER_SHOW_DATA, "ON");
  CHECK(c.GetAttribute(ITEM::PROFILER, ATTRIBUTE::PROFILER_SHOW_DATA) == "ON");
  c.SetAttribute(ITEM::PROFILER, ATTRIBUTE::PROFILER_SHOW_DATA, "OFF");
  CHECK_THROWS_AS(
    c.SetAttribute(ITEM::PROFILER, ATTRIBUTE::PROFILER_SAVE_DATA, "maybe"),
    dxrt::InvalidArgumentException);
  CHECK_THROWS_AS(
    c.SetAttribute(ITEM::DEBUG, ATTRIBUTE::PROFILER_SAVE_DATA, "ON"),
    dxrt::InvalidArgumentException);
  c.LockEnable(ITEM::SHOW_PROFILE);
  CHECK_THROWS_AS(c.SetEnable(ITEM::SHOW_PROFILE, true),
                  dxrt::InvalidOperationException);
  CHECK(c.GetVersion() == ACTORRT_VERSION);
  CHECK(c.GetDriverVersion().empty());
  CHECK(c.GetPCIeDriverVersion().empty());
  CHECK(c.GetFirmwareVersions().empty());
  CHECK_THROWS_AS(c.LoadConfigFile("/nonexistent.cfg"),
                  dxrt::FileNotFoundException);
  auto bad = scratch("bad.cfg");
  std::ofstream(bad) << "ENABLE_PROFILER=ON\nno equals sign\n";
  CHECK_THROWS_AS(c.LoadConfigFile(bad.string()),
                  dxrt::InvalidArgumentException);
}

TEST_CASE("PROFILER with PROFILER_SAVE_DATA writes ActorRT's job trace",
          "[dxrt]") {
  setenv("ACTORRT_DEVICES", "sim:2", 1);
  auto dir = scratch("trace");
  fs::create_directories(dir);
  auto old = fs::current_path();
  fs::current_path(dir);
  auto cfg = dir / "dxrt.cfg";
  std::ofstream(cfg) << "# DX-RT's keys\nENABLE_PROFILER=ON\n"
                        "PROFILER_SAVE_DATA=ON\n";
  config().LoadConfigFile(cfg.string());
  CHECK(config().GetEnable(ITEM::PROFILER));
  {
    dxrt::InferenceEngine ie(model_path("tiny_cnn"));
    std::vector<uint8_t> input(ie.GetInputSize());
    for (int i = 0; i < 5; ++i) {
      dxrt::Profiler::GetInstance().Start("preprocess");
      dxrt::Profiler::GetInstance().End("preprocess");
      ie.Run(input.data());
    }
  }
  config().SetEnable(ITEM::PROFILER, false); // stops and writes the trace
  fs::current_path(old);
  std::ifstream trace(dir / "profiler.json");
  std::stringstream text;
  text << trace.rdbuf();
  CHECK(text.str().find("traceEvents") != std::string::npos);
  CHECK(text.str().find("tiny_cnn") != std::string::npos);
  // The Profiler's own events are in it too, beside the jobs.
  CHECK(text.str().find("\"name\":\"preprocess\"") != std::string::npos);
}

TEST_CASE("Profiler times named events", "[dxrt]") {
  auto& p = dxrt::Profiler::GetInstance();
  p.Start("step");
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  p.End("step");
  CHECK(p.Get("step") >= 2000);
  CHECK(p.GetAverage("step") >= 2000);
  auto tp = std::make_shared<dxrt::TimePoint>();
  tp->end = tp->start + std::chrono::microseconds(500);
  p.AddTimePoint("given", tp);
  CHECK(p.Get("given") == 500);
  CHECK_THROWS_AS(p.End("never started"), dxrt::InvalidOperationException);
  CHECK_THROWS_AS(p.Get("unknown"), dxrt::InvalidArgumentException);
  auto file = scratch("profile.json");
  p.Save(file.string());
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str().find("\"name\":\"given\"") != std::string::npos);
  p.Erase("given");
  CHECK_THROWS_AS(p.Get("given"), dxrt::InvalidArgumentException);
  p.Clear();
  CHECK_THROWS_AS(p.Get("step"), dxrt::InvalidArgumentException);
}

TEST_CASE("DeviceStatus reports what the runtime measures", "[dxrt]") {
  setenv("ACTORRT_DEVICES", "sim:2,sim:3", 1);
  CHECK(dxrt::DeviceStatus::GetDeviceCount() == 2);
  CHECK_THROWS_AS(dxrt::DeviceStatus::GetCurrentStatus(2),
                  dxrt::InvalidArgumentException);
  CHECK_THROWS_AS(dxrt::DeviceStatus::GetCurrentStatus(-1),
                  dxrt::InvalidArgumentException);
  dxrt::InferenceOption second;
  second.devices = {1};
  dxrt::InferenceEngine ie(model_path("tiny_cnn"), second);
  std::vector<uint8_t> input(ie.GetInputSize());
  for (int i = 0; i < 9; ++i)
    ie.Run(input.data());
  auto s = dxrt::DeviceStatus::GetCurrentStatus(1);
  CHECK(s.GetId() == 1);
  REQUIRE(s.GetNpuCount() == 3);
  uint64_t done = 0;
  for (int ch = 0; ch < 3; ++ch) {
    done += s.GetCore(ch).jobsDone;
    CHECK(s.GetCore(ch).alive);
    CHECK(s.GetCore(ch).simulated);
  }
  CHECK(done == 9);
  CHECK(s.DeviceTypeStr() == "simulated NPU");
  CHECK(s.NpuStatusStr(0).find("running") != std::string::npos);
  CHECK(s.MemorySize() > 0);
  CHECK(s.FirmwareVersionStr().empty());
  CHECK_THROWS_AS(s.GetNpuVoltage(0), dxrt::DeviceIOException);
  CHECK_THROWS_AS(s.GetTemperature(0), dxrt::DeviceIOException);
  CHECK_THROWS_AS(s.GetCore(3), dxrt::InvalidArgumentException);
  CHECK(dxrt::DeviceStatus::GetCurrentStatus(0).GetNpuCount() == 2);
  std::ostringstream os;
  os << s;
  CHECK(os.str().find("NPU 2:") != std::string::npos);
}

TEST_CASE("Tensor, DataType and the helpers keep DX-RT's layout", "[dxrt]") {
  CHECK(dxrt::MAX_TYPE == 13);
  CHECK(sizeof(dxrt::DeviceBoundingBox_t) == 32);
  CHECK(sizeof(dxrt::DeviceFace_t) == 64);
  CHECK(sizeof(dxrt::DevicePose_t) == 256);
  CHECK(dxrt::GetDataSize_Datatype(dxrt::BBOX) == 32);
  CHECK(dxrt::DataTypeToString(dxrt::POSE) == "POSE");
  std::vector<float> data(2 * 3 * 4);
  dxrt::Tensor t("x", {1, 2, 3, 4}, dxrt::FLOAT, data.data());
  CHECK(t.size_in_bytes() == data.size() * 4);
  CHECK(t.data(1, 2, 3) == &data[(1 * 3 + 2) * 4 + 3]);
  CHECK_THROWS_AS(t.data(2, 0, 0), std::out_of_range);
  dxrt::Tensor moved(t, data.data() + 1);
  CHECK(moved.data() == data.data() + 1);
  CHECK(moved.shape() == t.shape());
  CHECK(dxrt::format_number_with_commas(-1234567) == "-1,234,567");
  CHECK(dxrt::StringSplit("a,b,,c", ",")
        == std::vector<std::string>{"a", "b", "", "c"});
  auto seq = dxrt::RandomSequence(10);
  std::sort(seq.begin(), seq.end());
  for (int i = 0; i < 10; ++i)
    CHECK(seq[i] == i);
  CHECK(dxrt::GetAlign(65) == 128);
  CHECK_THROWS_AS(dxrt::SizeFromFile("/nonexistent"),
                  dxrt::FileNotFoundException);
}
