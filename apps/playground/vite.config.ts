import { cpSync, createReadStream, existsSync, statSync } from 'node:fs'
import { dirname, extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig, type Plugin } from 'vite'

// The default bundle ships with the app under models/emoji/, taken from @tessera/models at dev
// and build time (never a second copy in git). Its sample PNGs are left out: the app needs the
// manifest, tokenizer and weights only.
const here = dirname(fileURLToPath(import.meta.url))
const bundleDir = join(here, '../../models/emoji')
const served = (file: string) => extname(file) !== '.png'

function defaultBundle(): Plugin {
  return {
    name: 'tessera-default-bundle',
    configureServer(server) {
      server.middlewares.use('/models/emoji/', (req, res, next) => {
        const rel = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]!))
        const file = join(bundleDir, rel)
        if (!file.startsWith(bundleDir + sep) || !served(file) || !statSync(file, { throwIfNoEntry: false })?.isFile()) return next()
        res.setHeader('content-type', extname(file) === '.json' ? 'application/json' : 'application/octet-stream')
        createReadStream(file).pipe(res)
      })
    },
    writeBundle(options) {
      if (!existsSync(join(bundleDir, 'manifest.json'))) throw new Error(`${bundleDir}/manifest.json is missing: the playground ships @tessera/models' emoji bundle`)
      cpSync(bundleDir, join(options.dir ?? join(here, 'dist'), 'models/emoji'), { recursive: true, filter: (src) => statSync(src).isDirectory() || served(src) })
    },
  }
}

export default defineConfig({
  // Relative URLs throughout: the built app works from any static host and any path under it.
  base: './',
  plugins: [defaultBundle()],
  // Node-only paths of the packages (Dawn's npm `webgpu`, fs) sit behind dynamic imports the
  // browser never takes: left out of the build.
  worker: { format: 'es', rollupOptions: { external: ['webgpu'] } },
  build: { target: 'es2022' },
  server: { fs: { allow: [join(here, '../..')] } },
})
