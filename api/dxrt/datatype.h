// DX-RT's element types, with its numbering, and the records its NPU
// post-processing (PPU) writes. ONNX models here have no PPU outputs, but
// code that decodes them compiles and can decode such buffers.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "dxrt/common.h"

namespace dxrt {

enum DXRT_API DataType {
  NONE_TYPE = 0,
  FLOAT,  ///< 32-bit float
  UINT8,  ///< 8-bit unsigned integer
  INT8,   ///< 8-bit signed integer
  UINT16, ///< 16-bit unsigned integer
  INT16,  ///< 16-bit signed integer
  INT32,  ///< 32-bit signed integer
  INT64,  ///< 64-bit signed integer
  UINT32, ///< 32-bit unsigned integer
  UINT64, ///< 64-bit unsigned integer
  BBOX,   ///< DeviceBoundingBox_t records
  FACE,   ///< DeviceFace_t records
  POSE,   ///< DevicePose_t records
  MAX_TYPE,
};

DXRT_API std::string DataTypeToString(DataType type);
DXRT_API std::ostream& operator<<(std::ostream&, const DataType&);

typedef struct DXRT_API _DeviceBoundingBox {
  float x;
  float y;
  float w;
  float h;
  uint8_t grid_y;
  uint8_t grid_x;
  uint8_t box_idx;
  uint8_t layer_idx;
  float score;
  uint32_t label;
  char padding[4];
} DeviceBoundingBox_t;

typedef struct DXRT_API _DeviceFace {
  float x;
  float y;
  float w;
  float h;
  uint8_t grid_y;
  uint8_t grid_x;
  uint8_t box_idx;
  uint8_t layer_idx;
  float score;
  float kpts[5][2];
} DeviceFace_t;

typedef struct DXRT_API _DevicePose {
  float x;
  float y;
  float w;
  float h;
  uint8_t grid_y;
  uint8_t grid_x;
  uint8_t box_idx;
  uint8_t layer_idx;
  float score;
  uint32_t label;
  float kpts[17][3];
  char padding[24];
} DevicePose_t;

/// Bytes of one element (one record for BBOX, FACE and POSE); 0 for
/// NONE_TYPE.
DXRT_API int GetDataSize_Datatype(DataType dType);

} // namespace dxrt
