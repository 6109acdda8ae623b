import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

export const jwtTemplates = sqliteTable(
  'jwt_templates',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull().unique(),
    claims: text('claims', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    /** Seconds. */
    lifetime: integer('lifetime').notNull(),
    /** Seconds subtracted from `nbf`. */
    allowedClockSkew: integer('allowed_clock_skew').notNull(),
    /** Set exactly when `customSigningKey` is: without one, the env key (and its algorithm) signs. */
    signingAlgorithm: text('signing_algorithm'),
    /** The template's own key, sealed with the env data key; never returned. */
    customSigningKey: text('custom_signing_key'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('jwt_templates_created').on(t.createdAt, t.id)],
)

export type JwtTemplateRow = typeof jwtTemplates.$inferSelect
