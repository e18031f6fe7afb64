#!/usr/bin/env bash
# The paper comparison (issue 3): MEC vs im2col vs oneDNN on the MEC paper's 12 layers, under
# OpenBLAS and MKL, written to mec4j-results/<timestamp>/ (results.csv, report.md, PNG charts).
#
#   bench/compare.sh                       # the default run (see bench/README.md for its scale)
#   bench/compare.sh --layers cv1,cv5 --batches 1 --backends openblas --threads 1 --reps 5 --out DIR
#   bench/compare.sh --help
#
#   bench/compare.sh --network resnet_50 --batches 1   # a whole network (benchdnn list, see bench/README.md)
#
# Works from a fresh clone: installs the library into the local Maven repository when it is
# missing or older than its sources, builds bench/ (dependencies in bench/target/lib), then runs.
#   MEC4J_SKIP_INSTALL=1   use the installed library as it is (its sources may be mid-edit)
#   MEC4J_MVN_ARGS="-o"    extra Maven arguments, e.g. offline
set -euo pipefail

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root_dir="$(dirname "$bench_dir")"
read -r -a mvn_extra <<< "${MEC4J_MVN_ARGS:-}"
mvn_cmd=(mvn -B -q "${mvn_extra[@]}")

repo="${MAVEN_REPO_LOCAL:-$HOME/.m2/repository}"
installed="$repo/org/mec4j/mec4j/0.1.0-SNAPSHOT/mec4j-0.1.0-SNAPSHOT.jar"

# 1. The library: install it unless the installed jar is newer than every source of it.
need_install=no
if [[ "${MEC4J_SKIP_INSTALL:-0}" == 1 ]]; then
  [[ -f "$installed" ]] || { echo "compare.sh: MEC4J_SKIP_INSTALL=1 but $installed is missing" >&2; exit 1; }
elif [[ ! -f "$installed" ]]; then
  need_install=yes
elif [[ -n "$(find "$root_dir/pom.xml" "$root_dir/src/main" "$root_dir/native" -newer "$installed" \
                   -type f -print -quit 2>/dev/null)" ]]; then
  need_install=yes
fi
if [[ "$need_install" == yes ]]; then
  echo "compare.sh: installing the mec4j library (mvn -B -q -DskipTests install) ..." >&2
  (cd "$root_dir" && "${mvn_cmd[@]}" -DskipTests install)
fi

# 2. The runner: bench/target/mec4j-bench.jar with its dependencies in bench/target/lib.
echo "compare.sh: building bench/ ..." >&2
(cd "$bench_dir" && "${mvn_cmd[@]}" -DskipTests package)

# 3. Run it (child JVMs use the same java and class path).
java_bin="java"
[[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]] && java_bin="$JAVA_HOME/bin/java"
exec "$java_bin" -Djava.awt.headless=true -jar "$bench_dir/target/mec4j-bench.jar" "$@"
