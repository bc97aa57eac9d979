import type { DType } from '../dtype.js'
import type { Kernel, UniformType } from '../kernel.js'

/**
 * Fused scaled dot-product attention: one forward kernel (online softmax over the keys,
 * writing the output and each row's logsumexp) and two backward kernels, flash-attention-2
 * style: `attention.dq` (one invocation per query: dq and Δ = rowsum(dout ⊙ out)) and
 * `attention.dkdv` (one invocation per key). The L×L scores never reach memory.
 *
 * Layout: an invocation owns one row (a query, or a key in `dkdv`) and keeps it and its
 * accumulators in private vec4 arrays, and walks the other side 4 rows at a time (one mask
 * test, one max and one rescale per 4 keys). Loops over the head dim run to a uniform bound
 * (`u.d4`), not the array's constant length: on lavapipe LLVM unrolled the constant-bound
 * loops and took 40 s to compile the d = 64 forward, 0.4 s this way. A workgroup's rows share
 * one batch element, so the rows it streams through (keys and values, or queries and output
 * gradients in `dkdv`) sit at workgroup-uniform addresses. On software adapters (lavapipe)
 * those are single scalar loads broadcast to the SIMD lanes, where per-lane addresses would
 * be a scalar loop per lane; on GPUs they are broadcast loads from cache. The only per-lane
 * loads inside the loops are the keep-mask's, packed to bits (`attention.packMask`): one u32
 * per 32 keys.
 *
 * Allowed keys: `causal` (key j allowed for query i iff j <= i + Lk − Lq, so a decode step's
 * single query sees the whole cache) and the packed keep-mask, both optional and combinable.
 * A query with no allowed key gets zeros and passes no gradient.
 */
export interface AttentionParams {
  dtype: DType
  lq: number
  lk: number
  /** Head dims of q/k and of v. */
  d: number
  dv: number
  scale: number
  causal: boolean
  /** A packed keep-mask is bound (see AttentionMaskPackParams). */
  masked: boolean
  /** Batch dims of the output after merging, and each operand's stride over them, in matrices (0 = broadcast). */
  batchDims: readonly number[]
  qStrides: readonly number[]
  kStrides: readonly number[]
  vStrides: readonly number[]
  maskStrides: readonly number[]
  /** Rows (queries, or keys in `dkdv`) per workgroup. */
  rows: number
}

const LOWEST = '-3.4028234663852886e38'
const LOWEST_F = -3.4028234663852886e38

const d4 = (n: number) => Math.max(1, Math.ceil(n / 4))
/** Heads whose width is a multiple of 4 bind q/k/v as vec4 arrays: one 16-byte load per vec4. */
const vec4Of = (p: AttentionParams) => p.d % 4 === 0 && p.dv % 4 === 0
const batchOf = (p: AttentionParams) => p.batchDims.reduce((a, b) => a * b, 1)

const attentionKey = (p: AttentionParams) =>
  `${p.dtype}|${d4(p.d)}|${d4(p.dv)}|${+vec4Of(p)}|${+p.causal}|${+p.masked}|${p.batchDims.length}|${p.rows}`

function uniformDecls(p: AttentionParams): { name: string; type: UniformType }[] {
  return [
    ...(['batch', 'lq', 'lk', 'd', 'dv', 'mw', 'mwt', 'd4', 'dv4'] as const).map((name) => ({ name, type: 'u32' as const })),
    { name: 'scale', type: 'f32' as const },
    ...p.batchDims.flatMap((_, i) => ['dim', 'qs', 'ks', 'vs', 'ms', 'mts'].map((f) => ({ name: `${f}${i}`, type: 'u32' as const }))),
  ]
}

/** Words per packed mask row: keys per query (and, transposed, queries per key). */
export const maskWords = (n: number) => Math.ceil(n / 32)

