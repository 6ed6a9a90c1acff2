// ONNX Runtime's shared library, loaded at run time (dlopen) so that the
// build, the tests and the package work without it. Looked for at
// ACTORRT_ORT_LIBRARY when set, else where scripts/install_deps.sh puts it,
// else on the loader's path.
#pragma once

#include <memory>
#include <string>

#include "device/ort_api.hpp"

namespace actorrt {

class ort_library {
public:
  /// The library, loaded once per process; null when it is missing or
  /// unusable (load_error() says why).
  static const ort_library* get();
  static const std::string& load_error();

  template <class F>
  F fn(ort::entry e) const {
    return reinterpret_cast<F>(table_[static_cast<size_t>(e)]);
  }

  /// Throws `Error` with `what` and ORT's message if `status` is a failure
  /// (releasing it).
  template <class Error>
  void check(ort::OrtStatus* status, const std::string& what) const {
    if (status)
      throw Error(what + ": " + take_message(status));
  }

  const std::string& version() const {
    return version_;
  }
  const std::string& path() const {
    return path_;
  }
  ort::OrtEnv* env() const {
    return env_;
  }
  const ort::OrtMemoryInfo* cpu_memory() const {
    return cpu_memory_;
  }

private:
  struct loaded {
    std::unique_ptr<ort_library> lib;
    std::string error;
  };
  static const loaded& load_once();

  ort_library() = default;
  std::string take_message(ort::OrtStatus* status) const;

  void* const* table_ = nullptr;
  std::string version_;
  std::string path_;
  ort::OrtEnv* env_ = nullptr;
  ort::OrtMemoryInfo* cpu_memory_ = nullptr;
};

} // namespace actorrt
