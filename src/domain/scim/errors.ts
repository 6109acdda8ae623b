import { AppError, formError } from '../../lib/errors'

/** RFC 7644 §3.12's scimTypes this server answers with (the presenter reads `meta.scim_type`). */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'

/**
 * A SCIM protocol error: the SCIM surface's presenter writes it as an RFC 7644 body with this
 * `scimType` (and the status as a string).
 */
export const scimError = (status: number, scimType: ScimType | null, detail: string) =>
  new AppError(status, [
    {
      code: scimType ? `scim_${scimType.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}` : 'scim_error',
      message: scimType ?? 'scim error',
      long_message: detail,
      ...(scimType ? { meta: { scim_type: scimType } } : {}),
    },
  ])

export const invalidFilter = (detail: string) => scimError(400, 'invalidFilter', detail)
export const invalidValue = (detail: string) => scimError(400, 'invalidValue', detail)
export const invalidSyntax = (detail: string) => scimError(400, 'invalidSyntax', detail)
export const invalidPath = (detail: string) => scimError(400, 'invalidPath', detail)
export const noTarget = (detail: string) => scimError(400, 'noTarget', detail)
export const mutability = (detail: string) => scimError(400, 'mutability', detail)
export const uniqueness = (detail: string) => scimError(409, 'uniqueness', detail)
export const scimNotFound = (kind: 'User' | 'Group' | 'Schema' | 'ResourceType', id: string) =>
  scimError(404, null, `${kind} ${JSON.stringify(id.slice(0, 100))} not found.`)

export const scimTokenInvalid = () =>
  new AppError(401, [
    {
      code: 'scim_token_invalid',
      message: 'invalid token',
      long_message: 'The bearer token is missing, unknown or revoked.',
    },
  ])

/** BAPI/FAPI: an attribute the organization's directory owns cannot be changed here. */
export const attributeManagedByScim = (param: string) =>
  new AppError(409, [
    {
      code: 'attribute_managed_by_scim',
      message: 'managed by SCIM',
      long_message: `${param} is provisioned by the organization's directory (SCIM) and can only be changed there.`,
      meta: { param_name: param },
    },
  ])

export const mappingInvalid = (key: string, why: string) =>
  formError('form_param_format_invalid', `mapping.${key}`, 'is invalid', why)
