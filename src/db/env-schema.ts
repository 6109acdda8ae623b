// Every table of an env file. drizzle-kit reads this file to generate migrations/env.
export * from '../domain/environment/schema'
export * from '../domain/events/schema'
export * from '../domain/jwt-templates/schema'
export * from '../domain/users/schema'
export * from '../domain/webhooks/schema'
