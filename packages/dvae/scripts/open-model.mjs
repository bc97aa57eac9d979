// What the dVAE's scripts share: the --model / --backend / --help options, the device, the model.
import { parseArgs } from 'node:util'
import { Device } from '@tessera/tensor-core'
import { loadDvae } from '@tessera/dvae'

process.env.XDG_RUNTIME_DIR ??= '/tmp'

/**
 * Parses the script's own `options` beside --model (default the shipped emoji-32 dVAE),
 * --backend and --help (prints `usage` and exits), then opens the device and loads the model.
 */
export async function openDvaeScript({ usage, options = {}, backend = 'webgpu' }) {
  const { values: args } = parseArgs({
    options: {
      model: { type: 'string', default: '../../models/dvae-emoji-32' },
      backend: { type: 'string', default: backend },
      help: { type: 'boolean', default: false },
      ...options,
    },
  })
  if (args.help) {
    console.log(`usage: ${usage}`)
    process.exit(0)
  }
  const device = await Device.create({ backend: args.backend })
  const { model } = await loadDvae(device, args.model)
  return { args, device, model }
}
