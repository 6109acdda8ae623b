import { react } from './domain/events/service'
import { onUserCreated } from './domain/organizations/enrollment'
import { onMembershipDeleted, onOrganizationDeleted } from './domain/sessions/service'
import { queueDeliveries } from './domain/webhooks/fanout'

/**
 * Which capability reacts to which event, in the emitting transaction. Capabilities export
 * their reactions; this table is the only place they meet, so none imports another to react.
 */
const REACTIONS = [
  // Every event fans out to the webhook endpoints that want it.
  ['*', queueDeliveries],
  // A new user's verified addresses enroll them in organizations by verified domain.
  ['user.created', onUserCreated],
  // Sessions stop having an organization active once it, or the membership, is gone.
  ['organization.deleted', onOrganizationDeleted],
  ['organizationMembership.deleted', onMembershipDeleted],
] as const

let installed = false

/** Subscribes the reactions once per process (every runtime shares the event bus). */
export function installReactions() {
  if (installed) return
  installed = true
  for (const [type, reaction] of REACTIONS) react(type, reaction)
}
