# syntax=docker/dockerfile:1
# Two stages: node's image only to build dist/authn (Bun itself comes from npm as a dev
# dependency, so `npm ci` pins it via package-lock.json); the runtime holds just the binary.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Dev dependencies are needed: `bun` is one. Its postinstall selects the platform binary.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY migrations ./migrations
# One self-contained executable with the migrations embedded (scripts/build.ts).
RUN npm run build
# Litestream (serve --replicate), the binary the optional @flydotio/litestream-linux-x64 installed.
RUN cp node_modules/@flydotio/litestream-linux-*/litestream dist/litestream

# Same Debian release as the builder: the binary links the builder's glibc (needs >= 2.17).
FROM debian:bookworm-slim
RUN groupadd --system --gid 10001 authn \
 && useradd --system --uid 10001 --gid authn --home-dir /data --no-create-home --shell /usr/sbin/nologin authn \
 && mkdir /data && chown authn:authn /data
COPY --from=build /app/dist/authn /usr/local/bin/authn
COPY --from=build /app/dist/litestream /usr/local/bin/litestream
# Declared after the chown: a new volume is seeded from the image's /data, ownership included.
VOLUME /data
ENV AUTHN_DATA_DIR=/data PORT=3000
EXPOSE 3000
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
# Exec form: authn is PID 1 and gets SIGTERM itself (it drains requests, then exits 0).
ENTRYPOINT ["authn"]
CMD ["serve"]
