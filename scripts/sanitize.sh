#!/usr/bin/env bash
# Builds the C++ tests under a sanitizer and runs them:
#   bash scripts/sanitize.sh address   (AddressSanitizer + UBSan)
#   bash scripts/sanitize.sh thread    (ThreadSanitizer)
# Debian's CAF 0.17 is not instrumented: under TSan every message hand-off
# between actors shows as a race (CAF's lock-free mailboxes are invisible to
# it), so read TSan's reports for our plain classes (limiter, job table,
# delivery), not for objects passed through mailboxes.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-address}
case "$kind" in
  address) sanitizers=address,undefined ;;
  thread) sanitizers=thread ;;
  *) echo "usage: $0 address|thread" >&2; exit 2 ;;
esac
dir=build-$kind
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DACTORRT_ENABLE_PYTHON=OFF \
  -DACTORRT_SANITIZERS="$sanitizers"
cmake --build "$dir" -j "$(nproc)" --target core_test device_test actors_test scheduler_test engine_test engine_actor_test batching_test job_terms_test conformance_test nodes_test metrics_test dxrt_test
export TSAN_OPTIONS="halt_on_error=0 ${TSAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp ${LSAN_OPTIONS:-}"
ctest --test-dir "$dir" -j "$(nproc)" -R '_test\.' --output-on-failure
