#include "device/ort_library.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <vector>

namespace actorrt {

namespace {

std::vector<std::string> candidates() {
  if (const char* path = std::getenv("ACTORRT_ORT_LIBRARY"))
    return {path}; // exactly this one: a test or an operator means it
  return {ACTORRT_ORT_DEFAULT_PATH, "libonnxruntime.so.1"};
}

} // namespace

std::string ort_library::take_message(ort::OrtStatus* status) const {
  std::string msg
    = fn<ort::GetErrorMessage_fn>(ort::entry::GetErrorMessage)(status);
  fn<ort::Release_fn<ort::OrtStatus>>(ort::entry::ReleaseStatus)(status);
  return msg;
}

const ort_library::loaded& ort_library::load_once() {
  static const loaded once = [] {
    loaded result;
    std::string tried;
    for (auto& path : candidates()) {
      void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!handle) {
        tried += (tried.empty() ? "" : "; ") + std::string(::dlerror());
        continue;
      }
      auto base = reinterpret_cast<ort::GetApiBase_fn>(
        ::dlsym(handle, "OrtGetApiBase"));
      const ort::OrtApi* api
        = base ? base()->GetApi(ort::api_version) : nullptr;
      if (!api) {
        tried += (tried.empty() ? "" : "; ") + path
                 + ": not an ONNX Runtime with C API version "
                 + std::to_string(ort::api_version);
        continue;
      }
      std::unique_ptr<ort_library> lib{new ort_library};
      lib->table_ = reinterpret_cast<void* const*>(api);
      lib->version_ = base()->GetVersionString();
      lib->path_ = path;
      try {
        lib->check<std::runtime_error>(
          lib->fn<ort::CreateEnv_fn>(ort::entry::CreateEnv)(
            // Failures reach callers as typed errors; no log of its own.
            ort::logging_level_fatal, "actorrt", &lib->env_),
          "CreateEnv");
        lib->check<std::runtime_error>(
          lib->fn<ort::CreateCpuMemoryInfo_fn>(ort::entry::CreateCpuMemoryInfo)(
            ort::device_allocator, ort::mem_type_default, &lib->cpu_memory_),
          "CreateCpuMemoryInfo");
      } catch (const std::exception& e) {
        tried += (tried.empty() ? "" : "; ") + path + ": " + e.what();
        continue;
      }
      // The environment lives as long as the process: sessions may be
      // released during static destruction.
      result.lib = std::move(lib);
      return result;
    }
    result.error = "ONNX Runtime is not available (" + tried + ")";
    return result;
  }();
  return once;
}

const ort_library* ort_library::get() {
  return load_once().lib.get();
}

const std::string& ort_library::load_error() {
  return load_once().error;
}

} // namespace actorrt
