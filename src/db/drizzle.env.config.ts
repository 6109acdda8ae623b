import { defineConfig } from 'drizzle-kit'

// Every table of an env file: tenancy's own, and each capability's schema.ts.
export default defineConfig({
  dialect: 'sqlite',
  schema: ['./src/tenancy/schema.ts', './src/domain/*/schema.ts'],
  out: './migrations/env',
})