function attentionUniforms(p: AttentionParams): number[] {
  const [mw, mwt] = [maskWords(p.lk), maskWords(p.lq)]
  return [
    batchOf(p), p.lq, p.lk, p.d, p.dv, mw, mwt, d4(p.d), d4(p.dv), p.scale,
    ...p.batchDims.flatMap((dim, i) => [
      dim,
      p.qStrides[i]! * p.lq * p.d,
      p.kStrides[i]! * p.lk * p.d,
      p.vStrides[i]! * p.lk * p.dv,
      p.maskStrides[i]! * p.lq * mw,
      p.maskStrides[i]! * p.lk * mwt,
    ]),
  ]
}

/** WGSL: `b` from the workgroup index and each operand's offset for it (qo, ko, vo, mo, mto). */
function batchOffsetsWgsl(p: AttentionParams, rowsPerBatch: string): string {
  let s = `  let nblk = (${rowsPerBatch} + ${p.rows - 1}u) / ${p.rows}u;
  let b = wg / nblk;
  if (b >= u.batch) { return; }
  let r0 = (wg % nblk) * ${p.rows}u;
  var rem = b;
  var qo = 0u; var ko = 0u; var vo = 0u; var mo = 0u; var mto = 0u;\n`
  for (let i = p.batchDims.length - 1; i >= 0; i--) {
    s += `  { let c = rem % u.dim${i}; rem = rem / u.dim${i}; qo += c * u.qs${i}; ko += c * u.ks${i}; vo += c * u.vs${i}; mo += c * u.ms${i}; mto += c * u.mts${i}; }\n`
  }
  return s
}

/** Module WGSL: `ld_X(rowOffset, c)` reads vec4 c of a row as f32; `st_X` writes one. */
function accessorsWgsl(p: AttentionParams, reads: [string, 'd' | 'dv'][], writes: [string, 'd' | 'dv'][]): string {
  const v4 = vec4Of(p)
  const ld = ([name, n]: [string, string]) =>
    v4
      ? `fn ld_${name}(o: u32, c: u32) -> vec4<f32> { return vec4<f32>(${name}[(o >> 2u) + c]); }`
      : `fn ld_${name}(o: u32, c: u32) -> vec4<f32> {
  var r = vec4<f32>(0.0);
  for (var t = 0u; t < 4u; t++) { if (c * 4u + t < u.${n}) { r[t] = f32(${name}[o + c * 4u + t]); } }
  return r;
}`
  const st = ([name, n]: [string, string]) =>
    v4
      ? `fn st_${name}(o: u32, c: u32, x: vec4<f32>) { ${name}[(o >> 2u) + c] = vec4<${p.dtype}>(x); }`
      : `fn st_${name}(o: u32, c: u32, x: vec4<f32>) {
  for (var t = 0u; t < 4u; t++) { if (c * 4u + t < u.${n}) { ${name}[o + c * 4u + t] = ${p.dtype}(x[t]); } }
}`
  return [`const LOWEST = ${LOWEST};\nconst D4 = ${d4(p.d)}u;\nconst DV4 = ${d4(p.dv)}u;`, ...reads.map(ld), ...writes.map(st)].join('\n')
}

const vecBinding = (p: AttentionParams, name: string) => ({ name, dtype: p.dtype, ...(vec4Of(p) ? { vec4: true as const } : {}) })

/**
 * The chunk of 4 keys j0..j0+3 seen from query `i` (query-major kernels): `ok` holds which
 * are allowed. `word` is the query's current packed mask word (reloaded every 32 keys).
 */
function keyChunkOkWgsl(p: AttentionParams): string {
  let s = '    var ok = vec4<u32>(j0) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(u.lk);\n'
  if (p.causal) s += '    ok = ok & (vec4<i32>(i32(j0)) + vec4<i32>(0, 1, 2, 3) <= vec4<i32>(i32(i) + off));\n'
  if (p.masked) {
    s += `    if ((j0 & 31u) == 0u) { word = pm[mrow + (j0 >> 5u)]; }
    ok = ok & (((vec4<u32>(word >> (j0 & 31u)) >> vec4<u32>(0u, 1u, 2u, 3u)) & vec4<u32>(1u)) != vec4<u32>(0u));\n`
  }
  return s
}

