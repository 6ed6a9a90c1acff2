// A CPU lane standing in for an NPU core: one OpenCV DNN network, run by one
// thread with OpenCV's own threading off.
#pragma once

#include <opencv2/dnn.hpp>

#include "core/model.hpp"
#include "device/executor.hpp"

namespace actorrt {

class opencv_executor : public executor {
public:
  /// Builds the network and runs it once on zeros, so operators OpenCV 4.6
  /// cannot run surface here as InvalidModel rather than at the first job.
  explicit opencv_executor(const model& m);

  std::string name() const override {
    return "opencv-dnn";
  }
  int64_t run(const tensors& inputs, tensors& outputs) override;

private:
  void forward(const tensors& inputs, tensors& outputs);

  cv::dnn::Net net_;
  std::vector<cv::String> output_names_;
};

} // namespace actorrt
