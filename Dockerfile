# mec4j: reproducible build and run image (the legacy builder is enough: no BuildKit features).
#
#   docker/make-base-image.sh     # the base image: pulled, or made with debootstrap when offline
#   docker build -t mec4j .        # builds and tests (ctest + JUnit under OpenBLAS and MKL)
#   docker run --rm -v "$PWD/out:/results" mec4j          # the paper comparison (or help)
#
# Extra CA certificates (TLS-intercepting proxies): put *.crt files in
# docker/extra-ca-certificates/ (git-ignored) before building; see the README there.

# Pinned: the base image tag and every Debian package the build or the runtime installs.
# make-base-image.sh creates this exact tag locally when Docker Hub cannot be reached.
ARG BASE_IMAGE=debian:bookworm-20251117-slim

############################################################################################
FROM ${BASE_IMAGE} AS build

# Trust extra CA certificates, if any were put in the build context (never committed).
COPY docker/extra-ca-certificates/ /usr/local/share/ca-certificates/mec4j-extra/
RUN set -eux; \
    find /usr/local/share/ca-certificates/mec4j-extra -type f ! -name '*.crt' -delete; \
    mkdir -p /usr/share/man/man1; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates=20250419~deb12u2 \
      openjdk-17-jdk-headless=17.0.21.1+2-1~deb12u1 \
      maven=3.8.7-1 \
      g++-12=12.2.0-14+deb12u1 g++=4:12.2.0-3 binutils=2.40-2 \
      cmake=3.25.1-1 make=4.3-4.1 \
      unzip=6.0-28+deb12u1; \
    update-ca-certificates; \
    rm -rf /var/lib/apt/lists/*

ENV LANG=C.UTF-8 \
    TZ=UTC \
    MAVEN_OPTS="-Xmx1g" \
    MVN_FLAGS="-B -ntp"
WORKDIR /src

# 1. Maven's downloads, in layers keyed on the poms only: a source change reuses them.
#    A stub of the reactor with the real poms runs the whole lifecycle (every plugin, the JUnit
#    provider, every test execution; the exec steps, CMake and JavaCPP, skipped; ctest given no
#    tests; the platform module's client-project test and the onnx module's model fetch skipped) with a stub
#    library (an empty file standing for its JNI library, so that its linux-x86_64 jar exists),
#    an empty bench module and the onnx module's .proto (so that protoc is fetched too); it is
#    removed afterwards.
COPY pom.xml /tmp/stub/pom.xml
COPY lib/pom.xml /tmp/stub/lib/pom.xml
COPY platform/pom.xml /tmp/stub/platform/pom.xml
COPY bench/pom.xml /tmp/stub/bench/pom.xml
COPY onnx/pom.xml /tmp/stub/onnx/pom.xml
COPY onnx/src/main/proto/ /tmp/stub/onnx/src/main/proto/
COPY docker/maven-stub/ /tmp/stub/
RUN set -eux; \
    cd /tmp/stub; \
    mkdir -p target/native && : > target/native/CTestTestfile.cmake; \
    mkdir -p target/classes/org/mec4j/internal/linux-x86_64 && : > target/classes/org/mec4j/internal/linux-x86_64/libjniMecNative.so; \
    mvn $MVN_FLAGS -Dexec.skip=true -Dmec4j.onnx.skipModels=true -Dctest.noTests=ignore -Dinvoker.skip=true install \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=/tmp/stub-lib; \
    rm -rf /tmp/stub /tmp/stub-lib ~/.javacpp ~/.m2/repository/org/mec4j

# Changing REBUILD (scripts/verify-reproducible.sh --image) rebuilds everything below.
ARG REBUILD=
# More flags for the test run below; CI, whose host has run every test, passes
# -Dmec4j.test.defaultRunOnly=true (ctest, and JUnit under OpenBLAS at the best ISA only).
ARG VERIFY_FLAGS=

# 2. The library and the comparison tool, tested (ctest; JUnit under OpenBLAS, MKL and each ISA
#    cap; the tool's tests; a client project on mec4j-platform). Offline (-o): a download missing
#    from the layers above fails here instead of being fetched. /out/lib gets the library's jars
#    (classes and linux-x86_64) and its run-time dependencies.
COPY pom.xml LICENSE NOTICE /src/
COPY lib/ /src/lib/
COPY platform/ /src/platform/
COPY cmake/ /src/cmake/
COPY native/ /src/native/
COPY data/ /src/data/
COPY scripts/javacpp/ /src/scripts/javacpp/
COPY src/ /src/src/
COPY onnx/ /src/onnx/
COPY bench/ /src/bench/
# The onnx module's tests on fetched models (npm, apt: not in the image, offline) are left out by
# -Dmec4j.onnx.skipModels=true; CI's host runs them.
RUN set -eux; \
    mvn $MVN_FLAGS -o verify -Dmec4j.onnx.skipModels=true $VERIFY_FLAGS; \
    mvn $MVN_FLAGS -o -q -pl lib dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=/out/lib; \
    cp target/mec4j-*.jar /out/lib/; \
    cp LICENSE NOTICE /out/; \
    sha256sum target/mec4j-*.jar | tee /out/mec4j-jar.sha256; \
    cp -r data /out/data; \
    rm -rf ~/.javacpp

# 3. The image's self-check, and the comparison tool (its jar and lib/). A jar in both the
#    library's lib/ and the tool's is kept once (a symbolic link): MKL alone is 160 MB.
COPY docker/selfcheck/ /src/docker/selfcheck/
COPY docker/entrypoint.sh /out/bin/mec4j-docker
RUN set -eux; \
    mkdir -p /out/tools /out/bench; \
    javac --release 17 -cp "/out/lib/*" -d /tmp/selfcheck docker/selfcheck/SelfCheck.java; \
    jar --create --date=2026-11-23T00:00:00Z --file /out/tools/selfcheck.jar -C /tmp/selfcheck .; \
    rm -rf /tmp/selfcheck; \
    cp -r bench/target/mec4j-bench.jar bench/target/lib /out/bench/; \
    for f in /out/bench/lib/*.jar; do \
      b=/out/lib/$(basename "$f"); \
      if [ -f "$b" ] && cmp -s "$f" "$b"; then ln -sf "../../lib/$(basename "$f")" "$f"; fi; \
    done; \
    chmod 0755 /out/bin/mec4j-docker

############################################################################################
FROM ${BASE_IMAGE} AS runtime

RUN set -eux; \
    mkdir -p /usr/share/man/man1; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      openjdk-17-jre-headless=17.0.21.1+2-1~deb12u1 \
      libstdc++6=12.2.0-14+deb12u1 libgomp1=12.2.0-14+deb12u1; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log

COPY --from=build /out /opt/mec4j

# Any user id can run the image (docker run --user): JavaCPP unpacks its libraries into
# $HOME/.javacpp/cache, so HOME is a world-writable folder.
ENV LANG=C.UTF-8 \
    TZ=UTC \
    HOME=/home/mec4j \
    MEC4J_HOME=/opt/mec4j \
    PATH=/opt/mec4j/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN mkdir -p /home/mec4j /results && chmod 1777 /home/mec4j /results
WORKDIR /results
ENTRYPOINT ["/opt/mec4j/bin/mec4j-docker"]
CMD ["compare"]
