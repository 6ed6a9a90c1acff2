# Debian's libcaf-dev (CAF 0.17) ships neither a CMake config nor a .pc file.
# Defines CAF::core and CAF::io (the components asked for),
# and CAF_VERSION parsed from caf/config.hpp.
find_path(CAF_INCLUDE_DIR NAMES caf/config.hpp)
if(CAF_INCLUDE_DIR)
  file(STRINGS "${CAF_INCLUDE_DIR}/caf/config.hpp" _caf_v
       REGEX "^#define CAF_VERSION [0-9]+")
  string(REGEX REPLACE ".*CAF_VERSION ([0-9]+).*" "\\1" _caf_n "${_caf_v}")
  math(EXPR _caf_major "${_caf_n} / 10000")
  math(EXPR _caf_minor "(${_caf_n} / 100) % 100")
  math(EXPR _caf_patch "${_caf_n} % 100")
  set(CAF_VERSION "${_caf_major}.${_caf_minor}.${_caf_patch}")
endif()

find_package(Threads REQUIRED)
foreach(comp IN LISTS CAF_FIND_COMPONENTS)
  find_library(CAF_${comp}_LIBRARY NAMES caf_${comp})
  if(CAF_${comp}_LIBRARY AND NOT TARGET CAF::${comp})
    set(CAF_${comp}_FOUND TRUE)
    add_library(CAF::${comp} UNKNOWN IMPORTED)
    set_target_properties(CAF::${comp} PROPERTIES
      IMPORTED_LOCATION "${CAF_${comp}_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}")
    if(comp STREQUAL "core")
      set_property(TARGET CAF::core APPEND PROPERTY
                   INTERFACE_LINK_LIBRARIES Threads::Threads)
    else()
      set_property(TARGET CAF::${comp} APPEND PROPERTY
                   INTERFACE_LINK_LIBRARIES CAF::core)
    endif()
  endif()
endforeach()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CAF
  REQUIRED_VARS CAF_INCLUDE_DIR
  VERSION_VAR CAF_VERSION
  HANDLE_COMPONENTS)
