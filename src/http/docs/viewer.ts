// Scalar's standalone bundle (one self-contained UMD file, no chunks), as a file import: `bun
// src/main.ts` reads it from node_modules, and `bun build --compile` (scripts/build.ts) embeds
// it in the binary and hands back its /$bunfs path, so /docs works offline either way. The
// package's exports map does not list dist/browser, hence the relative path.
// @ts-expect-error TS7016: a `type: 'file'` import is a path string, not a module with types.
import bundlePath from '../../../node_modules/@scalar/api-reference/dist/browser/standalone.js' with {
  type: 'file',
}

/** Where /docs loads the viewer from: our own route, never a CDN. */
export const VIEWER_PATH = '/docs/scalar.js'

/** The viewer's JavaScript, read lazily (about 4 MiB). */
export const viewerBundle = () => Bun.file(bundlePath as string)
