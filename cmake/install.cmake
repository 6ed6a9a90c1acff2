# What `cmake --install build --prefix P` lays out, and `cpack -G DEB`
# packages: DX-RT's layout (include/dxrt, lib/cmake/dxrt, libdxrt.so) beside
# ActorRT's own, relocatable (every path is relative to the prefix).
include(CMakePackageConfigHelpers)

install(TARGETS actorrt_shared EXPORT actorrtTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS dxrt EXPORT dxrtTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS run_model parse_model dxbenchmark dxrt-cli dxtop
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Headers: the public facade includes the core headers beside it.
install(FILES api/actorrt/inference_engine.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/actorrt)
install(FILES core/errors.hpp core/inference_option.hpp core/stats.hpp
              core/tensor.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/actorrt/core)
install(DIRECTORY api/dxrt/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/dxrt
  FILES_MATCHING PATTERN "*.h")

# ONNX Runtime's library beside ours, where the lanes look for it.
if(EXISTS ${PROJECT_SOURCE_DIR}/.deps/onnxruntime/libonnxruntime.so.1)
  install(FILES ${PROJECT_SOURCE_DIR}/.deps/onnxruntime/libonnxruntime.so.1
                ${PROJECT_SOURCE_DIR}/.deps/onnxruntime/LICENSE
    DESTINATION ${ACTORRT_ORT_INSTALL_DIR})
endif()

set(config_dir ${CMAKE_INSTALL_LIBDIR}/cmake)
foreach(pkg actorrt dxrt)
  install(EXPORT ${pkg}Targets NAMESPACE ${pkg}::
    DESTINATION ${config_dir}/${pkg})
  configure_package_config_file(cmake/${pkg}Config.cmake.in
    ${CMAKE_CURRENT_BINARY_DIR}/${pkg}Config.cmake
    INSTALL_DESTINATION ${config_dir}/${pkg})
  write_basic_package_version_file(
    ${CMAKE_CURRENT_BINARY_DIR}/${pkg}ConfigVersion.cmake
    COMPATIBILITY SameMajorVersion)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${pkg}Config.cmake
                ${CMAKE_CURRENT_BINARY_DIR}/${pkg}ConfigVersion.cmake
    DESTINATION ${config_dir}/${pkg})
  # pkg-config: the prefix is found from the .pc file's own folder.
  file(RELATIVE_PATH PC_PREFIX_FROM_PCFILEDIR
    /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
  configure_file(cmake/${pkg}.pc.in ${CMAKE_CURRENT_BINARY_DIR}/${pkg}.pc
    @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${pkg}.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()

# cpack -G DEB (scripts/package_deb.sh configures for /usr): a Debian
# package of the same, its dependencies found by
# dpkg-shlibdeps from what the binaries link.
set(CPACK_PACKAGE_NAME actorrt)
set(CPACK_PACKAGE_VENDOR ActorRT)
set(CPACK_PACKAGE_CONTACT "ActorRT developers <actorrt@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "Actor-model inference runtime with DX-RT's C++ and Python API")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
# The headers include CAF-free standard C++ only; a C++ user needs a
# compiler and CMake or pkg-config, nothing else of ours.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "cmake, pkg-config, g++")
# dx_engine needs them; C++ users do not.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3 (>= 3.11), python3-numpy")
include(CPack)
