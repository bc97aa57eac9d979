// Where a prior run's dVAE is: a @tessera/models name (dvae-emoji-32), the preset name older runs
// recorded in their data (emoji-32, when the dVAEs shipped inside @tessera/dvae), or a directory.
import { MODELS, modelUrl } from '@tessera/models'
import { fileURLToPath } from 'node:url'

export function dvaeDir(name) {
  for (const shipped of [name, `dvae-${name}`]) {
    if (MODELS[shipped] === 'dvae') return fileURLToPath(modelUrl(shipped))
  }
  return name
}
