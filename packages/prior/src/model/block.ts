import { nn, ops, type Device, type Tensor } from '@tessera/tensor-core'

/** Keys and values of one layer for the positions already run, [N, heads, P, headDim] each. */
export interface LayerCache {
  k: Tensor
  v: Tensor
}

/** Multi-head self-attention with one fused q/k/v projection (`qkv`: q, k, v along its output). */
export class SelfAttention extends nn.Module {
  readonly qkv: nn.Linear
  readonly proj: nn.Linear

  constructor(
    device: Device,
    readonly width: number,
    readonly heads: number,
  ) {
    super()
    this.qkv = this.registerModule('qkv', new nn.Linear(device, width, 3 * width))
    this.proj = this.registerModule('proj', new nn.Linear(device, width, width))
  }

  /**
   * x [N, P, D] at P new positions; `mask` i32 [P, past + P] says which keys each may see.
   * With a cache, the keys and values of the past positions come from it; the returned cache
   * holds past + new.
   */
  forward(x: Tensor, mask: Tensor, cache?: LayerCache): { y: Tensor; cache: LayerCache } {
    const [n, p] = x.shape as [number, number, number]
    const hd = this.width / this.heads
    // [N, P, 3, h, hd] → [3, N, h, P, hd]: q, k and v each [N, h, P, hd], heads contiguous.
    const qkv = ops.permute(ops.reshape(this.qkv.forward(x), [n, p, 3, this.heads, hd]), [2, 0, 3, 1, 4])
    const part = (i: number) => ops.reshape(ops.slice(qkv, [{ start: i, end: i + 1 }]), [n, this.heads, p, hd])
    const q = part(0)
    let k = part(1)
    let v = part(2)
    if (cache) {
      k = ops.concat([cache.k, k], 2)
      v = ops.concat([cache.v, v], 2)
    }
    const out = ops.attention(q, k, v, { mask })
    const merged = ops.reshape(ops.permute(out, [0, 2, 1, 3]), [n, p, this.width])
    return { y: this.proj.forward(merged), cache: { k, v } }
  }
}

/** Linear → exact GELU → Linear. */
export class Mlp extends nn.Module {
  readonly fc: nn.Linear
  readonly proj: nn.Linear

  constructor(device: Device, width: number, hidden: number) {
    super()
    this.fc = this.registerModule('fc', new nn.Linear(device, width, hidden))
    this.proj = this.registerModule('proj', new nn.Linear(device, hidden, width))
  }

  forward(x: Tensor): Tensor {
    return this.proj.forward(ops.gelu(this.fc.forward(x), { approximate: 'none' }))
  }
}

/** Pre-LN transformer block: x + attn(ln_1(x)), then + mlp(ln_2(x)). */
export class Block extends nn.Module {
  readonly ln_1: nn.LayerNorm
  readonly attn: SelfAttention
  readonly ln_2: nn.LayerNorm
  readonly mlp: Mlp

  constructor(
    device: Device,
    width: number,
    heads: number,
    ffMult: number,
    readonly dropout: number,
  ) {
    super()
    this.ln_1 = this.registerModule('ln_1', new nn.LayerNorm(device, width))
    this.attn = this.registerModule('attn', new SelfAttention(device, width, heads))
    this.ln_2 = this.registerModule('ln_2', new nn.LayerNorm(device, width))
    this.mlp = this.registerModule('mlp', new Mlp(device, width, ffMult * width))
  }

  forward(x: Tensor, mask: Tensor, cache?: LayerCache): { y: Tensor; cache: LayerCache } {
    const drop = (t: Tensor) => (this.training && this.dropout > 0 ? ops.dropout(t, this.dropout) : t)
    const attn = this.attn.forward(this.ln_1.forward(x), mask, cache)
    const h = ops.add(x, drop(attn.y))
    return { y: ops.add(h, drop(this.mlp.forward(this.ln_2.forward(h)))), cache: attn.cache }
  }
}
