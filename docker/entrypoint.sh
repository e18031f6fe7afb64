#!/usr/bin/env bash
# The mec4j image's entry point. See `docker run --rm mec4j help`.
set -euo pipefail
home=${MEC4J_HOME:-/opt/mec4j}
bench=$home/bench
tool=$bench/mec4j-bench.jar

usage() {
  cat <<USAGE
mec4j image: the mec4j library (MEC convolution for the JVM over OpenBLAS or Intel MKL),
built and tested reproducibly, plus the comparison tool.

  docker run --rm -v "\$PWD/out:/results" mec4j [compare] [ARGS...]
      the paper comparison (bench's compare.sh ARGS, without its build step); the report goes
      to /results/mec4j-results/<time>/report.md (mount a folder on /results)
  docker run --rm mec4j selfcheck    load the library under OpenBLAS and under MKL and check
                                     every algorithm against the reference convolution
  docker run --rm mec4j info         versions, the library jars' SHA-256, what is installed
  docker run --rm mec4j help         this text
  docker run --rm -it mec4j bash     a shell (anything else is run as a command)

Library jars: $home/lib (class path: $home/lib/*). Data: $home/data.
USAGE
  echo
  echo "The comparison's options (compare ARGS):"
  java -Djava.awt.headless=true -jar "$tool" --help || true
}

selfcheck() {
  local rc=0 blas vendor
  for blas in openblas mkl; do
    case $blas in openblas) vendor=OpenBLAS ;; mkl) vendor="Intel MKL" ;; esac
    echo "== selfcheck, MEC4J_BLAS=$blas"
    MEC4J_BLAS=$blas java -cp "$home/lib/*:$home/tools/selfcheck.jar" SelfCheck "$vendor" || rc=1
  done
  return $rc
}

info() {
  echo "mec4j image"
  echo "library jars (sha256):"
  sed 's|  target/|  |; s/^/  /' "$home/mec4j-jar.sha256"
  java -version 2>&1 | sed 's/^/java: /'
  echo "lib: $(ls "$home/lib" | tr '\n' ' ')"
  echo "comparison tool: $tool"
}

# JavaCPP unpacks its native libraries into ~/.javacpp/cache, with ~ taken from the password
# database: a --user id that has no entry there would get "?" (a folder in the working
# directory), so such a user gets a cache under the world-writable HOME instead.
if ! getent passwd "$(id -u)" >/dev/null 2>&1; then
  export JAVA_TOOL_OPTIONS="-Dorg.bytedeco.javacpp.cachedir=${HOME:-/tmp}/.javacpp/cache -Duser.home=${HOME:-/tmp} ${JAVA_TOOL_OPTIONS:-}"
fi

cmd=${1:-compare}
[[ $# -gt 0 ]] && shift
case $cmd in
  help|-h|--help) usage ;;
  selfcheck) selfcheck ;;
  info) info ;;
  compare) exec java -Djava.awt.headless=true -jar "$tool" "$@" ;;
  *) exec "$cmd" "$@" ;;
esac
