/**
 * The layering of src/ (docs/architecture.md), checked in CI: `npx depcruise src`.
 *
 *   main, cli, runtime, server, reactions   composition
 *   http                                     surfaces, edges, presenters
 *   flows                                    orchestration across capabilities
 *   domain/<capability>                      owns its tables, reached through its service
 *   jobs                                     the scheduler
 *   tenancy                                  registry, env pool, env store, settings
 *   db, crypto, lib                          foundations
 *
 * Route files (*.routes.ts) are the HTTP edge of whatever folder they sit in: they may import
 * http and flows. Schema files may reference another capability's schema for a foreign key.
 */
const ROUTES = '\\.routes\\.ts$'

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles, between capabilities or anywhere else.',
      severity: 'error',
      from: {},
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'foundations-import-nothing-above',
      comment: 'src/lib, src/crypto and src/db are the bottom: they import only each other.',
      severity: 'error',
      from: { path: '^src/(lib|crypto|db)/' },
      to: { path: '^src/', pathNot: '^src/(lib|crypto|db)/' },
    },
    {
      name: 'tenancy-imports-no-domain-or-above',
      comment: 'Tenancy is data of the env itself; it knows no capability, flow or surface.',
      severity: 'error',
      from: { path: '^src/tenancy/' },
      to: { path: '^src/(domain|flows|http|jobs|protocols|pages)/' },
    },
    {
      name: 'jobs-scheduler-below-domain',
      comment: 'The scheduler runs jobs; capabilities provide them (src/jobs/index.ts composes).',
      severity: 'error',
      from: { path: '^src/jobs/scheduler\\.ts$' },
      to: { path: '^src/(domain|flows|http)/' },
    },
    {
      name: 'domain-imports-no-http',
      comment: 'Capabilities are plain services; only their route files and wire models touch src/http.',
      severity: 'error',
      from: { path: '^src/domain/', pathNot: [ROUTES, '/model\\.ts$'] },
      to: { path: '^src/http/' },
    },
    {
      name: 'domain-imports-no-flows',
      comment: 'Flows orchestrate capabilities, never the reverse (route files excepted).',
      severity: 'error',
      from: { path: '^src/domain/', pathNot: ROUTES },
      to: { path: '^src/flows/' },
    },
    {
      name: 'no-foreign-schema',
      comment:
        "A capability owns its tables: another capability reaches them through its service, never its schema.ts (a schema may reference another's table for a foreign key).",
      severity: 'error',
      from: { path: '^src/domain/([^/]+)/', pathNot: '/schema\\.ts$' },
      to: { path: '^src/domain/[^/]+/schema\\.ts$', pathNot: '^src/domain/$1/schema\\.ts$' },
    },
    {
      name: 'no-tables-above-domain',
      comment:
        'Flows, surfaces and jobs never touch a table: they may name a row type, but queries go through the owning service.',
      severity: 'error',
      from: { path: '^src/(flows|http|jobs|protocols)/' },
      to: { path: '^src/domain/[^/]+/schema\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'flows-import-no-http',
      comment: 'Flows are called by routes; they do not know the HTTP layer (their route files do).',
      severity: 'error',
      from: { path: '^src/flows/', pathNot: ROUTES },
      to: { path: '^src/http/' },
    },
    {
      name: 'elysia-only-at-the-edge',
      comment: 'Only route files, wire models and src/http load Elysia at runtime.',
      severity: 'error',
      from: { path: '^src/', pathNot: [ROUTES, '/model\\.ts$', '^src/http/'] },
      to: { path: 'node_modules/elysia/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'wire-models-at-the-edge',
      comment:
        'TypeBox wire models (model.ts) are built with Elysia; services may use their types, only the HTTP edge loads them.',
      severity: 'error',
      from: { path: '^src/', pathNot: [ROUTES, '/model\\.ts$', '^src/http/'] },
      to: { path: '/model\\.ts$', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    reporterOptions: {
      dot: {
        collapsePattern: '^src/(domain|flows)/[^/]+|^src/[^/]+',
      },
    },
  },
}
