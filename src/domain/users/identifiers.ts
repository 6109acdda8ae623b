import { formError, formParamInvalid } from '../../lib/errors'
import type { InstanceSettings } from '../../tenancy/settings'

const EMAIL =
  /^[^\s@"<>()[\],;:\\]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/

/** Emails are kept lower-cased: one address, whatever its case, belongs to one user. */
export function normalizeEmail(raw: string, param = 'email_address'): string {
  const email = raw.trim().toLowerCase()
  if (email.length > 320 || !EMAIL.test(email))
    throw formParamInvalid(param, `${raw} is not a valid email address.`)
  return email
}

const E164 = /^\+[1-9]\d{6,14}$/

/** Phone numbers are kept in E.164; spaces, dashes, dots and brackets are dropped. */
export function normalizePhone(raw: string, param = 'phone_number'): string {
  const phone = raw.replace(/[\s\-().]/g, '')
  if (!E164.test(phone))
    throw formParamInvalid(param, `${raw} is not a phone number in E.164 format (+15555550100).`)
  return phone
}

export function normalizeUsername(raw: string, settings: InstanceSettings, param = 'username'): string {
  const username = raw.trim().toLowerCase()
  const { min_length, max_length } = settings.identifiers.username
  if (username.length < min_length || username.length > max_length) {
    throw formError(
      'form_username_invalid_length',
      param,
      'has an invalid length',
      `Usernames must be between ${min_length} and ${max_length} characters long.`,
    )
  }
  if (!/^[a-z0-9_.-]+$/.test(username)) {
    throw formError(
      'form_username_invalid_character',
      param,
      'contains invalid characters',
      'Usernames may contain only letters, numbers, dots, dashes and underscores.',
    )
  }
  if (/^\d+$/.test(username)) {
    throw formError(
      'form_username_needs_non_number_char',
      param,
      'needs a letter',
      'Usernames must contain a non-number character.',
    )
  }
  return username
}
