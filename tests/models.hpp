// Paths of the generated test models (models/generate_models.py), and a
// scratch folder for the files a test writes.
#pragma once

#include <filesystem>
#include <string>

#include <unistd.h>

namespace actorrt::test {

inline std::string model_path(const std::string& name) {
  return std::string(ACTORRT_MODEL_DIR) + "/" + name + ".onnx";
}

/// A file in this process's scratch folder, which goes when it ends.
inline std::filesystem::path scratch(const std::string& name) {
  namespace fs = std::filesystem;
  static const struct folder {
    fs::path path = fs::temp_directory_path()
                    / ("actorrt_test_" + std::to_string(::getpid()));
    ~folder() {
      std::error_code ignored;
      fs::remove_all(path, ignored);
    }
  } dir;
  fs::create_directories(dir.path);
  return dir.path / name;
}

} // namespace actorrt::test
