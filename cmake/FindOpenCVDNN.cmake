# Debian's libopencv-dnn-dev has no OpenCVConfig.cmake (that comes with the
# much larger libopencv-dev). Defines OpenCV::dnn (dnn + core).
find_path(OpenCVDNN_INCLUDE_DIR opencv2/dnn.hpp PATH_SUFFIXES opencv4)
find_library(OpenCVDNN_dnn_LIBRARY opencv_dnn)
find_library(OpenCVDNN_core_LIBRARY opencv_core)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(OpenCVDNN REQUIRED_VARS
  OpenCVDNN_INCLUDE_DIR OpenCVDNN_dnn_LIBRARY OpenCVDNN_core_LIBRARY)
if(OpenCVDNN_FOUND AND NOT TARGET OpenCV::dnn)
  add_library(OpenCV::dnn INTERFACE IMPORTED)
  set_target_properties(OpenCV::dnn PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${OpenCVDNN_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${OpenCVDNN_dnn_LIBRARY};${OpenCVDNN_core_LIBRARY}")
endif()
