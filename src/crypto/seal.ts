import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

/**
 * AES-256-GCM envelope for secrets we must use later (TOTP seeds, upstream client secrets,
 * private keys). Format: `v1.<iv>.<ciphertext>.<tag>` in base64url. The associated data binds
 * a sealed value to where it is stored (e.g. `users.totp_secret:user_…`) so a ciphertext
 * copied into another row does not open.
 */
export interface DataKey {
  readonly key: Uint8Array
}

export function seal(dataKey: DataKey, plaintext: string, aad = ''): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', dataKey.key, iv)
  cipher.setAAD(Buffer.from(aad))
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return [
    'v1',
    iv.toString('base64url'),
    ct.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
  ].join('.')
}

export function unseal(dataKey: DataKey, sealed: string, aad = ''): string {
  const [version, iv, ct, tag] = sealed.split('.')
  if (version !== 'v1' || !iv || ct === undefined || !tag) throw new Error('sealed value is malformed')
  const decipher = createDecipheriv('aes-256-gcm', dataKey.key, Buffer.from(iv, 'base64url'))
  decipher.setAAD(Buffer.from(aad))
  decipher.setAuthTag(Buffer.from(tag, 'base64url'))
  return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8')
}

export const newDataKey = (): DataKey => ({ key: randomBytes(32) })
