#!/usr/bin/env bash
# linux-arm64's JNI library, cross-built on x86-64: the native core (native/CMakePresets.json
# "linux-arm64", cmake/toolchains/aarch64-linux-gnu.cmake) with Debian's g++-aarch64-linux-gnu
# against the OpenBLAS preset's linux-arm64 jar, then JavaCPP's Builder for its linux-arm64
# platform with the cross compiler, linking that core. Installs nothing: a missing cross compiler
# or BLAS is an error that says what to install. Rebuilds only what changed.
#
# Usage: scripts/arm64-build.sh [--tests] BUILDER_CLASSPATH | --native-only
#   BUILDER_CLASSPATH: JavaCPP's jar and the library's other compile dependencies (the release
#   profile passes the project's; scripts/arm64-check.sh asks Maven for it); the library's
#   classes must be in target/classes. The preset must be unpacked into
#   target/blas/org/bytedeco/openblas/linux-arm64. --tests: the core's tests too (for ctest);
#   --native-only: the core and its tests, no JNI library.
# Used by lib/pom.xml's release profile (the mec4j-<version>-linux-arm64.jar) and by
# scripts/arm64-check.sh. Output: target/native-linux-arm64 (the core), target/jni-linux-arm64 (a
# class-path root with org/mec4j/internal/linux-arm64/libjniMecNative.so).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
run() { { printf '+'; printf ' %q' "$@"; echo; } >&2; "$@"; }
target=(--target mec4j_core) builder_classpath=""
[[ ${1:-} == --tests ]] && { target=(); shift; }
case "$#:${1:-}" in
  1:--native-only) target=() ;;
  1:*) builder_classpath=$1 ;;
  *) sed -n '2,17p' "$0" >&2; exit 2 ;;
esac
triple=aarch64-linux-gnu

command -v $triple-g++ >/dev/null || {
  echo "arm64-build: no $triple-g++: the linux-arm64 jar is cross-built with Debian's cross compiler;" >&2
  echo "  install it: sudo apt-get install g++-$triple   (Debian package g++-$triple;" >&2
  echo "  scripts/arm64-check.sh also needs qemu-user-static to test it)" >&2
  exit 1
}
blas=$root/target/blas/org/bytedeco/openblas/linux-arm64
[[ -e $blas/libopenblas.so.0 && -d $blas/include ]] || {
  echo "arm64-build: no OpenBLAS linux-arm64 in $blas:" >&2
  echo "  mvn -B -q -pl lib dependency:unpack@unpack-openblas -Djavacpp.platform=linux-arm64" >&2
  exit 1
}
# 1. The core (and with --all its tests).
(cd native && run cmake --preset linux-arm64 >/dev/null &&
  run cmake --build --preset linux-arm64 --parallel 2 "${target[@]}" | { grep -E "error|warning" || true; })
[[ -s target/native-linux-arm64/libmec4j_core.a ]] || { echo "arm64-build: no libmec4j_core.a" >&2; exit 1; }
[[ -n $builder_classpath ]] || exit 0
[[ -d target/classes/org/mec4j/internal ]] || { echo "arm64-build: no target/classes: build the library first" >&2; exit 1; }

# 2. The JNI library, as lib/pom.xml's javacpp-build execution builds the host's (the pom's
#    execution cannot be reused: -Djavacpp.platform=linux-arm64 would also switch the project's
#    dependencies to classifiers that do not exist for arm64, MKL's).
jni=$root/target/jni-linux-arm64
out=$jni/org/mec4j/internal/linux-arm64
lib=$out/libjniMecNative.so
if [[ ! -e $lib || -n $(find target/classes/org/mec4j/internal target/native-linux-arm64/libmec4j_core.a \
  native/include src/main/cpp -newer "$lib" 2>/dev/null | head -1) ]]; then
  rm -rf "$jni"
  run java --add-opens java.base/java.lang=ALL-UNNAMED -classpath "$root/target/classes:$builder_classpath" \
    scripts/javacpp/DeterministicBuilder.java -classpath target/classes -d "$out" \
    -properties linux-arm64 -Dplatform.compiler=$triple-g++ \
    -Dplatform.includepath="$root/native/include:$root/src/main/cpp:$blas/include" \
    -Dplatform.linkpath="$root/target/native-linux-arm64:$root/target/native-linux-arm64/blas-link" \
    -Dplatform.linkpath.prefix2=-L \
    -Xcompiler -std=c++17 -Xcompiler -D_Float16=__fp16 \
    -Xcompiler "-ffile-prefix-map=$root=." -Xcompiler "-ffile-prefix-map=$root/target=target" \
    'org.mec4j.internal.*'
fi
readelf -h "$lib" | grep -q "Machine: *AArch64" || { echo "arm64-build: $lib is not an aarch64 library" >&2; exit 1; }
echo "arm64-build: $lib"
