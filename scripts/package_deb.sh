#!/usr/bin/env bash
# Builds build-deb/actorrt_VERSION_ARCH.deb: libactorrt, libdxrt, headers,
# CMake and pkg-config packages, the tools, dx_engine and ONNX Runtime's
# library, laid out for /usr. Its dependencies are found by dpkg-shlibdeps.
# Install it with: apt-get install ./build-deb/actorrt_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
command -v dpkg-shlibdeps > /dev/null || apt-get install -y -q dpkg-dev
cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX=/usr -DACTORRT_ENABLE_TESTING=OFF
cmake --build build-deb -j "$(nproc)"
(cd build-deb && cpack -G DEB)
ls -l build-deb/*.deb
