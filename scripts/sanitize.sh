#!/usr/bin/env bash
# Builds the C++ tests under a sanitizer and runs them:
#   bash scripts/sanitize.sh address   (AddressSanitizer + UBSan)
#   bash scripts/sanitize.sh thread    (ThreadSanitizer)
# Debian's CAF 0.17 is not instrumented: under TSan every message hand-off
# between actors shows as a race (CAF's lock-free mailboxes are invisible to
# it). `bash scripts/build_caf_tsan.sh` builds an instrumented CAF into
# .deps/caf-tsan once; the thread build links it when it is there (without
# it, read TSan's reports for our plain classes, not for objects passed
# through mailboxes).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-address}
case "$kind" in
  address) sanitizers=address,undefined ;;
  thread) sanitizers=thread ;;
  *) echo "usage: $0 address|thread" >&2; exit 2 ;;
esac
dir=build-$kind
caf=()
tsan_caf=$PWD/.deps/caf-tsan
if [[ $kind == thread && -f $tsan_caf/include/caf/config.hpp ]]; then
  echo "linking the instrumented CAF in $tsan_caf"
  caf=(-DCAF_INCLUDE_DIR="$tsan_caf/include"
       -DCAF_core_LIBRARY="$tsan_caf/lib/libcaf_core.so"
       -DCAF_io_LIBRARY="$tsan_caf/lib/libcaf_io.so")
fi
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DACTORRT_ENABLE_PYTHON=OFF \
  -DACTORRT_SANITIZERS="$sanitizers" "${caf[@]}"
cmake --build "$dir" -j "$(nproc)" --target core_test device_test actors_test scheduler_test engine_test engine_actor_test batching_test job_terms_test conformance_test nodes_test metrics_test dxrt_test
export TSAN_OPTIONS="halt_on_error=0 suppressions=$PWD/scripts/tsan.supp ${TSAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp ${LSAN_OPTIONS:-}"
ctest --test-dir "$dir" -j "$(nproc)" -R '_test\.' --output-on-failure
