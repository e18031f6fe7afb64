#!/bin/bash
# Whole-model thread CPU time of ONNX Runtime (1 thread) and the executor, same JVM, interleaved;
# with --old REV also the executor of that git revision (its onnx/src/main/java compiled into a
# temporary folder), so that one run gives before/after ratios free of the host's load.
#   nice mvn -B -o package -DskipTests -pl onnx -am     # this checkout's classes and class path
#   scripts/executor-ab/executor-ab.sh --old f9a2b16 --seconds 15 \
#     ~/.cache/mec4j/onnx/face_detection_front_128x128_barracuda.onnx:input:0:1x128x128x3 \
#     /tmp/models/ch_ppocr_mobile_v2.0_cls_infer.onnx:x:1x3x48x192
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
old="" seconds=15
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --old) old=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
ort=$(ls ~/.m2/repository/com/microsoft/onnxruntime/onnxruntime/*/onnxruntime-*.jar | sort -V | tail -1)
cp="$(cat "$root/onnx/target/classpath.txt"):$root/onnx/target/classes:$ort"
oldFlag=()
if [[ -n $old ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  git -C "$root" archive "$old" onnx/src/main/java | tar -x -C "$tmp"
  javac -nowarn -d "$tmp/classes" -cp "$cp" $(find "$tmp/onnx" -name '*.java' -not -path '*/examples/*')
  rm -rf "$tmp/classes/org/mec4j/onnx/proto" # the protobuf messages are this checkout's
  oldFlag=("-Dold=$tmp/classes")
fi
nice -n 10 java -Xmx2g -Dmec4j.threads=1 -Dseconds="$seconds" "${oldFlag[@]}" -cp "$cp" \
  "$root/scripts/executor-ab/ExecutorAb.java" "$@" 2>&1 | grep -E 'rounds|max rel diff|rror|Exception'
