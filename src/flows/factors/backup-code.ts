import { consumeBackupCode } from '../../domain/mfa/service'
import { localCodeFactor } from './local-code'

/** One of the ten single-use recovery codes, used up when accepted. */
export const backupCode = localCodeFactor({
  strategy: 'backup_code',
  shape: /^[0-9a-f]{10}$/i,
  shapeHint: 'Enter one of your backup codes.',
  enrolled: (user) => user.mfa.backupCodes > 0,
  consume: consumeBackupCode,
})
