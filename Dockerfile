# syntax=docker/dockerfile:1
# The gateway as a small production image: compiled in a build stage, shipped with
# production dependencies only, run as an unprivileged user from a read-only root
# filesystem. test/deploy/dockerfile.test.ts replays the build stage without Docker.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json
# Reinstall without devDependencies: only these reach the runtime stage.
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts
# The wrapper of the `dtg` client (it loads dist/cli/dtg.js), copied last so that editing it rebuilds no layer above.
COPY bin ./bin

FROM ${NODE_IMAGE} AS runtime
# npm and corepack are not needed to run the gateway; dropping them shrinks the image and its attack surface.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
    /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
# /app/bin puts `dtg` on the PATH: `kubectl exec <pod> -c dingtalk-gateway -- dtg test login alice`.
ENV NODE_ENV=production \
    LISTEN_ADDRESS=0.0.0.0:50051 \
    PATH=/app/bin:$PATH
WORKDIR /app
# Owned by root and not writable by the runtime user: the app never writes to its own files.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
# The `node` user of the official image, by number so that runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 50051
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["node", "dist/healthcheck.js"]
# A young generation of up to 8 MiB per semi-space. Under a container memory limit Node sizes
# its heap from the limit and picks a far smaller one, and the gateway pays for it in
# collections: in a 256 MiB cgroup (`npm run bench -- --memory-limit 256`) VerifyCode took
# 94-123 us of CPU per call on the in-memory store and 178 on Redis, and 78-87 and 108 with
# this flag, its resident memory rising from about 90 to 105-136 MiB.
ENTRYPOINT ["node", "--max-semi-space-size=8", "dist/main.js"]
