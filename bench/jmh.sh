#!/usr/bin/env bash
# JMH benchmarks of mec4j's core paths (bench/src/main/java/org/mec4j/bench/jmh):
#   bench/jmh.sh                        # everything: ConvBenchmark, LoweringBenchmark, JavaOverheadBenchmark
#   bench/jmh.sh JavaOverheadBenchmark  # Java API vs raw binding call, ~3.5 min
#   bench/jmh.sh ConvBenchmark -p layer=cv10 -jvmArgsAppend -Dmec4j.blas=mkl
#   bench/jmh.sh -h                     # JMH's own options
# Builds like compare.sh (same environment variables), then runs JMH's main.
set -euo pipefail
bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jar="$bench_dir/target/mec4j-bench.jar"
if [[ "${MEC4J_SKIP_BUILD:-0}" != 1 ]]; then
  read -r -a mvn_extra <<< "${MEC4J_MVN_ARGS:-}"
  mvn -B -q "${mvn_extra[@]}" -f "$bench_dir/../pom.xml" -DskipTests package -pl bench -am
fi
java_bin="java"
[[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]] && java_bin="$JAVA_HOME/bin/java"
exec "$java_bin" -cp "$jar" org.openjdk.jmh.Main "$@"
