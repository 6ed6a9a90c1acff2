// The few entries of ONNX Runtime's C API that ActorRT calls. The library
// (from the npm package onnxruntime-node) ships no header, and this project
// vendors no third-party source, so they are declared here. OrtApi is an
// append-only table of function pointers: each entry is named by its index,
// checked against onnxruntime_c_api.h (version 1 of the table, unchanged
// since), and the C enums it takes travel as int.
#pragma once

#include <cstddef>
#include <cstdint>

namespace actorrt::ort {

struct OrtStatus;
struct OrtEnv;
struct OrtSession;
struct OrtSessionOptions;
struct OrtValue;
struct OrtMemoryInfo;
struct OrtRunOptions;
struct OrtTensorTypeAndShapeInfo;

struct OrtApi;
struct OrtApiBase {
  const OrtApi* (*GetApi)(uint32_t version);
  const char* (*GetVersionString)();
};
using GetApiBase_fn = const OrtApiBase* (*) ();

/// The API version asked for: any version up to the library's own returns
/// the same table.
constexpr uint32_t api_version = 13;

/// Index of each entry used, in the OrtApi table.
enum class entry : size_t {
  GetErrorMessage = 2,
  CreateEnv = 3,
  CreateSessionFromArray = 8,
  Run = 9,
  CreateSessionOptions = 10,
  SetSessionExecutionMode = 13,
  SetSessionGraphOptimizationLevel = 23,
  SetIntraOpNumThreads = 24,
  SetInterOpNumThreads = 25,
  CreateTensorWithDataAsOrtValue = 49,
  GetTensorMutableData = 51,
  GetDimensionsCount = 61,
  GetDimensions = 62,
  GetTensorTypeAndShape = 65,
  CreateCpuMemoryInfo = 69,
  ReleaseEnv = 92,
  ReleaseStatus = 93,
  ReleaseMemoryInfo = 94,
  ReleaseSession = 95,
  ReleaseValue = 96,
  ReleaseTensorTypeAndShapeInfo = 99,
  ReleaseSessionOptions = 100,
};

using GetErrorMessage_fn = const char* (*) (const OrtStatus*);
using CreateEnv_fn = OrtStatus* (*) (int level, const char* id, OrtEnv** out);
using CreateSessionFromArray_fn
  = OrtStatus* (*) (const OrtEnv*, const void* data, size_t size,
                    const OrtSessionOptions*, OrtSession** out);
using Run_fn = OrtStatus* (*) (OrtSession*, const OrtRunOptions*,
                               const char* const* input_names,
                               const OrtValue* const* inputs, size_t n_inputs,
                               const char* const* output_names,
                               size_t n_outputs, OrtValue** outputs);
using CreateSessionOptions_fn = OrtStatus* (*) (OrtSessionOptions** out);
using SetOption_fn = OrtStatus* (*) (OrtSessionOptions*, int value);
using CreateTensorWithDataAsOrtValue_fn
  = OrtStatus* (*) (const OrtMemoryInfo*, void* data, size_t size,
                    const int64_t* shape, size_t rank, int type,
                    OrtValue** out);
using GetTensorMutableData_fn = OrtStatus* (*) (OrtValue*, void** out);
using GetDimensionsCount_fn
  = OrtStatus* (*) (const OrtTensorTypeAndShapeInfo*, size_t* out);
using GetDimensions_fn
  = OrtStatus* (*) (const OrtTensorTypeAndShapeInfo*, int64_t* dims, size_t n);
using GetTensorTypeAndShape_fn
  = OrtStatus* (*) (const OrtValue*, OrtTensorTypeAndShapeInfo** out);
using CreateCpuMemoryInfo_fn
  = OrtStatus* (*) (int allocator_type, int mem_type, OrtMemoryInfo** out);
template <class T>
using Release_fn = void (*)(T*);

// Enum values (onnxruntime_c_api.h).
constexpr int logging_level_fatal = 4;     // ORT_LOGGING_LEVEL_FATAL
constexpr int execution_sequential = 0;    // ORT_SEQUENTIAL
constexpr int graph_optimization_all = 99; // ORT_ENABLE_ALL
constexpr int device_allocator = 0;        // OrtDeviceAllocator
constexpr int mem_type_default = 0;        // OrtMemTypeDefault

} // namespace actorrt::ort
