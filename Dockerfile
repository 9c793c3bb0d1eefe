# chexpo serving image (CPU). Build: docker build -t chexpo .
# The GPU image is Dockerfile.gpu (same stages; test/faults/dockerfiles.test.ts holds the two in step).
# Neither can be built on the development machines (no Docker engine there).
# Runs `chexpo serve` (what `npm start` runs) with the bundled model; configuration by environment only.
# node:22 is >= 22.18, so Node's own type stripping runs the TypeScript sources as they are (bin/chexpo.js):
# no tsx loader and no on-the-fly transform in the image (docs/benchmarks.md, start-up).

FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Production dependencies only; onnxruntime-node downloads no CUDA libraries. The environment
# variable is onnxruntime-node's own switch: it does not depend on npm accepting .npmrc's key.
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN npm ci --omit=dev

FROM node:22-bookworm-slim
# libjemalloc2 (Debian's / Ubuntu's jemalloc 5), linked at one path on every architecture and preloaded below.
RUN apt-get update && apt-get install -y --no-install-recommends tini libjemalloc2 && rm -rf /var/lib/apt/lists/* \
  && ln -s "$(dpkg -L libjemalloc2 | grep '/libjemalloc\.so\.2$')" /usr/local/lib/libjemalloc.so.2 \
  && test -f /usr/local/lib/libjemalloc.so.2
WORKDIR /app
# RSS climbs with every hot swap on glibc's malloc, MALLOC_TRIM_THRESHOLD_ or not; jemalloc keeps it flat
# (docs/benchmarks.md, hot swap; src/engine/allocator.ts). MALLOC_TRIM_THRESHOLD_ is what npm start sets.
ENV NODE_ENV=production CHEXPO_HOST=0.0.0.0 CHEXPO_PORT=8080 MALLOC_TRIM_THRESHOLD_=1048576 \
  LD_PRELOAD=/usr/local/lib/libjemalloc.so.2 MALLOC_CONF=background_thread:true,dirty_decay_ms:0,muzzy_decay_ms:0
COPY --from=deps /app/node_modules ./node_modules
COPY package.json .npmrc ./
COPY bin ./bin
COPY src ./src
COPY schemas ./schemas
COPY models ./models
RUN mkdir -p /app/var && chown -R node:node /app/var
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s \
  CMD node -e "fetch('http://127.0.0.1:8080/v2/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "bin/chexpo.js", "serve"]
