#!/usr/bin/env bash
# The Docker part of CI: builds the image (which builds and tests the library), then runs the
# image's self-check and a tiny paper comparison inside it.
#
# Installs docker.io if there is no dockerd (Debian), starts dockerd if none is running and stops
# it again at the end. Needs root (or sudo) for those two steps only.
# Environment: MEC4J_IMAGE (default mec4j:ci).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
image=${MEC4J_IMAGE:-mec4j:ci}
sudo_cmd=""; [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
t0=$SECONDS
log=$(mktemp -d /tmp/mec4j-docker-ci.XXXXXX)

if ! command -v dockerd >/dev/null 2>&1; then
  echo "== installing docker.io"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi

dockerd_pid=""
stop_dockerd() {
  if [[ -n $dockerd_pid ]]; then
    echo "== stopping the dockerd this script started (pid $dockerd_pid)"
    $sudo_cmd kill -TERM "$dockerd_pid" 2>/dev/null || true
    for _ in $(seq 30); do $sudo_cmd kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 1; done
  fi
}
trap stop_dockerd EXIT
if ! docker info >/dev/null 2>&1; then
  echo "== starting dockerd (log: $log/dockerd.log)"
  $sudo_cmd dockerd >"$log/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -20 "$log/dockerd.log"; echo "dockerd did not start" >&2; exit 1; }
fi

echo "== building $image (base image, then docker build; log: $log/build.log)"
t=$SECONDS
if ! CI=${CI:-true} docker/build-image.sh -t "$image" \
  --build-arg VERIFY_FLAGS=-Dmec4j.test.defaultRunOnly=true >"$log/build.log" 2>&1; then
  tail -80 "$log/build.log"
  echo "image build failed" >&2
  exit 1
fi
# What the build stage ran: ctest, and JUnit (the library's under each BLAS and ISA cap, bench's).
awk '/mvn \$MVN_FLAGS -o verify/ {on = 1} on' "$log/build.log" |
  grep -E 'tests passed|Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+$|[0-9a-f]{64}  target/' || true
echo "   built in $((SECONDS - t)) s; $(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')"

echo "== self-check inside the image"
docker run --rm "$image" selfcheck 2>&1 | grep -v '^INFO: \|org.mec4j.Blas load$'

echo "== tiny paper comparison inside the image"
out=$log/results
mkdir -p "$out"
docker run --rm --user "$(id -u):$(id -g)" -v "$out:/results" "$image" compare --layers cv5 --batches 1 --threads 1 \
  --reps 1 --max-reps 1 --min-time-ms 1 --warmup-ms 1 --sgemm-size 256 --no-sweep --no-progress
report=$(find "$out" -name report.md | head -n 1)
[[ -s $report ]] || { echo "no report.md from the comparison" >&2; exit 1; }
echo "   report: $report ($(wc -l <"$report") lines)"

rm -rf "$log"
echo "== docker CI passed in $((SECONDS - t0)) s"
