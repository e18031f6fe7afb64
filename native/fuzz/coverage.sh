#!/usr/bin/env bash
# Line and function coverage of native/src by the fuzzer's corpus: builds the fuzzer with clang's
# source-based coverage (-fprofile-instr-generate -fcoverage-mapping, no sanitizers) in
# target/native-fuzz-coverage, runs every input of native/fuzz/corpus/* (and of target/fuzz/corpus,
# what run.sh found, if present) once, and prints llvm-cov's report per file, then the functions
# of native/src that no input reached. HTML: target/fuzz/coverage/html/index.html.
#   native/fuzz/coverage.sh [CORPUS_DIR...]     (default: the corpora above)
# Environment: as run.sh (CXX_FUZZ, MEC4J_BLAS_ROOT, FUZZ_NICE); LLVM_COV / LLVM_PROFDATA (default:
# the ones of CXX_FUZZ's version).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

if [[ -z "${CXX_FUZZ:-}" ]]; then
  for c in clang++ clang++-19 clang++-18 clang++-17 clang++-16 clang++-15 clang++-14; do
    command -v "$c" >/dev/null && { CXX_FUZZ=$c; break; }
  done
fi
[[ -n "${CXX_FUZZ:-}" ]] || { echo "coverage.sh: no clang++ found" >&2; exit 2; }
version=$("$CXX_FUZZ" -dumpversion | cut -d. -f1)
pick() { command -v "$1-$version" || command -v "$1" || { echo "coverage.sh: no $1" >&2; exit 2; }; }
llvm_cov=${LLVM_COV:-$(pick llvm-cov)}
llvm_profdata=${LLVM_PROFDATA:-$(pick llvm-profdata)}
blas_root=${MEC4J_BLAS_ROOT:-}
[[ -z "$blas_root" && -d target/blas/org/bytedeco/openblas/linux-x86_64 ]] && blas_root=$root/target/blas/org/bytedeco/openblas/linux-x86_64
nice_level=${FUZZ_NICE:-19}

build=target/native-fuzz-coverage
echo "== building the fuzzer with coverage ($CXX_FUZZ) in $build"
nice -n "$nice_level" cmake -S native -B "$build" -DCMAKE_CXX_COMPILER="$CXX_FUZZ" -DCMAKE_BUILD_TYPE=Debug \
  -DMEC4J_FUZZ=ON -DMEC4J_FUZZ_COVERAGE=ON -DMEC4J_SANITIZE=OFF -DBUILD_TESTING=OFF \
  ${blas_root:+-DMEC4J_BLAS_ROOT="$blas_root"} >/dev/null
nice -n "$nice_level" cmake --build "$build" --parallel 2 --target mec4j_fuzz >/dev/null
fuzzer=$build/fuzz/mec4j_fuzz

out=target/fuzz/coverage
rm -rf "$out" && mkdir -p "$out"
corpora=("$@")
if [[ ${#corpora[@]} -eq 0 ]]; then
  for d in native/fuzz/corpus/seeds native/fuzz/corpus/found native/fuzz/corpus/regressions target/fuzz/corpus; do
    [[ -d $d ]] && corpora+=("$d")
  done
fi
echo "== running $(cat <(for d in "${corpora[@]}"; do ls "$d"; done) | wc -l) inputs of ${corpora[*]}"
OPENBLAS_NUM_THREADS=2 LLVM_PROFILE_FILE="$out/fuzz-%p.profraw" nice -n "$nice_level" "$fuzzer" -runs=0 -timeout=60 \
  "${corpora[@]}" > "$out/run.log" 2>&1 || { tail -20 "$out/run.log"; echo "coverage.sh: an input failed" >&2; exit 1; }
"$llvm_profdata" merge -sparse "$out"/*.profraw -o "$out/fuzz.profdata"

# The objects name their sources native/... relative to the build folder (-ffile-prefix-map):
# -compilation-dir makes them the repository's files. The test-only fault injection is left out.
sources=()
for f in native/src/*.cpp native/src/*.h native/src/ukernels/*.cpp native/src/ukernels/*.h; do
  [[ $f == *fault_injection* ]] || sources+=("$f")
done
cov=(-instr-profile="$out/fuzz.profdata" -compilation-dir="$root")
echo "== coverage of native/src"
"$llvm_cov" report "$fuzzer" "${cov[@]}" "${sources[@]}" | tee "$out/report.txt"
"$llvm_cov" show "$fuzzer" "${cov[@]}" -format=html -output-dir="$out/html" -show-line-counts-or-regions \
  -Xdemangler=c++filt "${sources[@]}" >/dev/null
# Functions (template instances: each micro-kernel, each depthwise path) that no input reached.
"$llvm_cov" report "$fuzzer" "${cov[@]}" -show-functions "${sources[@]}" |
  awk '/^File /{file=$2; sub(/.*native\//, "native/", file); sub(/.:$/, "", file)}
       NF == 10 && $5 ~ /^[0-9]+$/ && $5 > 0 && $5 == $6 {print file "\t" $1}' |
  while IFS=$'\t' read -r file name; do printf '%s\t%s\n' "$file" "$(c++filt "$name")"; done > "$out/unreached.txt"
echo "== $(wc -l < "$out/unreached.txt") functions of native/src never reached (AVX-512 ones need an AVX-512 CPU):"
cut -c1-160 "$out/unreached.txt"
echo "== report: $out/report.txt, unreached functions: $out/unreached.txt, HTML: $out/html/index.html"
