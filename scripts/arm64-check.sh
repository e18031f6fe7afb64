#!/usr/bin/env bash
# linux-arm64, built and tested on an x86-64 machine: the native core, its ctest suite and the JNI
# library cross-built with Debian's g++-aarch64-linux-gnu against the OpenBLAS preset's linux-arm64
# jar, then run under qemu-user: ctest at every ISA level aarch64 has (best = neon, neon, portable;
# native/CMakeLists.txt), and a named subset of the JUnit suite through Debian's arm64 JDK.
#
# Usage: [MEC4J_ARM64_JUNIT_TESTS=Test,Test...] scripts/arm64-check.sh [--native-only]
#   after a build of the library (mvn -B -pl lib -DskipTests package, or CI's mvn -B verify: the
#   Java classes and test classes; built here if missing). Idempotent: installs from Debian what is
#   missing (the cross compiler, qemu-user-static; the arm64 JDK is unpacked into target/, not
#   installed), fetches the preset jars through Maven, rebuilds only what changed.
# Output: target/native-linux-arm64 (core, ctest), target/jni-linux-arm64 (a class-path root with
# org/mec4j/internal/linux-arm64/libjniMecNative.so), target/arm64/junit-reports.
#
# Emulation is ~10-40x slower than the host: the random-shape tests run a subset under qemu
# (native/CMakeLists.txt, MEC4J_EMULATED_TESTS), the JUnit run the classes in $junit_tests.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
native_only=0
[[ ${1:-} == --native-only ]] && native_only=1
run() { { printf '+'; printf ' %q' "$@"; echo; } >&2; "$@"; }
t0=$SECONDS
took() { echo "   ($1: $((SECONDS - t0)) s)"; t0=$SECONDS; }

triple=aarch64-linux-gnu
sysroot=/usr/$triple
# JUnit classes run through the arm64 JVM: the forward correctness suite against the reference
# (random and hand-picked layers), packed kernels, every ISA cap, the BLAS loaded, the argument
# checks and the workspace sizes. BackwardTest and DifferentialFuzzTest are left out for CI's time
# (together over 4 min of CPU under qemu): name them in MEC4J_ARM64_JUNIT_TESTS to run them.
junit_tests=${MEC4J_ARM64_JUNIT_TESTS:-CpuTest,HeaderCodesTest,ValidationTest,WorkspaceSizeTest,ConvolutionCorrectnessTest,PackedKernelTest,BlasBackendTest}

