#!/usr/bin/env bash
# The libFuzzer target over the C API (native/fuzz/mec4j_fuzz.cpp), built with clang, ASan + UBSan
# and fault injection, run from the repository's corpus: one process, or with --long (or
# FUZZ_JOBS=N) one worker per core through libFuzzer's -fork.
#
#   native/fuzz/run.sh [SECONDS]   fuzz for SECONDS (default 60: CI's run)
#   native/fuzz/run.sh --long      fuzz for an hour, one worker per core (libFuzzer's -fork)
#   native/fuzz/run.sh --merge     add the inputs the runs found (target/fuzz/corpus) that add
#                                  coverage to native/fuzz/corpus/found, minimised
#   native/fuzz/run.sh FILE...     replay inputs (a crash file, a seed), verbosely
#
# Fails on any crash, sanitizer report, mismatch, leak or timeout; the input is then written to
# target/fuzz/artifacts/ (see native/fuzz/README.md: a fixed finding becomes a regression seed).
# Environment: FUZZ_JOBS (workers; default 1, --long: the cores), CXX_FUZZ (a clang++, default:
# the newest found), MEC4J_BLAS_ROOT (default: the
# Maven build's OpenBLAS under target/blas if present, else a system OpenBLAS), FUZZ_FLAGS (more
# libFuzzer flags), FUZZ_NICE (default 19).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

if [[ -z "${CXX_FUZZ:-}" ]]; then
  for c in clang++ clang++-19 clang++-18 clang++-17 clang++-16 clang++-15 clang++-14; do
    command -v "$c" >/dev/null && { CXX_FUZZ=$c; break; }
  done
fi
[[ -n "${CXX_FUZZ:-}" ]] || { echo "run.sh: no clang++ found (Debian: apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 2; }
blas_root=${MEC4J_BLAS_ROOT:-}
[[ -z "$blas_root" && -d target/blas/org/bytedeco/openblas/linux-x86_64 ]] && blas_root=$root/target/blas/org/bytedeco/openblas/linux-x86_64
nice_level=${FUZZ_NICE:-19}

build=target/native-fuzz
echo "== building the fuzzer ($CXX_FUZZ, ASan + UBSan) in $build"
nice -n "$nice_level" cmake -S native -B "$build" -DCMAKE_CXX_COMPILER="$CXX_FUZZ" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMEC4J_FUZZ=ON -DMEC4J_SANITIZE=ON -DBUILD_TESTING=OFF ${blas_root:+-DMEC4J_BLAS_ROOT="$blas_root"} >/dev/null
nice -n "$nice_level" cmake --build "$build" --parallel 2 --target mec4j_fuzz >/dev/null
fuzzer=$build/fuzz/mec4j_fuzz

mkdir -p target/fuzz/corpus target/fuzz/artifacts
corpora=(native/fuzz/corpus/seeds native/fuzz/corpus/found native/fuzz/corpus/regressions)
# OPENBLAS_NUM_THREADS: the fuzzer sets the count per input (up to 3); ASan's leak checker at exit.
export OPENBLAS_NUM_THREADS=2 ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

if [[ "${1:-}" == --merge ]]; then
  # The seeds and regressions stay as they are; found/ becomes the fewest inputs that cover what
  # they do not (libFuzzer's set cover, clang 15 and later; a greedy -merge=1 before that).
  mode=-merge=1
  "$fuzzer" -help=1 2>&1 | grep -q set_cover_merge && mode=-set_cover_merge=1
  echo "== merging native/fuzz/corpus/found and target/fuzz/corpus ($mode) into native/fuzz/corpus/found"
  work=$(mktemp -d)
  cp native/fuzz/corpus/seeds/* native/fuzz/corpus/regressions/* "$work"/
  mkdir -p native/fuzz/corpus/found target/fuzz/corpus
  if ! nice -n "$nice_level" "$fuzzer" "$mode" -timeout=30 "$work" native/fuzz/corpus/found target/fuzz/corpus \
    >"$work.log" 2>&1; then
    tail -20 "$work.log" >&2
    echo "run.sh: the merge failed; native/fuzz/corpus/found is unchanged" >&2
    exit 1
  fi
  grep -E '^MERGE-OUTER' "$work.log" || true
  rm -f native/fuzz/corpus/found/* "$work.log"
  for f in "$work"/*; do
    name=$(basename "$f")
    [[ -e native/fuzz/corpus/seeds/$name || -e native/fuzz/corpus/regressions/$name ]] || cp "$f" native/fuzz/corpus/found/
  done
  rm -rf "$work"
  ls native/fuzz/corpus/found | wc -l | xargs echo "native/fuzz/corpus/found: files:"
  exit 0
fi

if [[ $# -gt 0 && -e "$1" ]]; then
  echo "== replaying $*"
  MEC4J_FUZZ_VERBOSE=1 "$fuzzer" -runs=1 "$@"
  exit
fi

seconds=60 jobs=${FUZZ_JOBS:-1}
[[ "${1:-}" == --long ]] && seconds=3600 jobs=${FUZZ_JOBS:-$(nproc)}
[[ "${1:-}" =~ ^[0-9]+$ ]] && seconds=$1
workers=()
((jobs > 1)) && workers=(-fork="$jobs")
echo "== fuzzing for $seconds s ($jobs worker(s); new inputs: target/fuzz/corpus, findings: target/fuzz/artifacts)"
existing=()
for d in "${corpora[@]}"; do [[ -d $d ]] && existing+=("$d"); done
set +e
# shellcheck disable=SC2086
nice -n "$nice_level" "$fuzzer" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 "${workers[@]}" \
  -print_final_stats=1 -artifact_prefix=target/fuzz/artifacts/ ${FUZZ_FLAGS:-} \
  target/fuzz/corpus "${existing[@]}" 2>&1 | tee target/fuzz/last-run.log | grep -vE '^#[0-9]+.*(NEW|REDUCE|pulse)|^#[0-9]+: cov'
status=${PIPESTATUS[0]}
set -e
if [[ $status -ne 0 ]]; then
  echo "== FUZZING FAILED (exit $status): input in target/fuzz/artifacts/, log in target/fuzz/last-run.log"
  ls -l target/fuzz/artifacts/ >&2 || true
  exit 1
fi
# One process prints its total at exit; -fork's parent a running total per line ("#N: cov: ...").
executions=$(grep -E 'stat::number_of_executed_units' target/fuzz/last-run.log | awk '{print $2}' | tail -1 || true)
[[ -n $executions ]] || executions=$(grep -oE '^#[0-9]+: cov' target/fuzz/last-run.log | tail -1 | tr -dc 0-9 || true)
echo "== fuzzing passed: $executions executions in $seconds s, no finding"
