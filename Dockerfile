# The example server as a container, installed the way users install the package: built and
# packed from this checkout, then installed from the tarball with production dependencies only
# (scripts/production-install.sh, which CI runs too) and started by the package's own command.
# docs/operations.md ("Production start and containers") describes it and compose.yaml.
#
#   docker build -t mobile-oidc-provider .
#   docker run --rm mobile-oidc-provider keys generate > keys.json

# Build: dev dependencies and TypeScript; `npm pack` builds dist/ (prepack) and packs it.
FROM node:22-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN mkdir /tmp/pack \
  && npm pack --pack-destination /tmp/pack \
  && mv /tmp/pack/*.tgz /tmp/pack/mobile-oidc-provider.tgz

# The example API of compose.yaml (examples/api). It needs express, a dev dependency of this
# repository, so it runs from the build stage.
FROM build AS example-api
ENV HOST=0.0.0.0 PORT=4000
USER node
EXPOSE 4000
CMD ["node", "--import", "tsx", "examples/api/main.ts"]

# Runtime (the default target): the tarball and its production dependencies, nothing else.
FROM node:22-slim AS runtime
COPY scripts/production-install.sh /usr/local/lib/production-install.sh
COPY --from=build /tmp/pack/mobile-oidc-provider.tgz /tmp/mobile-oidc-provider.tgz
RUN sh /usr/local/lib/production-install.sh /tmp/mobile-oidc-provider.tgz /app \
  && rm /tmp/mobile-oidc-provider.tgz \
  && npm cache clean --force
WORKDIR /app
# Listening on every interface is the container's job; the published port decides who reaches it.
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 PATH=/app/node_modules/.bin:$PATH
USER node
EXPOSE 3000
# Liveness from inside the container (the slim image has no curl): GET /healthz on PORT.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["mobile-oidc-provider"]
CMD ["serve"]
