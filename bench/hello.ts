// Bare Bun.serve baseline for bench/run.sh: the ceiling any Bun HTTP server on this machine can reach.
// usage: bun bench/hello.ts [PORT]   (port from argv, else $PORT, else an ephemeral one)
const port = Number(process.argv[2] ?? process.env.PORT ?? 0)
if (!Number.isInteger(port) || port < 0 || port > 65535)
  throw new Error(`bad port: ${process.argv[2] ?? process.env.PORT}`)

const server = Bun.serve({
  hostname: process.env.HELLO_HOSTNAME ?? '127.0.0.1',
  port,
  development: false,
  fetch: () => new Response('hello'),
})
console.log(`hello listening on http://${server.hostname}:${server.port}`)

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.stop(true)
    process.exit(0)
  })
}