/** Query-major kernels: the keys the workgroup's queries may reach (causal: up to the last query's limit). */
function keyRangeWgsl(p: AttentionParams): string {
  let s = ''
  if (p.causal) {
    s += `  let off = i32(u.lk) - i32(u.lq);
  let jEnd = u32(clamp(i32(min(r0 + ${p.rows}u, u.lq)) + off, 0, i32(u.lk)));\n`
  } else s += '  let jEnd = u.lk;\n'
  if (p.masked) s += '  let mrow = mo + iq * u.mw;\n  var word = 0u;\n'
  return s
}

const maskBinding = (p: AttentionParams) => (p.masked ? [{ name: 'pm', dtype: 'u32' as const }] : [])

/** Row offsets of the batch element `b` (the CPU twin of batchOffsetsWgsl), in elements/words. */
function cpuOffsets(p: AttentionParams, b: number): { q: number; k: number; v: number; m: number; mt: number } {
  const u = attentionUniforms(p)
  const o = { q: 0, k: 0, v: 0, m: 0, mt: 0 }
  let rem = b
  for (let i = p.batchDims.length - 1; i >= 0; i--) {
    const f = 10 + i * 6
    const c = rem % u[f]!
    rem = Math.floor(rem / u[f]!)
    o.q += c * u[f + 1]!
    o.k += c * u[f + 2]!
    o.v += c * u[f + 3]!
    o.m += c * u[f + 4]!
    o.mt += c * u[f + 5]!
  }
  return o
}

/**
 * Whether query i may attend key j (the CPU twin of the WGSL tests): causal, and the packed
 * mask's bit, read from the row-major packing at offset `mo` or, `transposed`, from the
 * key-major one.
 */
function cpuAllowed(p: AttentionParams, pm: ArrayLike<number> | undefined, mo: number, i: number, j: number, transposed = false): boolean {
  if (p.causal && j > i + p.lk - p.lq) return false
  if (!p.masked) return true
  const word = transposed ? pm![mo + j * maskWords(p.lq) + (i >> 5)]! >>> (i & 31) : pm![mo + i * maskWords(p.lk) + (j >> 5)]! >>> (j & 31)
  return (word & 1) === 1
}

const dot = (a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, n: number) => {
  let s = 0
  for (let c = 0; c < n; c++) s += a[ao + c]! * b[bo + c]!
  return s
}

