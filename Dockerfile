# Sluice container image: build with the Maven wrapper on a JDK, run on a JRE as a non-root user.
#   docker build -t sluice .
#   docker run --rm -p 8080:8080 sluice                          # embedded defaults: mock provider, demo tenant
#   docker run --rm -p 8080:8080 -v $PWD/conf:/etc/sluice:ro -e OPENAI_API_KEY=… sluice --config /etc/sluice/sluice.yaml
FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY .mvn/ .mvn/
COPY mvnw pom.xml ./
RUN ./mvnw -B -q dependency:go-offline
COPY src/ src/
RUN ./mvnw -B -q package -DskipTests

FROM eclipse-temurin:17-jre
# uid 10001 matches k8s/deployment.yaml (runAsUser); no shell login, no home contents
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin sluice
WORKDIR /app
COPY --from=build /src/target/sluice.jar /app/sluice.jar
COPY conf/sluice.yaml /etc/sluice/sluice.yaml
USER 10001
# 8080: API, /health/*; 8081: admin and 9464: /metrics (both bind loopback unless server.admin-host says otherwise or
# SLUICE_METRICS=0.0.0.0:9464 is set for a scraper outside the container)
EXPOSE 8080 8081 9464
# Heap from the container's memory limit; die (and get restarted) rather than limp on after an OOM; when idle for
# 30 s, a periodic concurrent GC returns unused heap to the OS (no effect under load: GCs happen anyway).
ENV JDK_JAVA_OPTIONS="-XX:MaxRAMPercentage=70 -XX:+ExitOnOutOfMemoryError -XX:MaxGCPauseMillis=50 -XX:G1PeriodicGCInterval=30000"
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["java", "-Xmx32m", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-jar", "/app/sluice.jar", "healthcheck"]
ENTRYPOINT ["java", "-jar", "/app/sluice.jar"]
