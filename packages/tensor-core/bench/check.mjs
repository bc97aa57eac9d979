/**
 * Before a peer is timed it computes small cases with odd sizes (tiles do not divide them)
 * whose result a plain-JavaScript reference also computes here; a peer off by more than
 * float32 rounding throws PeerCheckError, and the bench reports that peer as failed
 * rather than timing garbage.
 */
import { convOut, fill } from './workloads.mjs'

export const CHECK_MATMULS = [
  { m: 37, k: 70, n: 45 },
  { m: 1, k: 130, n: 67 },
]
export const CHECK_CONVS = [
  { batch: 2, cin: 5, cout: 7, h: 9, w: 11, kernel: 3, padding: 1 },
  { batch: 2, cin: 6, cout: 10, h: 7, w: 5, kernel: 1, padding: 0 },
]

export class PeerCheckError extends Error {}

function refMatmul(a, b, { m, k, n }) {
  const y = new Float64Array(m * n)
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) y[i * n + j] += a[i * k + p] * b[p * n + j]
  return y
}

/** NCHW input, OIHW weights, stride 1, zero padding: Tessera's, PyTorch's and ONNX's conv. */
function refConv(x, w, c) {
  const { h: ho, w: wo } = convOut(c)
  const y = new Float64Array(c.batch * c.cout * ho * wo)
  for (let b = 0; b < c.batch; b++)
    for (let o = 0; o < c.cout; o++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++) {
          let s = 0
          for (let ci = 0; ci < c.cin; ci++)
            for (let u = 0; u < c.kernel; u++)
              for (let v = 0; v < c.kernel; v++) {
                const yy = i + u - c.padding
                const xx = j + v - c.padding
                if (yy < 0 || yy >= c.h || xx < 0 || xx >= c.w) continue
                s += x[((b * c.cin + ci) * c.h + yy) * c.w + xx] * w[((o * c.cin + ci) * c.kernel + u) * c.kernel + v]
              }
          y[((b * c.cout + o) * ho + i) * wo + j] = s
        }
  return y
}

function compare(peer, what, got, want) {
  if (got.length !== want.length) throw new PeerCheckError(`${peer} ${what}: ${got.length} outputs, expected ${want.length}`)
  let worst = 0
  let at = 0
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i]))
    if (!(err <= worst)) [worst, at] = [err, i] // NaN lands here too
  }
  if (!(worst < 1e-4)) throw new PeerCheckError(`${peer} ${what}: output ${at} is ${got[at]}, the CPU reference says ${want[at]} (relative error ${worst})`)
}

/**
 * Runs the check cases through `matmul(a, b, shape)` and `conv(x, w, conv)` (each resolving to
 * a flat Float32Array, NCHW for conv) and throws PeerCheckError on the first mismatch.
 */
export async function checkPeer(peer, { matmul, conv }) {
  for (const mm of CHECK_MATMULS) {
    const a = fill(mm.m * mm.k, 7919)
    const b = fill(mm.k * mm.n, 104729)
    compare(peer, `matmul ${mm.m}×${mm.k}×${mm.n}`, await matmul(a, b, mm), refMatmul(a, b, mm))
  }
  for (const c of CHECK_CONVS) {
    const x = fill(c.batch * c.cin * c.h * c.w, 7919)
    const w = fill(c.cout * c.cin * c.kernel ** 2, 104729)
    compare(peer, `conv2d ${c.kernel}×${c.kernel} ${c.cin}→${c.cout}`, await conv(x, w, c), refConv(x, w, c))
  }
}
