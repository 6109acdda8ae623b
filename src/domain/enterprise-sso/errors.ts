import { AppError, formError } from '../../lib/errors'

export const connectionParamInvalid = (param: string, long: string) =>
  formError('form_param_format_invalid', param, 'is invalid', long)

export const domainTaken = (domain: string) =>
  formError(
    'enterprise_connection_domain_taken',
    'domains',
    'is taken',
    `${domain} is already routed to another enterprise connection of this environment.`,
  )

/** An org-scoped connection may route only domains its organization has verified. */
export const domainNotVerified = (domain: string) =>
  formError(
    'enterprise_connection_domain_unverified',
    'domains',
    'is not verified',
    `${domain} is not a verified domain of this organization: add it to the organization and verify it first.`,
  )

export const immutableField = (param: string) =>
  formError('form_param_immutable', param, 'cannot change', `${param} cannot be changed after creation.`)

export const fetchFailed = (param: string, what: string, why: string) =>
  formError(
    'enterprise_connection_fetch_failed',
    param,
    'could not be fetched',
    `${what} could not be fetched: ${why}`,
  )

/** The IdP's answer does not prove who the person is: every SAML/OIDC refusal uses this code. */
export const ssoVerificationFailed = (long: string) =>
  new AppError(400, [
    { code: 'enterprise_sso_verification_failed', message: 'verification failed', long_message: long },
  ])

export const connectionUnavailable = () =>
  new AppError(404, [
    {
      code: 'enterprise_connection_not_found',
      message: 'not found',
      long_message: 'This enterprise connection does not exist or is no longer active.',
    },
  ])
