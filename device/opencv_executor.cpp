#include "device/opencv_executor.hpp"

#include <cstring>
#include <mutex>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>

#include "core/clock.hpp"
#include "core/errors.hpp"
#include "device/cpu_slots.hpp"

namespace actorrt {

namespace {

int cv_depth(dtype type) {
  switch (type) {
    case dtype::float32:
      return CV_32F;
    case dtype::uint8:
      return CV_8U;
    case dtype::int8:
      return CV_8S;
    case dtype::uint16:
      return CV_16U;
    case dtype::int16:
      return CV_16S;
    case dtype::int32:
      return CV_32S;
    case dtype::float64:
      return CV_64F;
    case dtype::float16:
      return CV_16F;
    default:
      throw InvalidModel(std::string("OpenCV DNN has no element type for ")
                         + to_string(type));
  }
}

cv::Mat wrap(const tensor& t) {
  std::vector<int> dims(t.info().shape.begin(), t.info().shape.end());
  if (dims.empty())
    dims.push_back(1);
  return cv::Mat(static_cast<int>(dims.size()), dims.data(),
                 cv_depth(t.info().type), t.bytes.data);
}

void copy_out(const cv::Mat& mat, tensor& out) {
  if (out.info().dynamic_shape && !out.bytes.data)
    out.meta = with_shape(out.meta, {mat.size.p, mat.size.p + mat.dims});
  auto& info = out.info();
  if (mat.total() != info.element_count())
    throw DeviceIO(
      "output '" + info.name + "' has " + std::to_string(mat.total())
      + " elements, the model "
        "declares "
      + std::to_string(info.element_count()) + " " + shape_string(info.shape));
  cv::Mat source = mat.isContinuous() ? mat : mat.clone();
  int depth = cv_depth(info.type);
  auto& bytes = output_memory(out);
  if (source.depth() == depth) {
    std::memcpy(bytes.data, source.data, bytes.size);
    return;
  }
  cv::Mat flat = source.reshape(1, 1);
  cv::Mat target(1, static_cast<int>(info.element_count()), depth, bytes.data);
  flat.convertTo(target, depth);
}

} // namespace

opencv_executor::opencv_executor(const model& m) {
  static std::once_flag single_threaded;
  std::call_once(single_threaded, [] {
    // Each lane is one thread; OpenCV's own pool would oversubscribe the host.
    cv::setNumThreads(1);
    // Import failures reach the caller as InvalidModel; no stderr noise.
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  });
  try {
    net_ = cv::dnn::readNetFromONNX(m.bytes().data(), m.bytes().size());
    net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    for (auto& out : m.outputs())
      output_names_.push_back(out.name);
    auto outputs = attach(m.output_metas(), {});
    forward(zero_tensors(m.input_metas()), outputs);
  } catch (const cv::Exception& e) {
    throw InvalidModel("OpenCV DNN cannot run '" + m.name() + "': " + e.what());
  } catch (const DeviceIO& e) {
    throw InvalidModel("OpenCV DNN cannot run '" + m.name() + "': " + e.what());
  }
}

void opencv_executor::forward(const tensors& inputs, tensors& outputs) {
  for (auto& in : inputs)
    net_.setInput(wrap(in), in.info().name);
  std::vector<cv::Mat> outs;
  net_.forward(outs, output_names_);
  for (size_t i = 0; i < outs.size() && i < outputs.size(); ++i)
    copy_out(outs[i], outputs[i]);
}

int64_t opencv_executor::run(const tensors& inputs, tensors& outputs) {
  cpu_slots::lease slot{cpu_slots::host()};
  auto started = now_ns();
  try {
    forward(inputs, outputs);
    return started;
  } catch (const cv::Exception& e) {
    throw DeviceIO(std::string("OpenCV DNN forward failed: ") + e.what());
  }
}

} // namespace actorrt
