import { AppError, notFound } from '../../lib/errors'

export const orgNotFound = () => notFound('organization')

/** A member whose role lacks the permission the route needs. */
export const missingPermission = (permission: string) =>
  new AppError(403, [
    {
      code: 'authorization_invalid',
      message: 'not allowed',
      long_message: `Your role in this organization lacks the ${permission} permission.`,
      meta: { permissions: [permission] },
    },
  ])

export const organizationsDisabled = () =>
  new AppError(403, [
    {
      code: 'organization_not_enabled_in_instance',
      message: 'organizations are off',
      long_message: 'Organizations are not enabled on this instance.',
    },
  ])

export const domainsDisabled = () =>
  new AppError(403, [
    {
      code: 'organization_domains_not_enabled',
      message: 'domains are off',
      long_message: 'Verified domains are not enabled for organizations on this instance.',
    },
  ])

export const minimumPermissionsNeeded = () =>
  new AppError(400, [
    {
      code: 'organization_minimum_permissions_needed',
      message: 'last member manager',
      long_message: 'An organization must keep at least one member who can manage its members.',
    },
  ])

export const membershipQuotaExceeded = (max: number) =>
  new AppError(403, [
    {
      code: 'organization_membership_quota_exceeded',
      message: 'membership quota exceeded',
      long_message: `This organization allows at most ${max} members, pending invitations included.`,
    },
  ])

export const alreadyMember = () =>
  new AppError(400, [
    {
      code: 'already_a_member_in_organization',
      message: 'already a member',
      long_message: 'This user is already a member of the organization.',
    },
  ])

export const badRequest = (code: string, message: string, long: string) =>
  new AppError(400, [{ code, message, long_message: long }])
