import { spawnSync } from 'node:child_process'
import { chmodSync } from 'node:fs'

/**
 * Makes a directory read-only for this process and returns the undo. Root writes through
 * permission bits, so as root the directory is bind-mounted over itself read-only (what a
 * read-only volume is) when the machine allows mounts; otherwise its write bits are taken away
 * (which /readyz also counts as read-only for root).
 */
export function makeReadOnly(dir: string): () => void {
  const chmod = () => {
    chmodSync(dir, 0o500)
    return () => chmodSync(dir, 0o700)
  }
  if (process.getuid?.() !== 0) return chmod()
  const probe = spawnSync('mount', ['--bind', dir, dir], { encoding: 'utf8' })
  if (probe.status !== 0) return chmod()
  spawnSync('umount', [dir])
  const run = (...args: string[]) => {
    const r = spawnSync('mount', args, { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`mount ${args.join(' ')}: ${r.stderr || r.error}`)
  }
  run('--bind', dir, dir)
  run('-o', 'remount,ro,bind', dir)
  return () => {
    const r = spawnSync('umount', [dir], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`umount ${dir}: ${r.stderr}`)
  }
}
