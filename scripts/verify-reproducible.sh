#!/usr/bin/env bash
# Checks that every jar the build makes is reproducible: built twice from scratch, each has the
# same SHA-256. On a mismatch it names the jar entries that differ (and, for a native library, how).
#
#   scripts/verify-reproducible.sh                 two clean builds on this machine, in two
#                                                  fresh copies of the tree at different paths,
#                                                  of the whole reactor with the release profile:
#                                                  mec4j's jars (classes, linux-x86_64, linux-arm64
#                                                  (cross-built), sources, javadoc), mec4j-onnx's
#                                                  (classes, sources, javadoc) and mec4j-bench.jar
#   scripts/verify-reproducible.sh --image [TAG]   two builds of the Docker build stage (the
#                                                  dependency layer may be cached, the build is
#                                                  not): the library's jars in the image
#   scripts/verify-reproducible.sh --compare A.jar B.jar   compare two jars already built
#
# Environment: MVN_ARGS (extra Maven arguments, e.g. -o), KEEP=1 keeps the work folder.
# Exit status: 0 identical, 1 different, 2 usage or build error.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

compare() {  # compare A.jar B.jar: prints both hashes; on a mismatch names the differing entries
  local a=$1 b=$2 ha hb
  ha=$(sha256sum "$a" | cut -d' ' -f1)
  hb=$(sha256sum "$b" | cut -d' ' -f1)
  echo "sha256 $ha  $a"
  echo "sha256 $hb  $b"
  if [[ $ha == "$hb" ]]; then
    echo "REPRODUCIBLE: the two jars are identical ($ha)"
    return 0
  fi
  echo "NOT REPRODUCIBLE: the jars differ"
  local w; w=$(mktemp -d)
  mkdir "$w/a" "$w/b"
  unzip -qo "$a" -d "$w/a"
  unzip -qo "$b" -d "$w/b"
  local differing=() f
  while IFS= read -r f; do differing+=("$f"); done < <(
    cd "$w" && diff -rq a b | sed -n 's|^Files a/\(.*\) and b/.* differ$|\1|p')
  diff -rq "$w/a" "$w/b" | grep '^Only in' | sed "s|$w/||" || true
  if ((${#differing[@]} == 0)); then
    echo "every entry has the same content: the archive metadata differs (order, times or modes):"
    diff <(unzip -Zl "$a" | sed '1d;$d') <(unzip -Zl "$b" | sed '1d;$d') | head -20 || true
  fi
  for f in "${differing[@]}"; do
    echo "differs: $f"
    [[ $f == *.so* ]] || continue
    if command -v readelf >/dev/null; then
      diff <(readelf -n "$w/a/$f" | grep -i 'build id') <(readelf -n "$w/b/$f" | grep -i 'build id') || true
      diff <(readelf -d "$w/a/$f") <(readelf -d "$w/b/$f") | head -10 || true
    fi
    echo "strings only in one of them:"
    diff <(strings -n 8 "$w/a/$f" | sort -u) <(strings -n 8 "$w/b/$f" | sort -u) | head -20 || true
    echo "bytes differing: $(cmp -l "$w/a/$f" "$w/b/$f" | wc -l)"
  done
  [[ ${KEEP:-0} == 1 ]] && echo "unpacked: $w" || rm -rf "$w"
  return 1
}

host_builds() {
  local work; work=$(mktemp -d /tmp/mec4j-repro.XXXXXX)
  [[ ${KEEP:-0} == 1 ]] || trap "rm -rf '$work'" EXIT
  local dirs=("$work/one" "$work/second-build-at-a-longer-path")
  local d i=0
  for d in "${dirs[@]}"; do
    i=$((i + 1))
    mkdir -p "$d"
    # A clean copy of the tree as git sees it (tracked and new files, nothing ignored: no target/).
    (cd "$top" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$d"
    echo "== build $i in $d"
    local t0=$SECONDS
    if ! (cd "$d" && mvn -B -q ${MVN_ARGS:-} -P release -DskipTests package) > "$work/build-$i.log" 2>&1; then
      tail -40 "$work/build-$i.log"; echo "build $i failed (log: $work/build-$i.log)" >&2; KEEP=1; exit 2
    fi
    echo "   $((SECONDS - t0)) s"
  done
  # Every jar the release build must make (a jar neither build made would pass unnoticed): the
  # library's five (classes, sources, javadoc, linux-x86_64, linux-arm64), mec4j-onnx's three,
  # mec4j-bench.jar.
  local v; v=$(sed -n 's:.*<revision>\(.*\)</revision>.*:\1:p' "$top/pom.xml" | head -1)
  local missing=0 jar
  for jar in target/mec4j-$v{,-sources,-javadoc,-linux-x86_64,-linux-arm64}.jar \
    onnx/target/mec4j-onnx-$v{,-sources,-javadoc}.jar bench/target/mec4j-bench.jar; do
    [[ -f ${dirs[0]}/$jar || -f ${dirs[1]}/$jar ]] || { echo "NOT CHECKED: no build made $jar"; missing=1; }
  done
  local rc=0
  compare_all "${dirs[0]}" "${dirs[1]}" 'target/mec4j-*.jar' 'onnx/target/mec4j-onnx-*.jar' 'bench/target/mec4j-bench.jar' || rc=$?
  ((missing == 0)) || rc=1
  return $rc
}

# compare_all DIR1 DIR2 GLOB...: every jar the globs match in DIR1 or DIR2 (relative paths),
# compared with its namesake in the other build; a jar made by only one build is a difference.
compare_all() {
  local d1=$1 d2=$2; shift 2
  local names=() f rc=0 n=0
  while IFS= read -r f; do names+=("$f"); done < <(
    for d in "$d1" "$d2"; do (cd "$d" && for g in "$@"; do compgen -G "$g" || true; done); done | sort -u)
  ((${#names[@]})) || { echo "no jar built" >&2; return 2; }
  for f in "${names[@]}"; do
    echo "== $f"
    if [[ ! -f $d1/$f || ! -f $d2/$f ]]; then
      echo "NOT REPRODUCIBLE: only one build made $f"; rc=1; continue
    fi
    compare "$d1/$f" "$d2/$f" || rc=1
    n=$((n + 1))
  done
  ((rc == 0)) && echo "ALL REPRODUCIBLE: $n jars identical" || echo "NOT REPRODUCIBLE: see above"
  return $rc
}

image_builds() {
  local tag=${1:-mec4j-repro} work; work=$(mktemp -d /tmp/mec4j-repro.XXXXXX)
  [[ ${KEEP:-0} == 1 ]] || trap "rm -rf '$work'" EXIT
  "$top/docker/make-base-image.sh"
  local i
  for i in 1 2; do
    echo "== image build $i (target: build)"
    local t0=$SECONDS
    # REBUILD changes the cache key of every step after the dependency layer: a full rebuild.
    if ! "$top/docker/build-image.sh" --target build -t "$tag-build:$i" \
        --build-arg REBUILD="$i-$(date +%s%N)" > "$work/image-$i.log" 2>&1; then
      tail -40 "$work/image-$i.log"; echo "image build $i failed" >&2; exit 2
    fi
    echo "   $((SECONDS - t0)) s"
    local c; c=$(docker create "$tag-build:$i")
    mkdir -p "$work/image-$i/target"
    local jar
    for jar in $(docker run --rm "$tag-build:$i" sh -c 'ls /src/target/mec4j-*.jar'); do
      docker cp "$c:$jar" "$work/image-$i/target/" >/dev/null
    done
    docker rm "$c" >/dev/null
  done
  local rc=0
  compare_all "$work/image-1" "$work/image-2" 'target/mec4j-*.jar' || rc=$?
  docker rmi "$tag-build:1" "$tag-build:2" >/dev/null 2>&1 || true
  return $rc
}

case ${1:-} in
  --compare) [[ $# == 3 ]] || { echo "usage: $0 --compare A.jar B.jar" >&2; exit 2; }; compare "$2" "$3" ;;
  --image) image_builds "${2:-}" ;;
  ""|--host) host_builds ;;
  *) sed -n '2,13p' "$0" >&2; exit 2 ;;
esac