export const attentionForwardKernel: Kernel<AttentionParams> = {
  name: 'attention.forward',
  key: attentionKey,
  shader(p) {
    return {
      inputs: [vecBinding(p, 'q'), vecBinding(p, 'k'), vecBinding(p, 'v'), ...maskBinding(p)],
      outputs: [vecBinding(p, 'out'), { name: 'lse', dtype: 'f32' }],
      uniforms: uniformDecls(p),
      workgroupSize: p.rows,
      module: accessorsWgsl(p, [['q', 'd'], ['k', 'd'], ['v', 'dv']], [['out', 'dv']]),
      body: `${batchOffsetsWgsl(p, 'u.lq')}  let i = r0 + lidx;
  let iq = min(i, u.lq - 1u);
  let qrow = qo + iq * u.d;
  var qr: array<vec4<f32>, D4>;
  for (var c = 0u; c < u.d4; c++) { qr[c] = ld_q(qrow, c) * u.scale; }
  var acc: array<vec4<f32>, DV4>;
  var m = LOWEST;
  var l = 0.0;
${keyRangeWgsl(p)}  for (var j0 = 0u; j0 < jEnd; j0 += 4u) {
${keyChunkOkWgsl(p)}    let jj = min(vec4<u32>(j0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(u.lk - 1u));
    let kr = vec4<u32>(ko) + jj * u.d;
    var s = vec4<f32>(0.0);
    for (var c = 0u; c < u.d4; c++) {
      let qc = qr[c];
      s += vec4<f32>(dot(qc, ld_k(kr.x, c)), dot(qc, ld_k(kr.y, c)), dot(qc, ld_k(kr.z, c)), dot(qc, ld_k(kr.w, c)));
    }
    let sm = select(vec4<f32>(LOWEST), s, ok);
    let mNew = max(m, max(max(sm.x, sm.y), max(sm.z, sm.w)));
    let corr = exp(m - mNew);
    let pr = select(vec4<f32>(0.0), exp(s - mNew), ok);
    l = l * corr + (pr.x + pr.y + pr.z + pr.w);
    m = mNew;
    let vr = vec4<u32>(vo) + jj * u.dv;
    for (var c = 0u; c < u.dv4; c++) {
      acc[c] = acc[c] * corr + pr.x * ld_v(vr.x, c) + pr.y * ld_v(vr.y, c) + pr.z * ld_v(vr.z, c) + pr.w * ld_v(vr.w, c);
    }
  }
  if (i < u.lq) {
    let inv = select(0.0, 1.0 / l, l > 0.0);
    let orow = (b * u.lq + i) * u.dv;
    for (var c = 0u; c < u.dv4; c++) { st_out(orow, c, acc[c] * inv); }
    lse[b * u.lq + i] = select(LOWEST, m + log(l), l > 0.0);
  }`,
    }
  },
  uniforms: attentionUniforms,
  workgroups: (p) => batchOf(p) * Math.ceil(p.lq / p.rows),
  cpu(p, [q, k, v, pm], [out, lse]) {
    const s = new Float64Array(p.lk)
    for (let b = 0; b < batchOf(p); b++) {
      const o = cpuOffsets(p, b)
      for (let i = 0; i < p.lq; i++) {
        let m = -Infinity
        for (let j = 0; j < p.lk; j++) {
          s[j] = cpuAllowed(p, pm, o.m, i, j) ? p.scale * dot(q!, o.q + i * p.d, k!, o.k + j * p.d, p.d) : -Infinity
          m = Math.max(m, s[j]!)
        }
        let l = 0
        for (let j = 0; j < p.lk; j++) l += s[j] === -Infinity ? 0 : Math.exp(s[j]! - m)
        const row = (b * p.lq + i) * p.dv
        for (let c = 0; c < p.dv; c++) {
          let acc = 0
          for (let j = 0; j < p.lk; j++) if (s[j] !== -Infinity) acc += Math.exp(s[j]! - m) * v![o.v + j * p.dv + c]!
          out![row + c] = l > 0 ? acc / l : 0
        }
        lse![b * p.lq + i] = l > 0 ? m + Math.log(l) : LOWEST_F
      }
    }
  },
}

/**
 * Backward, query-major: dq = scale·Σ_j ds_ij k_j with p_ij = exp(scale·q_i·k_j − lse_i) and
 * ds_ij = p_ij (dout_i·v_j − Δ_i), Δ_i = dout_i·out_i (also written out for `dkdv`).
 */
