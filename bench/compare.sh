#!/usr/bin/env bash
# The paper comparison: MEC vs im2col vs oneDNN on the MEC paper's 12 layers, under OpenBLAS and
# MKL, written to mec4j-results/<timestamp>/ (results.csv, report.md, PNG charts).
#
#   bench/compare.sh                       # the default run (see bench/README.md for its scale)
#   bench/compare.sh --layers cv1,cv5 --batches 1 --backends openblas --threads 1 --reps 5 --out DIR
#   bench/compare.sh --help
#
#   bench/compare.sh --network resnet_50 --batches 1   # a whole network (benchdnn list, see bench/README.md)
#
# Works from a fresh clone: builds the library and the runner in one Maven call at the top level
# (the library's native build is incremental), then runs bench/target/mec4j-bench.jar, whose
# dependencies are in bench/target/lib.
#   MEC4J_SKIP_BUILD=1     run the runner as last built (the sources may be mid-edit)
#   MEC4J_MVN_ARGS="-o"    extra Maven arguments, e.g. offline
set -euo pipefail

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jar="$bench_dir/target/mec4j-bench.jar"
if [[ "${MEC4J_SKIP_BUILD:-0}" == 1 ]]; then
  [[ -f "$jar" ]] || { echo "compare.sh: MEC4J_SKIP_BUILD=1 but $jar is missing" >&2; exit 1; }
else
  echo "compare.sh: building the library and bench/ ..." >&2
  read -r -a mvn_extra <<< "${MEC4J_MVN_ARGS:-}"
  mvn -B -q "${mvn_extra[@]}" -f "$bench_dir/../pom.xml" -DskipTests package -pl bench -am
fi

# Child JVMs use the same java and class path.
java_bin="java"
[[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]] && java_bin="$JAVA_HOME/bin/java"
exec "$java_bin" -Djava.awt.headless=true -jar "$jar" "$@"
