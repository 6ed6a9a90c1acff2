#include "device/ort_library.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <vector>

namespace actorrt {

namespace {

/// The folder of the binary (library, program or Python module) this code
/// was linked into.
std::string own_folder() {
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&own_folder), &info) == 0
      || info.dli_fname == nullptr)
    return "";
  std::string path = info.dli_fname;
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::vector<std::string> candidates() {
  if (const char* path = std::getenv("ACTORRT_ORT_LIBRARY"))
    return {path}; // exactly this one: a test or an operator means it
  // Installed: beside libactorrt.so, seen from where each installed
  // binary lives. Only those that exist, so errors name real attempts.
  std::vector<std::string> paths;
  std::string relative = ACTORRT_ORT_RELATIVE_PATHS, folder = own_folder();
  for (size_t start = 0; !folder.empty() && start <= relative.size();) {
    auto end = std::min(relative.find(':', start), relative.size());
    auto path = folder + "/" + relative.substr(start, end - start);
    if (::access(path.c_str(), R_OK) == 0)
      paths.push_back(path);
    start = end + 1;
  }
  paths.push_back(ACTORRT_ORT_DEFAULT_PATH); // the build tree's
  paths.push_back("libonnxruntime.so.1");
  return paths;
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
