# Sluice container image: built with the Maven wrapper on a JDK, run on a JRE as a non-root user (uid 10001).
#   docker build -t sluice .                                        # compiles the jar from source
#   docker run --rm -p 8080:8080 -e SLUICE_DEMO_KEY=sk-demo sluice      # embedded defaults: mock provider, demo tenant
#   docker run --rm -p 8080:8080 -v $PWD/conf:/etc/sluice:ro -e OPENAI_API_KEY=… sluice --config /etc/sluice/sluice.yaml
# The base images are build arguments, so a mirror or a locally built Debian + OpenJDK 17 base can stand in for the
# public ones (deploy/image-test.sh builds and runs this file that way with podman).
ARG BUILD_IMAGE=eclipse-temurin:17-jdk
ARG RUNTIME_IMAGE=eclipse-temurin:17-jre
# Where the jar comes from: the build stage below, or an image that holds a jar built elsewhere at
# /src/target/sluice.jar (deploy/image-test.sh packages the jar `./mvnw -B verify` built that way).
ARG JAR_SOURCE=build

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY .mvn/ .mvn/
COPY mvnw pom.xml ./
# Maven and the dependencies in their own layer, so a source change doesn't download them again.
RUN ./mvnw -B -q dependency:resolve
COPY src/ src/
RUN ./mvnw -B -q package -Dmaven.test.skip=true

FROM ${JAR_SOURCE} AS jar

FROM ${RUNTIME_IMAGE}
# uid/gid 10001 match k8s/deployment.yaml (runAsUser, runAsGroup); no login shell, no home directory
RUN groupadd --gid 10001 sluice \
  && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin sluice
WORKDIR /app
COPY --from=jar /src/target/sluice.jar /app/sluice.jar
COPY conf/sluice.yaml /etc/sluice/sluice.yaml
USER 10001:10001
# 8080: API, /health/*; 8081: admin and 9464: /metrics (both bind loopback unless server.admin-host says otherwise or
# SLUICE_METRICS=0.0.0.0:9464 is set for a scraper outside the container)
EXPOSE 8080 8081 9464
# Heap from the container's memory limit; die (and get restarted) rather than limp on after an OOM; when idle for
# 30 s, a periodic concurrent GC returns unused heap to the OS (no effect under load: GCs happen anyway).
ENV JDK_JAVA_OPTIONS="-XX:MaxRAMPercentage=70 -XX:+ExitOnOutOfMemoryError -XX:MaxGCPauseMillis=50 -XX:G1PeriodicGCInterval=30000"
# Readiness over bash's /dev/tcp: one HTTP/1.0 GET, healthy on status 200. No second JVM every interval and no
# extra package (curl) in the image. The port is SLUICE_PORT's, else 8080; with a config file that sets another
# server.port, set SLUICE_PORT too (it overrides the file).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${SLUICE_PORT:-8080} && printf 'GET /health/ready HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && read -r -t 4 _ code _ <&3 && [ \"$code\" = 200 ]"]
ENTRYPOINT ["java", "-jar", "/app/sluice.jar"]
