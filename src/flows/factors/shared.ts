import { AppError, formError, formParamMissing } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import type { FactorKind, FactorOption } from './types'

/** The challenge step a factor kind issues. */
export const stepOf = (kind: FactorKind) =>
  kind === 'second'
    ? ('second_factor' as const)
    : kind === 'reset'
      ? ('reset_password' as const)
      : ('first_factor' as const)

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** A stable, plausible identifier id for an address nobody owns (same env, same answer). */
export function decoyId(ctx: EnvContext, identifier: string): string {
  const digest = new Bun.CryptoHasher('sha256').update(`${ctx.id}:${identifier.toLowerCase()}`).digest()
  let out = ''
  for (let i = 0; i < 26; i++) out += CROCKFORD[digest[i]! % 32]
  return `idn_0${out.slice(1)}`
}

export const isEmailIdentifier = (identifier: string) => identifier.includes('@')

/**
 * The option an issue request means: the one naming the given address or number, else (when it
 * names none) the primary one, else the first.
 */
export function pickOption(
  options: FactorOption[],
  input: { email_address_id?: string; phone_number_id?: string },
): FactorOption {
  const named = input.email_address_id || input.phone_number_id
  const pick = named
    ? options.find(
        (f) =>
          (input.email_address_id && f.email_address_id === input.email_address_id) ||
          (input.phone_number_id && f.phone_number_id === input.phone_number_id),
      )
    : (options.find((f) => f.primary) ?? options[0])
  if (!pick)
    throw formError(
      'form_param_value_invalid',
      input.email_address_id ? 'email_address_id' : 'phone_number_id',
      'is invalid',
      "That identifier is not one of this user's.",
    )
  return pick
}

export const codeIncorrect = () =>
  formError('form_code_incorrect', 'code', 'is incorrect', 'The code is incorrect.')

export function requireCode(code: string | undefined): string {
  if (code === undefined) throw formParamMissing('code')
  return code
}

export const notACode = () =>
  new AppError(400, [
    {
      code: 'verification_strategy_invalid',
      message: 'not a code',
      long_message: 'An email link is answered by opening the link.',
    },
  ])
