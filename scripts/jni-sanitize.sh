#!/usr/bin/env bash
# The JUnit correctness and validation suites through the real JNI library built with gcc's
# AddressSanitizer + UndefinedBehaviorSanitizer: JavaCPP's generated code (array pinning, buffer
# addresses and positions), the adapter src/main/cpp/mec4j_jni.h and the core, all checked from Java.
# Usage: scripts/jni-sanitize.sh [Test,Test...], after a build (mvn -B -pl lib -DskipTests package:
# target/classes, target/test-classes, the OpenBLAS preset unpacked); builds the sanitizer core if need be.
# Fails on any test failure or sanitizer report; reports go to target/jni-sanitize/logs too.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD out=$root/target/jni-sanitize
tests=${1:-ValidationTest,ConvolutionCorrectnessTest,BackwardTest,PackedKernelTest,DifferentialFuzzTest,ReliabilityTest,WorkspaceSizeTest}
run() { { printf '+'; printf ' %q' "$@"; echo; } >&2; "$@"; }

# 1. The core under the sanitizers (native/CMakePresets.json "sanitize"; PIC, as the JNI library
#    links it). A no-op when CI's sanitizer stage has built it.
(cd native && run cmake --preset sanitize -DMEC4J_BLAS_ROOT="$root/target/blas/org/bytedeco/openblas/linux-x86_64" | tail -1 &&
  run cmake --build --preset sanitize --target mec4j_core --parallel | tail -1)

# 2. The JNI library: the pom's own JavaCPP execution, the jni-sanitize profile (lib/pom.xml) adding
#    -fsanitize, linking target/native-sanitize's core and writing to target/jni-sanitize.
rm -rf "$out"
run mvn -B -q -pl lib -P jni-sanitize exec:exec@javacpp-build
lib=$out/org/mec4j/internal/linux-x86_64/libjniMecNative.so
grep -q __asan_report <(nm -D "$lib") || { echo "$lib is not instrumented"; exit 1; }

# 3. The tests, target/jni-sanitize ahead of target/classes. java is not instrumented: the runtimes
#    are preloaded (ASan must come first). The JVM uses SIGSEGV itself (null checks, safepoints) and
#    its memory looks leaked to LeakSanitizer: ASan leaves both alone. Tests ask for absurd
#    workspaces on purpose (OutOfMemoryError expected): malloc returns null. Reports abort the JVM (the
#    library is built with -fno-sanitize-recover) and land in log files (UBSan's, under ASan, in
#    the JVM's stderr, which Maven prints): both are checked below.
mkdir -p "$out/logs"
export ASAN_OPTIONS="detect_leaks=0:handle_segv=0:allow_user_segv_handler=1:allocator_may_return_null=1:log_path=$out/logs/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
echo "+ ASAN_OPTIONS=$ASAN_OPTIONS UBSAN_OPTIONS=$UBSAN_OPTIONS"
status=0
# The leak check's cycles cut from 100000: it measures RSS, which ASan's quarantine inflates anyway.
run mvn -B -pl lib -P jni-sanitize surefire:test@default-test -Dtest="$tests" \
  -Djni.sanitize.preload="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)" \
  -Dmec4j.leak.cycles=5000 2>&1 | tee "$out/test.log" || status=$?
# The logs also hold warnings (e.g. "failed to allocate" for those absurd workspaces): not reports.
compgen -G "$out/logs/*" >/dev/null && cat "$out"/logs/*
if grep -qE "ERROR: (Address|UndefinedBehavior)Sanitizer|runtime error:" "$out"/logs/* "$out/test.log" 2>/dev/null; then
  echo "jni-sanitize: sanitizer report(s) above"; exit 1
fi
((status == 0)) || { echo "jni-sanitize: tests failed"; exit "$status"; }
echo "jni-sanitize: $tests passed through the instrumented JNI library, no sanitizer report"
