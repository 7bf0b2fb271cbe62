FROM node:22-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY apps apps
COPY libs libs
COPY simulators simulators
COPY bench bench
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# The image serves real sites: no simulated readings (set SIMULATE=1 for a demo); CONFIG_WATCH then defaults to 0 as well.
ENV SIMULATE=0
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY config config
EXPOSE 3000 1883
# Heap cap: 96 MB keeps RSS near 150 MB for site- and park-sized registries; a registry holds ~200 B per point,
# so raise SENTINEL_HEAP_MB (e.g. 256 for the 440,000-point national scale). docs/benchmarks.md has the trade-off.
ENV SENTINEL_HEAP_MB=96
# Fewer malloc arenas: about 10 MB less resident memory under load (docs/benchmarks.md).
ENV MALLOC_ARENA_MAX=2
CMD ["sh", "-c", "exec node --max-old-space-size=$SENTINEL_HEAP_MB --max-semi-space-size=2 dist/apps/monitor/main.js"]
