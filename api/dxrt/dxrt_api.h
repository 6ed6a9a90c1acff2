// DX-RT's C++ API over ActorRT: code written for DX-RT v3.0 includes this
// and builds unchanged (find_package(dxrt), target dxrt).
#pragma once

#include "dxrt/common.h"
#include "dxrt/configuration.h"
#include "dxrt/datatype.h"
#include "dxrt/device_info_status.h"
#include "dxrt/exception/exception.h"
#include "dxrt/inference_engine.h"
#include "dxrt/profiler.h"
#include "dxrt/tensor.h"
#include "dxrt/util.h"
