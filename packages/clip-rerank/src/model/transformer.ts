import { nn, ops, type Device, type Tensor } from '@tessera/tensor-core'

/**
 * torch.nn.MultiheadAttention's parameters and computation, batch-first: `in_proj_weight`
 * [3D, D] and `in_proj_bias` [3D] (q, k, v stacked), `out_proj` (a Linear). The attention
 * itself is tensor-core's `ops.attention`, with an optional keep-mask [L, L].
 */
export class MultiheadAttention extends nn.Module {
  readonly inProjWeight: Tensor
  readonly inProjBias: Tensor
  readonly outProj: nn.Linear

  constructor(
    device: Device,
    readonly width: number,
    readonly heads: number,
    rng: nn.HostRandom,
  ) {
    super()
    // torch's own init (xavier-uniform weights, zero biases); CLIP re-initialises the weights.
    this.inProjWeight = this.registerParameter('in_proj_weight', device.tensor(nn.init.xavierUniform([3 * width, width], rng), [3 * width, width]))
    this.inProjBias = this.registerParameter('in_proj_bias', device.tensor(new Float32Array(3 * width), [3 * width]))
    this.outProj = this.registerModule('out_proj', new nn.Linear(device, width, width, { rng }))
    this.outProj.loadStateDict({ bias: { dtype: 'f32', shape: [width], data: new Float32Array(width) } }, { strict: false })
  }

  /** x [N, L, D] → [N, L, D]. */
  forward(x: Tensor, mask?: Tensor): Tensor {
    const [n, l, d] = x.shape as [number, number, number]
    const h = this.heads
    const qkv = ops.permute(ops.reshape(ops.linear(x, this.inProjWeight, this.inProjBias), [n, l, 3, h, d / h]), [2, 0, 3, 1, 4]) // [3, N, H, L, hd]
    const part = (i: number) => ops.reshape(ops.slice(qkv, [{ start: i, end: i + 1 }]), [n, h, l, d / h])
    const out = ops.attention(part(0), part(1), part(2), { mask }) // [N, H, L, hd]
    return this.outProj.forward(ops.reshape(ops.permute(out, [0, 2, 1, 3]), [n, l, d]))
  }
}

/** CLIP's MLP: `c_fc` (D → 4D), QuickGELU, `c_proj` (4D → D). */
export class Mlp extends nn.Module {
  readonly cFc: nn.Linear
  readonly cProj: nn.Linear

  constructor(device: Device, width: number, rng: nn.HostRandom) {
    super()
    this.cFc = this.registerModule('c_fc', new nn.Linear(device, width, 4 * width, { rng }))
    this.cProj = this.registerModule('c_proj', new nn.Linear(device, 4 * width, width, { rng }))
  }

  forward(x: Tensor): Tensor {
    return this.cProj.forward(this.cFc.forward(x, 'quickGelu'))
  }
}

/** OpenAI's ResidualAttentionBlock, pre-LN: x + attn(ln_1(x)), then x + mlp(ln_2(x)). */
export class ResidualAttentionBlock extends nn.Module {
  readonly attn: MultiheadAttention
  readonly ln1: nn.LayerNorm
  readonly mlp: Mlp
  readonly ln2: nn.LayerNorm

  constructor(device: Device, width: number, heads: number, rng: nn.HostRandom) {
    super()
    this.attn = this.registerModule('attn', new MultiheadAttention(device, width, heads, rng))
    this.ln1 = this.registerModule('ln_1', new nn.LayerNorm(device, width))
    this.mlp = this.registerModule('mlp', new Mlp(device, width, rng))
    this.ln2 = this.registerModule('ln_2', new nn.LayerNorm(device, width))
  }

  forward(x: Tensor, mask?: Tensor): Tensor {
    const h = ops.add(x, this.attn.forward(this.ln1.forward(x), mask))
    return ops.add(h, this.mlp.forward(this.ln2.forward(h)))
  }
}

/** A stack of residual attention blocks registered as `resblocks.0`, `resblocks.1`, … */
export class Transformer extends nn.Module {
  readonly blocks: ResidualAttentionBlock[] = []

  constructor(
    device: Device,
    readonly width: number,
    readonly layers: number,
    readonly heads: number,
    rng: nn.HostRandom,
  ) {
    super()
    const resblocks = this.registerModule('resblocks', new nn.Module())
    for (let i = 0; i < layers; i++) this.blocks.push(resblocks.registerModule(String(i), new ResidualAttentionBlock(device, width, heads, rng)))
  }

  /** x [N, L, D] (batch-first; OpenAI's runs sequence-first, the values are the same). */
  forward(x: Tensor, mask?: Tensor): Tensor {
    let h = x
    for (const block of this.blocks) h = block.forward(h, mask)
    return h
  }

  /**
   * OpenAI's initialisation of the blocks: attention in-projection N(0, width^-½), output
   * projections N(0, width^-½·(2·layers)^-½), c_fc N(0, (2·width)^-½); biases as torch leaves them.
   */
  openaiInit(rng: nn.HostRandom): Record<string, { dtype: 'f32'; shape: number[]; data: Float32Array }> {
    const w = this.width
    const projStd = w ** -0.5 * (2 * this.layers) ** -0.5
    const out: Record<string, { dtype: 'f32'; shape: number[]; data: Float32Array }> = {}
    const normal = (shape: number[], std: number) => ({ dtype: 'f32' as const, shape, data: nn.init.normal(shape.reduce((a, b) => a * b, 1), 0, std, rng) })
    for (let i = 0; i < this.layers; i++) {
      const p = `resblocks.${i}.`
      out[`${p}attn.in_proj_weight`] = normal([3 * w, w], w ** -0.5)
      out[`${p}attn.out_proj.weight`] = normal([w, w], projStd)
      out[`${p}mlp.c_fc.weight`] = normal([4 * w, w], (2 * w) ** -0.5)
      out[`${p}mlp.c_proj.weight`] = normal([w, 4 * w], projStd)
    }
    return out
  }
}
