// Kernel conformance: runs the same small programs on a device under test and on the CPU
// reference backend and reports the largest deviations. Shared by the Node adapter check
// (scripts/adapter-check.mjs) and the headless-Chromium test (test/browser.test.ts), so it
// takes the library's module namespace instead of importing it.



/** Each case builds tensors on a device and returns the outputs to compare. */
function cases(tc) {
  const { ops, nn } = tc
  const random = (n, seed, lo = -1, hi = 1) => nn.init.uniform(n, lo, hi, new nn.HostRandom(seed))
  const ints = (n, seed, hi) => Int32Array.from(random(n, seed, 0, hi), Math.floor)
  const t = (d, shape, seed) => d.tensor(random(shape.reduce((a, b) => a * b, 1), seed), shape)
  return {
    'elementwise (broadcast gelu·exp + where)': (d) => {
      const a = t(d, [3, 1, 70], 1)
      const b = t(d, [5, 1], 2)
      return [ops.where(ops.gt(a, 0), ops.gelu(ops.add(a, b)), ops.exp(ops.mul(a, b)))]
    },
    'reductions (sum, max, argmax, logsumexp)': (d) => {
      const x = t(d, [4, 300, 3], 3)
      return [ops.sum(x, 1), ops.max(x, [0, 2]), ops.argmax(x, 1), ops.logsumexp(x, -1)]
    },
    'softmax with a causal mask over heads': (d) => {
      const mask = new Int32Array(9 * 9).map((_, i) => +((i % 9) <= Math.floor(i / 9)))
      return [ops.softmax(t(d, [2, 3, 9, 9], 4), { mask: d.tensor(mask, [9, 9]) })]
    },
    layerNorm: (d) => [ops.layerNorm(t(d, [7, 129], 5), { weight: t(d, [129], 6), bias: t(d, [129], 7) })],
    'matmul (odd sizes, transposes, batch, bias+gelu)': (d) => {
      const a = t(d, [2, 37, 19], 8)
      return [
        ops.matmul(a, t(d, [19, 45], 9), { bias: t(d, [45], 10), activation: 'gelu' }),
        ops.matmul(a, a, { transB: true }),
        ops.matmul(t(d, [130, 257], 11), t(d, [257, 66], 12)),
        ops.matmul(t(d, [1, 1], 13), t(d, [1, 1], 14)),
      ]
    },
    'conv2d (3×3 pad 1, 7×7 stride 2, 1×1) + pool + upsample': (d) => {
      const x = t(d, [2, 5, 17, 13], 15)
      const y = ops.conv2d(x, t(d, [6, 5, 3, 3], 16), { bias: t(d, [6], 17), padding: 1 })
      return [
        y,
        ops.conv2d(x, t(d, [4, 5, 7, 7], 18), { stride: 2, padding: 3 }),
        ops.conv2d(x, t(d, [3, 5, 1, 1], 19)),
        ops.maxPool2d(y, { kernel: 2, stride: 2 }),
        ops.upsampleNearest2d(y, 2),
      ]
    },
    'embedding + uniform random stream': (d) => [
      ops.embedding(d.tensor(ints(11, 20, 50), [11]), t(d, [50, 8], 21)),
      ops.randomUniform(d, [1000], { seed: 7, offset: 0 }),
    ],
    // Box–Muller goes through cos/sin, which WGSL only requires to within 2^-11 absolute
    // (SwiftShader uses that freedom), so this case gets a looser tolerance.
    'normal random stream': Object.assign((d) => [ops.randomNormal(d, [1000], { seed: 7, offset: 5000 })], { tolerance: 1e-3 }),
    'backward (conv → relu → linear → mean)': (d) => {
      const x = t(d, [2, 3, 8, 8], 22)
      const w = d.tensor(random(4 * 3 * 9, 23), [4, 3, 3, 3], { requiresGrad: true })
      const fc = d.tensor(random(10 * 256, 24), [10, 256], { requiresGrad: true })
      const h = ops.reshape(ops.relu(ops.conv2d(x, w, { padding: 1 })), [2, 256])
      ops.mean(ops.square(ops.linear(h, fc))).backward()
      // Copies: the leaves (and their .grad) are freed with the tidy scope.
      return [ops.copy(w.grad), ops.copy(fc.grad)]
    },
  }
}

/**
 * Runs every case on `device` and on `reference`; returns one row per case with the largest
 * error relative to the reference output's scale.
 */
export async function runConformance(tc, device, reference, tolerance = 1e-4) {
  const rows = []
  for (const [name, build] of Object.entries(cases(tc))) {
    let worst = 0
    let error = null
    try {
      const got = tc.tidy(() => build(device)).map((x) => x.keep())
      const want = tc.tidy(() => build(reference)).map((x) => x.keep())
      for (let i = 0; i < want.length; i++) {
        const [g, w] = [await got[i].read(), await want[i].read()]
        if (g.length !== w.length) throw new Error(`output ${i}: ${g.length} values, expected ${w.length}`)
        const scale = Math.max(1e-6, ...Array.from(w, Math.abs))
        for (let k = 0; k < w.length; k++) worst = Math.max(worst, Math.abs(g[k] - w[k]) / scale)
      }
      ;[...got, ...want].forEach((x) => x.dispose())
    } catch (e) {
      error = String(e?.message ?? e).split('\n')[0]
    }
    rows.push({ name, maxScaledError: worst, ok: !error && worst <= (build.tolerance ?? tolerance), error })
  }
  return rows
}
