#!/usr/bin/env bash
# Interleaved A/B timing of the C API without the JVM (target/native/mec4j_bench): for each shape,
# ROUNDS rounds of A then B (each the median of REPS runs in one process), and the median of the
# per-round ratios B/A with their range; then the geometric mean over the shapes. A and B differ by
# their mec4j_bench binary and/or extra flags, e.g. a fused activation or the NCHW layout:
#
#   bench/native-ab.sh -b "--activation relu" mec cv1 cv2 mb32:cv7
#   bench/native-ab.sh -B /tmp/old/mec4j_bench mec cv1 ... (another build as A)
#   bench/native-ab.sh -a "--dirty-caches 128" -b "--dirty-caches 128" ... (caches left dirty, as
#   between the runner's interleaved algorithms)
#
# Shapes: cv1..cv12 (the paper's layers, data/cv-layers.csv; "mb32:cv7" at mini-batch 32) or
# benchdnn strings (mb1ih56iw56ic64oc64kh3kw3). Env: THREADS (1), REPS (5), ROUNDS (3), CLOCK (wall;
# cpu = the process's CPU time: at 1 thread it still compares builds while others load the host).
set -euo pipefail
cd "$(dirname "$0")/.."
bin_a=target/native/mec4j_bench bin_b=target/native/mec4j_bench flags_a="" flags_b=""
while getopts "A:B:a:b:" o; do
  case $o in
    A) bin_a=$OPTARG ;; B) bin_b=$OPTARG ;; a) flags_a=$OPTARG ;; b) flags_b=$OPTARG ;;
    *) echo "usage: $0 [-A BIN] [-B BIN] [-a FLAGS] [-b FLAGS] ALGORITHM SHAPE..." >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
(($# >= 2)) || { echo "usage: $0 [-A BIN] [-B BIN] [-a FLAGS] [-b FLAGS] ALGORITHM SHAPE..." >&2; exit 2; }
algo=$1; shift
threads=${THREADS:-1} reps=${REPS:-5} rounds=${ROUNDS:-3}
export LD_LIBRARY_PATH=$PWD/target/blas/org/bytedeco/openblas/linux-x86_64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# OpenBLAS's idle workers sleep at once (as in the runner): after the setup's BLAS calls they
# would otherwise spin through the timed runs on the cores mec4j's threads need.
export OPENBLAS_NUM_THREADS=$threads OPENBLAS_THREAD_TIMEOUT=4 MEC4J_BENCH_CLOCK=${CLOCK:-wall}
shape_of() {  # cvN or mbM:cvN -> a benchdnn string; anything else as given
  local mb=1 name=$1
  [[ $name == mb*:* ]] && { mb=${name%%:*}; mb=${mb#mb}; name=${name#*:}; }
  if [[ $name == cv* ]]; then
    awk -F, -v n="$name" -v mb="$mb" '$1 == n {printf "mb%sih%siw%sic%soc%skh%skw%ssh%ssw%sph%spw%s\n", mb, $2, $3, $4, $7, $5, $6, $8, $9, $10, $10}' data/cv-layers.csv
  else
    echo "$name"
  fi
}
median_ms() { "$@" | awk '/median/ {print $4}'; }
echo "A: $bin_a $flags_a | B: $bin_b $flags_b | $algo, $threads thread(s), $reps reps x $rounds rounds, ${CLOCK:-wall} clock"
ratios=()
for s in "$@"; do
  shape=$(shape_of "$s")
  [[ -n $shape ]] || { echo "unknown shape $s" >&2; exit 2; }
  a=() b=()
  for _ in $(seq "$rounds"); do
    # shellcheck disable=SC2086
    a+=("$(median_ms "$bin_a" "$shape" "$algo" --reps "$reps" --threads "$threads" $flags_a)")
    # shellcheck disable=SC2086
    b+=("$(median_ms "$bin_b" "$shape" "$algo" --reps "$reps" --threads "$threads" $flags_b)")
  done
  out=$(python3 -c "
import statistics
a = [float(x) for x in '${a[*]}'.split()]; b = [float(x) for x in '${b[*]}'.split()]
r = [y / x for x, y in zip(a, b)]
print('%-10s A %9.3f ms  B %9.3f ms  B/A %.3f (%.3f-%.3f) %r' % ('$s', statistics.median(a), statistics.median(b), statistics.median(r), min(r), max(r), statistics.median(r)))")
  echo "${out% *}"
  ratios+=("${out##* }")
done
python3 -c "
import math
r = [float(x) for x in '${ratios[*]}'.split()]
print('geometric mean B/A over %d shapes: %.3f (max %.3f)' % (len(r), math.exp(sum(map(math.log, r)) / len(r)), max(r)))"