export const attentionDqKernel: Kernel<AttentionParams> = {
  name: 'attention.dq',
  key: attentionKey,
  shader(p) {
    return {
      inputs: [vecBinding(p, 'q'), vecBinding(p, 'k'), vecBinding(p, 'v'), vecBinding(p, 'out'), vecBinding(p, 'dout'), { name: 'lse', dtype: 'f32' }, ...maskBinding(p)],
      outputs: [vecBinding(p, 'dq'), { name: 'delta', dtype: 'f32' }],
      uniforms: uniformDecls(p),
      workgroupSize: p.rows,
      module: accessorsWgsl(p, [['q', 'd'], ['k', 'd'], ['v', 'dv'], ['out', 'dv'], ['dout', 'dv']], [['dq', 'd']]),
      body: `${batchOffsetsWgsl(p, 'u.lq')}  let i = r0 + lidx;
  let iq = min(i, u.lq - 1u);
  let qrow = qo + iq * u.d;
  let orow = (b * u.lq + iq) * u.dv;
  var qr: array<vec4<f32>, D4>;
  for (var c = 0u; c < u.d4; c++) { qr[c] = ld_q(qrow, c) * u.scale; }
  var gr: array<vec4<f32>, DV4>;
  var delta_i = 0.0;
  for (var c = 0u; c < u.dv4; c++) { gr[c] = ld_dout(orow, c); delta_i += dot(gr[c], ld_out(orow, c)); }
  let lse_i = lse[b * u.lq + iq];
  var dqr: array<vec4<f32>, D4>;
${keyRangeWgsl(p)}  for (var j0 = 0u; j0 < jEnd; j0 += 4u) {
${keyChunkOkWgsl(p)}    let jj = min(vec4<u32>(j0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(u.lk - 1u));
    let kr = vec4<u32>(ko) + jj * u.d;
    let vr = vec4<u32>(vo) + jj * u.dv;
    var s = vec4<f32>(0.0);
    for (var c = 0u; c < u.d4; c++) {
      let qc = qr[c];
      s += vec4<f32>(dot(qc, ld_k(kr.x, c)), dot(qc, ld_k(kr.y, c)), dot(qc, ld_k(kr.z, c)), dot(qc, ld_k(kr.w, c)));
    }
    var dp = vec4<f32>(0.0);
    for (var c = 0u; c < u.dv4; c++) {
      let gc = gr[c];
      dp += vec4<f32>(dot(gc, ld_v(vr.x, c)), dot(gc, ld_v(vr.y, c)), dot(gc, ld_v(vr.z, c)), dot(gc, ld_v(vr.w, c)));
    }
    let pr = select(vec4<f32>(0.0), exp(s - lse_i), ok);
    let ds = pr * (dp - delta_i);
    for (var c = 0u; c < u.d4; c++) {
      dqr[c] += ds.x * ld_k(kr.x, c) + ds.y * ld_k(kr.y, c) + ds.z * ld_k(kr.z, c) + ds.w * ld_k(kr.w, c);
    }
  }
  if (i < u.lq) {
    let qout = (b * u.lq + i) * u.d;
    for (var c = 0u; c < u.d4; c++) { st_dq(qout, c, dqr[c] * u.scale); }
    delta[b * u.lq + i] = delta_i;
  }`,
    }
  },
  uniforms: attentionUniforms,
  workgroups: (p) => batchOf(p) * Math.ceil(p.lq / p.rows),
  cpu(p, [q, k, v, out, dout, lse, pm], [dq, delta]) {
    for (let b = 0; b < batchOf(p); b++) {
      const o = cpuOffsets(p, b)
      for (let i = 0; i < p.lq; i++) {
        const row = b * p.lq + i
        const delta_i = dot(dout!, row * p.dv, out!, row * p.dv, p.dv)
        const acc = new Float64Array(p.d)
        for (let j = 0; j < p.lk; j++) {
          if (!cpuAllowed(p, pm, o.m, i, j)) continue
          const pij = Math.exp(p.scale * dot(q!, o.q + i * p.d, k!, o.k + j * p.d, p.d) - lse![row]!)
          const ds = pij * (dot(dout!, row * p.dv, v!, o.v + j * p.dv, p.dv) - delta_i)
          for (let c = 0; c < p.d; c++) acc[c]! += ds * k![o.k + j * p.d + c]!
        }
        for (let c = 0; c < p.d; c++) dq![row * p.d + c] = p.scale * acc[c]!
        delta![row] = delta_i
      }
    }
  },
}

/**
 * Backward, key-major: dv_j = Σ_i p_ij dout_i and dk_j = scale·Σ_i ds_ij q_i, looping over the
 * queries (causal: from the first that reaches the workgroup's first key). The keep-mask
 * comes packed transposed: one u32 per 32 queries of a key.
 */
