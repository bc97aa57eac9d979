// A plugin package as a third party writes one: it imports only @tessera/plugins' public API and
// registers on import. 'previous-only' lets an image token see the text, itself and the image token
// just before it; 'lowest-id' always picks token 0 (a sampler the built-ins cannot express).
import { CONTRACT_VERSIONS, registerPlugin } from '@tessera/plugins'

registerPlugin({
  kind: 'attentionMask',
  name: 'previous-only',
  contract: CONTRACT_VERSIONS.attentionMask,
  allowed({ textLength: T, gridSize: [rows, cols] }) {
    const L = T + rows * cols
    const m = new Uint8Array(L * L)
    for (let q = 0; q < L; q++) {
      for (let k = 0; k <= q; k++) m[q * L + k] = +(k < T || q < T || q - k <= 1)
    }
    return m
  },
})

registerPlugin({
  kind: 'sampler',
  name: 'lowest-id',
  contract: CONTRACT_VERSIONS.sampler,
  create: () => ({ pick: (logits) => logits.device.tensor(new Int32Array(logits.shape[0]), [logits.shape[0]]) }),
})
