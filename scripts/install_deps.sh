#!/usr/bin/env bash
# Installs the Debian 12 packages ActorRT builds and tests with; skips what is
# already installed. Run as root.
set -euo pipefail

packages=(
  cmake g++ make clang-format
  libcaf-dev            # CAF 0.17: the actor framework
  libonnx-dev libprotobuf-dev protobuf-compiler  # loading and checking ONNX
  libopencv-dnn-dev     # the CPU executor
  catch2                # C++ tests (v2)
  pybind11-dev python3-dev python3-numpy python3-pytest  # the Python module
  python3-onnx          # generating the test and benchmark models
  libcli11-dev          # command-line parsing of tools and benchmarks
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