export const attentionDkDvKernel: Kernel<AttentionParams> = {
  name: 'attention.dkdv',
  key: attentionKey,
  shader(p) {
    // Queries in chunks of 4 from a multiple of 4, so a chunk never straddles a mask word.
    let iStart = '  let iStart = 0u;\n'
    if (p.causal) iStart = `  let off = i32(u.lk) - i32(u.lq);\n  let iStart = u32(clamp(i32(r0) - off, 0, i32(u.lq))) & ~3u;\n`
    let ok = '    var ok = vec4<u32>(i0) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(u.lq);\n'
    if (p.causal) ok += '    ok = ok & (vec4<i32>(i32(j)) <= vec4<i32>(i32(i0)) + vec4<i32>(0, 1, 2, 3) + off);\n'
    if (p.masked) {
      ok += `    if (i0 == iStart || (i0 & 31u) == 0u) { word = pm[mrow + (i0 >> 5u)]; }
    ok = ok & (((vec4<u32>(word >> (i0 & 31u)) >> vec4<u32>(0u, 1u, 2u, 3u)) & vec4<u32>(1u)) != vec4<u32>(0u));\n`
    }
    return {
      inputs: [vecBinding(p, 'q'), vecBinding(p, 'k'), vecBinding(p, 'v'), vecBinding(p, 'dout'), { name: 'lse', dtype: 'f32' }, { name: 'delta', dtype: 'f32' }, ...maskBinding(p)],
      outputs: [vecBinding(p, 'dk'), vecBinding(p, 'dvo')],
      uniforms: uniformDecls(p),
      workgroupSize: p.rows,
      module: accessorsWgsl(p, [['q', 'd'], ['k', 'd'], ['v', 'dv'], ['dout', 'dv']], [['dk', 'd'], ['dvo', 'dv']]),
      body: `${batchOffsetsWgsl(p, 'u.lk')}  let j = r0 + lidx;
  let jk = min(j, u.lk - 1u);
  var kr: array<vec4<f32>, D4>;
  for (var c = 0u; c < u.d4; c++) { kr[c] = ld_k(ko + jk * u.d, c) * u.scale; }
  var vr: array<vec4<f32>, DV4>;
  for (var c = 0u; c < u.dv4; c++) { vr[c] = ld_v(vo + jk * u.dv, c); }
  var dkr: array<vec4<f32>, D4>;
  var dvr: array<vec4<f32>, DV4>;
${iStart}${p.masked ? '  let mrow = mto + jk * u.mwt;\n  var word = 0u;\n' : ''}  for (var i0 = iStart; i0 < u.lq; i0 += 4u) {
${ok}    let ii = min(vec4<u32>(i0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(u.lq - 1u));
    let qr = vec4<u32>(qo) + ii * u.d;
    let rr = vec4<u32>(b * u.lq) + ii;
    let gr = rr * u.dv;
    var s = vec4<f32>(0.0);
    for (var c = 0u; c < u.d4; c++) {
      let kc = kr[c];
      s += vec4<f32>(dot(ld_q(qr.x, c), kc), dot(ld_q(qr.y, c), kc), dot(ld_q(qr.z, c), kc), dot(ld_q(qr.w, c), kc));
    }
    let pr = select(vec4<f32>(0.0), exp(s - vec4<f32>(lse[rr.x], lse[rr.y], lse[rr.z], lse[rr.w])), ok);
    var dp = vec4<f32>(0.0);
    for (var c = 0u; c < u.dv4; c++) {
      let g0 = ld_dout(gr.x, c); let g1 = ld_dout(gr.y, c); let g2 = ld_dout(gr.z, c); let g3 = ld_dout(gr.w, c);
      dvr[c] += pr.x * g0 + pr.y * g1 + pr.z * g2 + pr.w * g3;
      let vc = vr[c];
      dp += vec4<f32>(dot(g0, vc), dot(g1, vc), dot(g2, vc), dot(g3, vc));
    }
    let ds = pr * (dp - vec4<f32>(delta[rr.x], delta[rr.y], delta[rr.z], delta[rr.w]));
    for (var c = 0u; c < u.d4; c++) {
      dkr[c] += ds.x * ld_q(qr.x, c) + ds.y * ld_q(qr.y, c) + ds.z * ld_q(qr.z, c) + ds.w * ld_q(qr.w, c);
    }
  }
  if (j < u.lk) {
    let krow = (b * u.lk + j) * u.d;
    let vrow = (b * u.lk + j) * u.dv;
    for (var c = 0u; c < u.d4; c++) { st_dk(krow, c, dkr[c] * u.scale); }
    for (var c = 0u; c < u.dv4; c++) { st_dvo(vrow, c, dvr[c]); }
  }`,
    }
  },
  uniforms: attentionUniforms,
  workgroups: (p) => batchOf(p) * Math.ceil(p.lk / p.rows),
  cpu(p, [q, k, v, dout, lse, delta, pm], [dk, dvo]) {
    for (let b = 0; b < batchOf(p); b++) {
      const o = cpuOffsets(p, b)
      for (let j = 0; j < p.lk; j++) {
        const gk = new Float64Array(p.d)
        const gv = new Float64Array(p.dv)
        for (let i = 0; i < p.lq; i++) {
          if (!cpuAllowed(p, pm, o.mt, i, j, true)) continue
          const row = b * p.lq + i
          const pij = Math.exp(p.scale * dot(q!, o.q + i * p.d, k!, o.k + j * p.d, p.d) - lse![row]!)
          const ds = pij * (dot(dout!, row * p.dv, v!, o.v + j * p.dv, p.dv) - delta![row]!)
          for (let c = 0; c < p.dv; c++) gv[c]! += pij * dout![row * p.dv + c]!
          for (let c = 0; c < p.d; c++) gk[c]! += ds * q![o.q + i * p.d + c]!
        }
        for (let c = 0; c < p.d; c++) dk![(b * p.lk + j) * p.d + c] = p.scale * gk[c]!
        for (let c = 0; c < p.dv; c++) dvo![(b * p.lk + j) * p.dv + c] = gv[c]!
      }
    }
  },
}

