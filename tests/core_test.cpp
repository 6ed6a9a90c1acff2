#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "core/cpu_contention.hpp"
#include "core/errors.hpp"
#include "core/inference_option.hpp"
#include "core/metrics.hpp"
#include "core/model.hpp"
#include "core/stats.hpp"
#include "core/tensor.hpp"
#include "models.hpp"

using namespace actorrt;
using actorrt::test::model_path;

namespace {

std::string write_file(const std::string& name, const std::string& bytes) {
  auto path = actorrt::test::scratch(name).string();
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

} // namespace

TEST_CASE("a valid model exposes its tensors and sizes", "[core]") {
  auto m = model::load(model_path("tiny_cnn"));
  REQUIRE(m->inputs().size() == 1);
  CHECK(m->inputs()[0].name == "input");
  CHECK(m->inputs()[0].shape == std::vector<int64_t>{1, 3, 32, 32});
  CHECK(m->inputs()[0].type == dtype::float32);
  CHECK(m->input_size() == 3 * 32 * 32 * 4);
  REQUIRE(m->outputs().size() == 1);
  CHECK(m->outputs()[0].shape == std::vector<int64_t>{1, 10});
  CHECK(m->output_size() == 40);
  CHECK(m->op_census().at("Conv") == 2);
  CHECK(m->op_census().at("Gemm") == 1);
  // conv1 8*32*32*(3*9) + conv2 16*16*16*(8*9) + gemm 10*16
  CHECK(m->macs() == 8 * 32 * 32 * 27 + 16 * 16 * 16 * 72 + 160);
}

TEST_CASE("multi-input models sum their input sizes", "[core]") {
  auto m = model::load(model_path("multi_io"));
  REQUIRE(m->inputs().size() == 2);
  CHECK(m->input_size() == (3 * 16 * 16 + 8) * 4);
  CHECK(m->output_size() == (4 * 16 * 16 + 5) * 4);
}

TEST_CASE("bad model files give typed errors", "[core]") {
  CHECK_THROWS_AS(model::load("/nonexistent/model.onnx"), FileNotFound);
  CHECK_THROWS_AS(model::load("/tmp"), FileNotFound);
  CHECK_THROWS_AS(model::load(write_file("empty.onnx", "")), InvalidModel);
  CHECK_THROWS_WITH(model::load(write_file("junk.onnx", "not a model \x01")),
                    Catch::Contains("not an ONNX model"));
  // A truncated real model must not parse either.
  std::ifstream in(model_path("tiny_cnn"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  CHECK_THROWS_AS(
    model::load(write_file("cut.onnx", bytes.substr(0, bytes.size() / 2))),
    InvalidModel);
}

TEST_CASE("a blob's memory is aligned for any type and lives while a view "
          "of it does",
          "[core]") {
  for (size_t size : {0, 1, 3, 4096}) {
    auto b = blob::allocate(size);
    CHECK(b.size == size);
    CHECK(reinterpret_cast<uintptr_t>(b.data) % __STDCPP_DEFAULT_NEW_ALIGNMENT__
          == 0);
    std::memset(b.data, 0xab, size);
  }
  blob view;
  {
    auto b = blob::allocate(64);
    std::memset(b.data, 7, 64);
    view = b.slice(32, 32);
    CHECK(b.owner.use_count() == 2);
  }
  CHECK(view.owner.use_count() == 1);
  CHECK(view.data[31] == 7); // read under ASan: a freed block would show
  CHECK_THROWS_AS(blob::allocate(SIZE_MAX), std::bad_alloc); // no wrap-around
}

TEST_CASE("a raw buffer splits into the model's inputs", "[core]") {
  auto m = model::load(model_path("multi_io"));
  auto raw = blob::allocate(m->input_size());
  auto parts = split_inputs(m->inputs(), raw);
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].data == raw.data);
  CHECK(parts[1].data == raw.data + 3 * 16 * 16 * 4);
  CHECK(parts[1].size == 32);
  CHECK(parts[0].owner == raw.owner);
}

TEST_CASE("wrong input sizes state expected and actual bytes", "[core]") {
  auto m = model::load(model_path("tiny_cnn"));
  auto small = blob::allocate(1);
  CHECK_THROWS_WITH(split_inputs(m->inputs(), small),
                    Catch::Contains("1 bytes") && Catch::Contains("12288"));
  auto mm = model::load(model_path("multi_io"));
  auto a = blob::allocate(3 * 16 * 16 * 4);
  auto b = blob::allocate(31);
  CHECK_THROWS_AS(bind_inputs(mm->inputs(), {a, b}), InvalidArgument);
  CHECK_THROWS_WITH(bind_inputs(mm->inputs(), {a, b}),
                    Catch::Contains("'features'") && Catch::Contains("32"));
  CHECK_THROWS_AS(bind_inputs(mm->inputs(), {a, a, a}), InvalidArgument);
  CHECK(bind_inputs(mm->inputs(), {a, blob::allocate(32)}).size() == 2);
}

TEST_CASE("inference options validate their ranges", "[core]") {
  InferenceOption o;
  CHECK(o.buffer_count == 6);
  o.validate();
  o.buffer_count = 0;
  CHECK_THROWS_AS(o.validate(), InvalidArgument);
  o.buffer_count = 101;
  CHECK_THROWS_AS(o.validate(), InvalidArgument);
  o.buffer_count = 100;
  o.validate();
  o.bound = static_cast<bound_option>(7);
  CHECK_THROWS_AS(o.validate(), InvalidArgument);
  CHECK(bound_core_mask(bound_option::npu_12) == 0b110);
  CHECK(bound_core_mask(bound_option::npu_1) == 0b010);
}

TEST_CASE("DXRT_TASK_MAX_LOAD sets the default buffer count", "[core]") {
  setenv("DXRT_TASK_MAX_LOAD", "9", 1);
  CHECK(InferenceOption::default_buffer_count() == 9);
  setenv("DXRT_TASK_MAX_LOAD", "500", 1);
  CHECK(InferenceOption::default_buffer_count() == 6);
  unsetenv("DXRT_TASK_MAX_LOAD");
  CHECK(InferenceOption::default_buffer_count() == 6);
}

TEST_CASE("every error code has a name and an exception type", "[core]") {
  for (auto code : {errc::file_not_found, errc::invalid_model,
                    errc::invalid_argument, errc::invalid_operation,
                    errc::device_io, errc::timeout, errc::cancelled}) {
    CHECK(std::string(to_string(code)) != "unknown");
    try {
      throw_error(code, "msg");
    } catch (const Error& e) {
      CHECK(e.code() == code);
      CHECK(std::string(e.what()) == "msg");
    }
  }
  CHECK_THROWS_AS(throw_error(errc::timeout, "t"), Timeout);
}

TEST_CASE("a histogram gives DX-RT's latest, mean and deviation exactly; "
          "recent samples keep a window",
          "[core]") {
  histogram h;
  recent_samples recent{3};
  for (int v : {10, 20, 30, 40}) {
    h.record(v);
    recent.add(v);
  }
  auto sum = h.read().summary();
  CHECK(sum.last == 40);
  CHECK(sum.count == 4);
  CHECK(sum.mean == Approx(25));
  CHECK(sum.stddev == Approx(11.1803).epsilon(1e-3));
  CHECK(recent.values() == std::vector<int64_t>{20, 30, 40});
  CHECK(histogram{}.read().summary().count == 0);
}

TEST_CASE("dynamic dimensions resolve to 1 with a note", "[core]") {
  auto m = model::load(model_path("dynamic_batch"));
  CHECK(m->inputs()[0].shape == std::vector<int64_t>{1, 6});
  CHECK_THAT(m->inputs()[0].note, Catch::Contains("'N'"));
  CHECK(m->input_size() == 24);
}

TEST_CASE("a dynamic batch axis takes the batch the input bytes hold",
          "[core]") {
  auto m = model::load(model_path("dynamic_batch")); // [N, 6] float
  CHECK(m->inputs()[0].dynamic_batch);
  int64_t batch = 0;
  auto bound = bind_inputs(m->inputs(), {blob::allocate(4 * 6 * 4)}, &batch);
  CHECK(batch == 4);
  CHECK(bound[0].bytes.size == 96);
  auto metas = batched(m->output_metas(), batch);
  CHECK(metas[0]->shape == std::vector<int64_t>{4, 6});
  CHECK(batched(m->output_metas(), 1)[0] == m->output_metas()[0]); // shared
  CHECK(bind_outputs(m->outputs(), {blob::allocate(96)}, 4)[0].size == 96);
  CHECK_THROWS_WITH(bind_inputs(m->inputs(), {blob::allocate(30)}, &batch),
                    Catch::Contains("30 bytes") && Catch::Contains("24"));
  // Without asking for a batch, or for a static model, sizes are exact.
  CHECK_THROWS_AS(bind_inputs(m->inputs(), {blob::allocate(96)}),
                  InvalidArgument);
  auto fixed = model::load(model_path("tiny_cnn"));
  CHECK_FALSE(fixed->inputs()[0].dynamic_batch);
  CHECK_THROWS_AS(
    bind_inputs(fixed->inputs(), {blob::allocate(2 * 12288)}, &batch),
    InvalidArgument);
}

TEST_CASE("a yield that came back a slice late stops polling for a while",
          "[core]") {
  using namespace std::chrono_literals;
  auto now = std::chrono::steady_clock::now();
  note_yield(now, 40us); // to a thread with a message to pass
  CHECK_FALSE(cpus_contended(now));
  note_yield(now, 4ms); // a busy task kept the CPU for its slice
  CHECK(cpus_contended(now));
  CHECK(cpus_contended(now + 49ms));
  CHECK_FALSE(cpus_contended(now + 51ms));
}
