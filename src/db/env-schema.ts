// Every table of an env file. drizzle-kit reads this file to generate migrations/env.

export * from '../domain/challenges/schema'
export * from '../domain/clients/schema'
export * from '../domain/environment/schema'
export * from '../domain/events/schema'
export * from '../domain/jwt-templates/schema'
export * from '../domain/messages/schema'
export * from '../domain/sessions/schema'
export * from '../domain/sign-ins/schema'
export * from '../domain/sign-ups/schema'
export * from '../domain/tickets/schema'
export * from '../domain/users/schema'
export * from '../domain/webhooks/schema'