/**
 * Packs an i32/u32 keep-mask (nonzero = allowed) to bits: `count` words, word w of row r of
 * mask batch element z holds bits (r, w·32 + t) for t < 32, read from
 * `mask[z·batchStride + r·rowStride + bit·bitStride]`. Row-major (rows = queries, bits = keys)
 * for the query-major kernels; transposed (rows = keys) for `dkdv`. Strides of 0 broadcast.
 */
export interface AttentionMaskPackParams {
  maskDtype: DType
  batch: number
  rows: number
  bits: number
  batchStride: number
  rowStride: number
  bitStride: number
}

const PACK_WG = 64

export const attentionMaskPackKernel: Kernel<AttentionMaskPackParams> = {
  name: 'attention.packMask',
  key: (p) => p.maskDtype,
  shader: (p) => ({
    inputs: [{ name: 'mask', dtype: p.maskDtype }],
    outputs: [{ name: 'pm', dtype: 'u32' }],
    uniforms: ['count', 'rows', 'bits', 'words', 'batchStride', 'rowStride', 'bitStride'].map((name) => ({ name, type: 'u32' as const })),
    workgroupSize: PACK_WG,
    body: `  let o = wg * ${PACK_WG}u + lidx;
  if (o >= u.count) { return; }
  let w = o % u.words;
  let r = (o / u.words) % u.rows;
  let z = o / (u.words * u.rows);
  let base = z * u.batchStride + r * u.rowStride;
  var word = 0u;
  for (var t = 0u; t < 32u; t++) {
    let bit = w * 32u + t;
    if (bit < u.bits && mask[base + bit * u.bitStride] != ${p.maskDtype}(0)) { word |= 1u << t; }
  }
  pm[o] = word;`,
  }),
  uniforms: (p) => [p.batch * p.rows * maskWords(p.bits), p.rows, p.bits, maskWords(p.bits), p.batchStride, p.rowStride, p.bitStride],
  workgroups: (p) => Math.ceil((p.batch * p.rows * maskWords(p.bits)) / PACK_WG),
  cpu(p, [mask], [pm]) {
    const words = maskWords(p.bits)
    for (let z = 0; z < p.batch; z++)
      for (let r = 0; r < p.rows; r++)
        for (let w = 0; w < words; w++) {
          let word = 0
          for (let t = 0; t < 32 && w * 32 + t < p.bits; t++) if (mask![z * p.batchStride + r * p.rowStride + (w * 32 + t) * p.bitStride] !== 0) word |= 1 << t
          pm![(z * p.rows + r) * words + w] = word >>> 0
        }
  },
}
