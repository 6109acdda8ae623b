import { join } from 'node:path'
import { isId } from '../lib/ids'

/** Layout of a data root: `registry.sqlite` plus one self-contained folder per env. */
export const registryFile = (dataDir: string) => join(dataDir, 'registry.sqlite')
export const envDir = (dataDir: string, envId: string) => {
  if (!isId('environment', envId)) throw new Error(`not an environment id: ${envId}`)
  return join(dataDir, envId)
}
export const envDbFile = (dir: string) => join(dir, 'env.sqlite')
export const envKeysDir = (dir: string) => join(dir, 'keys')
