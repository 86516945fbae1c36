# syntax=docker/dockerfile:1
# One image recipe for both scaled apps; APP picks the workspace and the start command.
# Build from the repository root (the monorepo is the context):
#   docker build --build-arg APP=api     -t mystery-match/api .
#   docker build --build-arg APP=gateway -t mystery-match/gateway .
# The api image also runs the migration (Kubernetes Job, compose `migrate` service):
#   docker run --rm -e DATABASE_URL=... mystery-match/api node packages/db/dist/migrate.cli.js
ARG NODE_IMAGE=node:24-bookworm-slim
# api | gateway
ARG APP=api

FROM ${NODE_IMAGE} AS base
ENV TURBO_TELEMETRY_DISABLED=1 NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /repo

# 1. Only the workspaces @mm/${APP} depends on, with the lockfile trimmed to them.
FROM base AS prune
ARG APP
COPY . .
RUN npx --yes turbo@2.11.11 prune @mm/${APP} --docker

# 2. Install from package.json files and the lockfile alone (a cached layer until they change),
#    then add the sources, build, and drop the dev dependencies. npm ci: exactly the lockfile.
FROM base AS build
ARG APP
COPY --from=prune /repo/out/json/ ./
COPY .npmrc ./
RUN npm ci --no-audit --no-fund
COPY --from=prune /repo/out/full/ ./
COPY tsconfig.base.json ./
RUN npx turbo run build --filter=@mm/${APP}...
RUN npm prune --omit=dev --no-audit --no-fund

# tini as PID 1: it forwards SIGTERM/SIGINT to node (which drains, then exits) and reaps zombies.
FROM ${NODE_IMAGE} AS tini
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*

# 3. The runtime: production dependencies and compiled output only, as the unprivileged node user.
FROM ${NODE_IMAGE} AS runtime
ARG APP
ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0
WORKDIR /app
COPY --from=tini /usr/bin/tini /usr/bin/tini
COPY --from=build /repo/package.json ./
COPY --from=build /repo/node_modules ./node_modules
COPY --from=build /repo/packages/contract/package.json packages/contract/
COPY --from=build /repo/packages/contract/dist packages/contract/dist
COPY --from=build /repo/packages/core/package.json packages/core/
COPY --from=build /repo/packages/core/dist packages/core/dist
COPY --from=build /repo/packages/db/package.json packages/db/
COPY --from=build /repo/packages/db/dist packages/db/dist
COPY --from=build /repo/packages/platform/package.json packages/platform/
COPY --from=build /repo/packages/platform/dist packages/platform/dist
COPY --from=build /repo/apps/${APP}/package.json apps/${APP}/
COPY --from=build /repo/apps/${APP}/dist apps/${APP}/dist
USER node
EXPOSE 3000
# Exec form throughout, no shell in between: the signal goes tini → node. Kubernetes probes use
# /health/live and /health/ready; this HEALTHCHECK serves docker and compose.
ENTRYPOINT ["/usr/bin/tini", "--"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"

# The start command of each app (exec form cannot expand ${APP}, so one stage per app).
# --single-threaded-gc: V8 sizes its GC helper threads by the node's cores, not the pod's CPU
# limit; on a pod's share of cores they cost more than they save (about 40 % more CPU per chat
# message in `npm run bench`, docs/benchmarks.md). It cannot be set through NODE_OPTIONS.
FROM runtime AS runtime-api
CMD ["node", "--single-threaded-gc", "apps/api/dist/main.js"]

FROM runtime AS runtime-gateway
CMD ["node", "--single-threaded-gc", "apps/gateway/dist/main.js"]

# The image: the runtime of the app APP names.
FROM runtime-${APP} AS image
