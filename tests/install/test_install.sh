#!/usr/bin/env bash
# Installs the build into a prefix, moves the prefix (the package must be
# relocatable), then builds and runs a DX-RT user's project
# (find_package(dxrt)), an ActorRT user's (find_package(actorrt)) and a
# pkg-config build against it. Usage: test_install.sh BUILD_DIR MODEL
set -euo pipefail
build=$1 model=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/first" > /dev/null
mv "$work/first" "$work/prefix"
prefix=$work/prefix

for app in dxrt_app actorrt_app; do
  cmake -S "$here/$app" -B "$work/$app" -DCMAKE_PREFIX_PATH="$prefix" \
    > "$work/$app.log" || { cat "$work/$app.log"; exit 1; }
  cmake --build "$work/$app" > "$work/$app.build.log" \
    || { cat "$work/$app.build.log"; exit 1; }
  "$work/$app/$app" "$model"
done

# pkg-config, as a Makefile user would.
pc=$(find "$prefix" -name dxrt.pc -printf '%h')
flags=$(PKG_CONFIG_PATH=$pc pkg-config --cflags --libs dxrt)
g++ -std=c++17 "$here/dxrt_app/main.cpp" -o "$work/pc_app" $flags \
  -Wl,-rpath,"$(PKG_CONFIG_PATH=$pc pkg-config --variable=libdir dxrt)"
"$work/pc_app" "$model"

# The installed tools find ONNX Runtime inside the prefix, as the build
# tree's find it in .deps (when the build has it, and the run does not
# point elsewhere with ACTORRT_ORT_LIBRARY).
if [[ -z "${ACTORRT_ORT_LIBRARY:-}" \
      && -f "$(dirname "$0")/../../.deps/onnxruntime/libonnxruntime.so.1" ]]; then
  "$prefix/bin/dxrt-cli" -i | grep "ONNX Runtime: .*($prefix/"
fi
echo "install test: passed"