# 1. Debian's packages: the cross compiler and qemu-user (and, for the JVM, Debian's arm64 JDK).
sudo_cmd=""
[[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
need=()
command -v $triple-g++ >/dev/null || need+=(g++-$triple)
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
command -v file >/dev/null || need+=(file)
if ((${#need[@]})); then
  echo "== installing: ${need[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
qemu=(qemu-aarch64-static -L "$sysroot")

# 2. The OpenBLAS preset's linux-arm64 jar (cblas.h, libopenblas.so.0 and its libgfortran), unpacked
#    by lib/pom.xml's own execution into target/blas/org/bytedeco/openblas/linux-arm64.
blas=$root/target/blas/org/bytedeco/openblas/linux-arm64
if [[ ! -e $blas/libopenblas.so.0 ]]; then
  run mvn -B -q -pl lib dependency:unpack@unpack-openblas -Djavacpp.platform=linux-arm64
fi
took "OpenBLAS linux-arm64"

# 3. The native core, its tests and the JNI library (scripts/arm64-build.sh, which the release
#    profile runs too: a no-op here when that build is current): the preset "linux-arm64", whose
#    toolchain cmake/toolchains/aarch64-linux-gnu.cmake runs every test through qemu-user, and
#    JavaCPP's linux-arm64 platform with the cross compiler.
if ((native_only)); then
  run scripts/arm64-build.sh --native-only
else
  [[ -d target/classes/org/mec4j/internal && -d target/test-classes/org/mec4j ]] ||
    run mvn -B -q -pl lib -DskipTests test-compile
  mkdir -p target/arm64
  if [[ ! -s target/arm64/builder.classpath || lib/pom.xml -nt target/arm64/builder.classpath ]]; then
    run mvn -B -q -pl lib dependency:build-classpath -Dmdep.outputFile="$root/target/arm64/builder.classpath"
  fi
  run scripts/arm64-build.sh --tests "$(cat target/arm64/builder.classpath)"
fi
file target/native-linux-arm64/mec4j_tests | grep -q "ARM aarch64" || { echo "mec4j_tests is not an aarch64 program"; exit 1; }
jni=$root/target/jni-linux-arm64
took "cross-build (core, tests, JNI library)"
(cd native && run ctest --preset linux-arm64 --parallel 2 --no-tests=error)
ctest_list=$(ctest --test-dir target/native-linux-arm64 -N)
for isa in best neon portable; do
  grep -q "mec4j_tests_$isa\$" <<<"$ctest_list" || { echo "no ctest run at $isa"; exit 1; }
done
took "ctest under qemu-aarch64"
((native_only)) && exit 0

# As users get it: a jar with only the platform's library (JavaCPP's classifier-jar layout).
version_of() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" pom.xml | head -1; }  # the top-level pom's properties
platform_jar=$root/target/arm64/mec4j-$(version_of revision)-linux-arm64.jar
rm -f "$platform_jar"
run jar --create --file "$platform_jar" -C "$jni" org

# 5. Debian's arm64 JDK, unpacked into target/arm64/jdk (not installed: it would pull the arm64
#    builds of its desktop dependencies), and the jars the JVM needs: the linux-arm64 classifiers
#    of JavaCPP and the OpenBLAS preset, and JUnit's console launcher.
jdk_root=$root/target/arm64/jdk
java_home=$jdk_root/usr/lib/jvm/java-17-openjdk-arm64
if [[ ! -x $java_home/bin/java ]]; then
  if ! apt-cache show openjdk-17-jre-headless:arm64 >/dev/null 2>&1; then
    $sudo_cmd dpkg --add-architecture arm64
    $sudo_cmd apt-get update -qq
  fi
  rm -rf target/arm64/debs "$jdk_root"
  mkdir -p target/arm64/debs
  (cd target/arm64/debs && chmod 777 . && run apt-get download -q openjdk-17-jre-headless:arm64 zlib1g:arm64)
  for deb in target/arm64/debs/*.deb; do run dpkg -x "$deb" "$jdk_root"; done
  # The JDK's conf/ links into /etc/java-17-openjdk: point the links at the unpacked copy.
  find "$jdk_root" -type l -lname '/etc/*' | while read -r link; do
    ln -sfn "$jdk_root$(readlink "$link")" "$link"
  done
fi
javacpp_version=$(version_of javacpp.version)
openblas_version=$(version_of openblas.version)
junit_version=$(version_of junit.version)
platform_version=1${junit_version#5}  # JUnit Jupiter 5.x.y ships with the platform 1.x.y
jars=()
for artifact in org.bytedeco:javacpp:$javacpp_version org.bytedeco:javacpp:$javacpp_version:jar:linux-arm64 \
  org.bytedeco:openblas:$openblas_version org.bytedeco:openblas:$openblas_version:jar:linux-arm64 \
  org.junit.platform:junit-platform-console-standalone:$platform_version; do
  IFS=: read -r group id version _ classifier <<<"$artifact"
  jar=target/arm64/jars/$id-$version${classifier:+-$classifier}.jar
  [[ -s $jar ]] || run mvn -B -q -N dependency:copy -Dartifact="$artifact" -DoutputDirectory="$root/target/arm64/jars"
  jars+=("$root/$jar")
done
took "arm64 JDK and jars"

# 6. The JUnit subset through the arm64 JVM under qemu: the library's classes with the linux-arm64
#    jar (target/classes holds the x86-64 library, under another platform folder), OpenBLAS.
#    JavaCPP unpacks the jars' libraries into a cache of this run's own, so none is stale.
export LD_LIBRARY_PATH=$jdk_root/lib/$triple  # the JDK's zlib (the cross libc has none)
"${qemu[@]}" "$java_home/bin/java" -version 2>&1 | head -1
classpath="$platform_jar:$root/target/test-classes:$root/target/classes:$(IFS=:; echo "${jars[*]:0:4}")"
rm -rf target/arm64/javacpp-cache
selectors=()
IFS=, read -ra names <<<"$junit_tests"
for name in "${names[@]}"; do selectors+=(--select-class "org.mec4j.$name"); done
rm -rf target/arm64/junit-reports
status=0
run "${qemu[@]}" "$java_home/bin/java" \
  -Dorg.bytedeco.javacpp.cachedir="$root/target/arm64/javacpp-cache" \
  -Dmec4j.blas=openblas -Dmec4j.test.expectedBlas=OpenBLAS -Dmec4j.test.seed=20170706 \
  -jar "${jars[4]}" execute --class-path "$classpath" "${selectors[@]}" \
  --reports-dir target/arm64/junit-reports --details=summary --disable-banner || status=$?
took "JUnit ($junit_tests) under qemu-aarch64"
((status == 0)) || { echo "arm64-check: JUnit failed"; exit "$status"; }
echo "arm64-check: linux-arm64 ctest (every ISA level) and JUnit ($junit_tests) passed under qemu-aarch64"
