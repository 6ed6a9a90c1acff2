// Paths of the generated test models (models/generate_models.py).
#pragma once

#include <string>

namespace actorrt::test {

inline std::string model_path(const std::string& name) {
  return std::string(ACTORRT_MODEL_DIR) + "/" + name + ".onnx";
}

} // namespace actorrt::test
