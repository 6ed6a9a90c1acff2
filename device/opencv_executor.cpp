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
  std::vector<int> dims(t.info.shape.begin(), t.info.shape.end());
  if (dims.empty())
    dims.push_back(1);
  return cv::Mat(static_cast<int>(dims.size()), dims.data(),
                 cv_depth(t.info.type), t.bytes.data);
}

blob copy_out(const cv::Mat& mat, const tensor_info& info) {
  if (mat.total() != info.element_count())
    throw DeviceIO(
      "output '" + info.name + "' has " + std::to_string(mat.total())
      + " elements, the model "
        "declares "
      + std::to_string(info.element_count()) + " " + shape_string(info.shape));
  cv::Mat source = mat.isContinuous() ? mat : mat.clone();
  int depth = cv_depth(info.type);
  auto bytes = blob::allocate(info.byte_size());
  if (source.depth() == depth) {
    std::memcpy(bytes.data, source.data, bytes.size);
    return bytes;
  }
  cv::Mat flat = source.reshape(1, 1);
  cv::Mat target(1, static_cast<int>(info.element_count()), depth, bytes.data);
  flat.convertTo(target, depth);
  return bytes;
}

} // namespace

opencv_executor::opencv_executor(const model& m) : outputs_(m.outputs()) {
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
    for (auto& out : outputs_)
      output_names_.push_back(out.name);
    tensors zeros;
    for (auto& info : m.inputs()) {
      auto bytes = blob::allocate(info.byte_size());
      std::memset(bytes.data, 0, bytes.size);
      zeros.push_back({info, bytes});
    }
    forward(zeros);
  } catch (const cv::Exception& e) {
    throw InvalidModel("OpenCV DNN cannot run '" + m.name() + "': " + e.what());
  } catch (const DeviceIO& e) {
    throw InvalidModel("OpenCV DNN cannot run '" + m.name() + "': " + e.what());
  }
}

tensors opencv_executor::forward(const tensors& inputs) {
  for (auto& in : inputs)
    net_.setInput(wrap(in), in.info.name);
  std::vector<cv::Mat> outs;
  net_.forward(outs, output_names_);
  tensors result;
  result.reserve(outs.size());
  for (size_t i = 0; i < outs.size(); ++i)
    result.push_back({outputs_[i], copy_out(outs[i], outputs_[i])});
  return result;
}

tensors opencv_executor::run(const tensors& inputs) {
  cpu_slots::lease slot{cpu_slots::host()};
  compute_start_ = now_ns();
  try {
    return forward(inputs);
  } catch (const cv::Exception& e) {
    throw DeviceIO(std::string("OpenCV DNN forward failed: ") + e.what());
  }
}

} // namespace actorrt
