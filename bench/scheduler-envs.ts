// Fills a data root with N envs for bench/scheduler.sh, fast: one env is made through the
// normal path (createEnvironment: database, keys, secret key), then its folder is copied N times
// with the identity patched in each copy (env id, name, host, secret-key hash), and each copy is
// indexed in the registry. Every env is a complete, servable env with its own host and key.
//
//   bun bench/scheduler-envs.ts DATA_DIR N [SRC_ROOT]
//
// SRC_ROOT (default: this checkout) is the source tree whose code builds the envs, so that a
// comparison run against another commit gets envs and a registry of its own schema.
import { Database } from 'bun:sqlite'
import { createHash, randomBytes } from 'node:crypto'
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'

const [dataArg, nArg, srcArg] = process.argv.slice(2)
if (!dataArg || !nArg) throw new Error('usage: bun bench/scheduler-envs.ts DATA_DIR N [SRC_ROOT]')
const data = resolve(dataArg)
const n = Number(nArg)
const src = resolve(srcArg ?? join(import.meta.dir, '..'))

const { loadConfig } = await import(join(src, 'src/config.ts'))
const { silentLogger } = await import(join(src, 'src/log.ts'))
const { createRuntime } = await import(join(src, 'src/runtime.ts'))
const { createEnvironment } = await import(join(src, 'src/tenancy/environments.ts'))
const { newId } = await import(join(src, 'src/lib/ids.ts'))

const started = performance.now()
mkdirSync(data, { recursive: true, mode: 0o700 })
const rt = createRuntime(loadConfig({}, { dataDir: data, logLevel: 'silent' }), { log: silentLogger })
const template = await createEnvironment(rt.tenancy, {
  name: 'Template',
  hosts: ['template.bench.localhost'],
})
rt.pool.closeAll()
rt.registry.remove(template.id)
const templateDir = join(data, template.id)
{
  // Everything in the main file: the copies start without a WAL.
  const db = new Database(join(templateDir, 'env.sqlite'))
  db.run('PRAGMA wal_checkpoint(TRUNCATE)')
  db.close()
}
const keyFiles = readdirSync(join(templateDir, 'keys'))

for (let i = 0; i < n; i++) {
  const id = newId('environment') as string
  const dir = join(data, id)
  mkdirSync(join(dir, 'keys'), { recursive: true, mode: 0o700 })
  copyFileSync(join(templateDir, 'env.sqlite'), join(dir, 'env.sqlite'))
  for (const f of keyFiles) copyFileSync(join(templateDir, 'keys', f), join(dir, 'keys', f))
  const host = `e${i}.bench.localhost`
  const name = `Bench ${i}`
  const secret = `sk_test_${randomBytes(24).toString('base64url')}`
  const hash = createHash('sha256').update(secret).digest('hex')
  const db = new Database(join(dir, 'env.sqlite'))
  db.transaction(() => {
    db.run('UPDATE environment SET id = ?, name = ?', [id, name])
    db.run('UPDATE hosts SET host = ?', [host])
    db.run('UPDATE secret_keys SET hash = ?, hint = ?', [hash, secret.slice(-4)])
  })()
  db.close()
  rt.registry.index({ id, name, type: 'development', hosts: [host], keyHashes: [hash] })
  if ((i + 1) % 1000 === 0) console.error(`  ${i + 1}/${n} envs`)
}
rmSync(templateDir, { recursive: true, force: true })
rt.close()
console.error(`created ${n} envs in ${((performance.now() - started) / 1000).toFixed(1)} s`)
