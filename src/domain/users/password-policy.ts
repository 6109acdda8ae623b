import { formError } from '../../lib/errors'
import type { InstanceSettings } from '../../tenancy/settings'

/** Throws the first rule of the env's password policy that the password breaks. */
export function checkPasswordPolicy(
  password: string,
  policy: InstanceSettings['password'],
  param = 'password',
) {
  const fail = (code: string, long: string) => formError(code, param, 'is not allowed', long)
  if (password.length < policy.min_length) {
    throw fail(
      'form_password_length_too_short',
      `Passwords must be at least ${policy.min_length} characters long.`,
    )
  }
  if (password.length > policy.max_length) {
    throw fail(
      'form_password_length_too_long',
      `Passwords must be at most ${policy.max_length} characters long.`,
    )
  }
  if (policy.require_uppercase && !/[A-Z]/.test(password)) {
    throw fail('form_password_no_uppercase', 'Passwords must contain an uppercase letter.')
  }
  if (policy.require_lowercase && !/[a-z]/.test(password)) {
    throw fail('form_password_no_lowercase', 'Passwords must contain a lowercase letter.')
  }
  if (policy.require_numbers && !/[0-9]/.test(password)) {
    throw fail('form_password_no_number', 'Passwords must contain a number.')
  }
  if (policy.require_special_char && !/[^A-Za-z0-9]/.test(password)) {
    throw fail('form_password_no_special_char', 'Passwords must contain a special character.')
  }
}
