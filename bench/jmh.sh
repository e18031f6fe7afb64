#!/usr/bin/env bash
# JMH benchmarks of mec4j's core paths (bench/src/main/java/org/mec4j/bench/jmh):
#   bench/jmh.sh                        # everything: ConvBenchmark, LoweringBenchmark, JavaOverheadBenchmark
#   bench/jmh.sh JavaOverheadBenchmark  # Java API vs raw binding call (issue target 5), ~3.5 min
#   bench/jmh.sh ConvBenchmark -p layer=cv10 -jvmArgsAppend -Dmec4j.blas=mkl
#   bench/jmh.sh -h                     # JMH's own options
# Builds like compare.sh (library installed if needed, then bench/), then runs JMH's main.
set -euo pipefail
bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root_dir="$(dirname "$bench_dir")"
repo="${MAVEN_REPO_LOCAL:-$HOME/.m2/repository}"
installed="$repo/org/mec4j/mec4j/0.1.0-SNAPSHOT/mec4j-0.1.0-SNAPSHOT.jar"
if [[ ! -f "$installed" || -n "$(find "$root_dir/pom.xml" "$root_dir/src/main" "$root_dir/native" -newer "$installed" -type f -print -quit 2>/dev/null)" ]]; then
  (cd "$root_dir" && mvn -B -q -DskipTests install)
fi
(cd "$bench_dir" && mvn -B -q -DskipTests package)
java_bin="java"
[[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]] && java_bin="$JAVA_HOME/bin/java"
exec "$java_bin" -cp "$bench_dir/target/mec4j-bench.jar" org.openjdk.jmh.Main "$@"
