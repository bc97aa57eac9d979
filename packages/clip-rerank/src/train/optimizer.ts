import { optim, type Tensor } from '@tessera/tensor-core'

type Update = readonly { name: string; param: Tensor; grad: Tensor }[]

/**
 * AdamW that decays only the weights open_clip's recipe decays: tensors of rank ≥ 2 (matrices,
 * convolution kernels, embeddings), not gains, biases, the class token or logit_scale
 * (decaying logit_scale would pull the temperature back every step). Same state
 * ('adamw' kind, exp_avg/exp_avg_sq slots) as tensor-core's AdamW; two foreach passes per step.
 */
export class GroupedAdamW extends optim.AdamW {
  private readonly decayed: ReadonlySet<string>

  constructor(params: optim.NamedParameters & readonly (readonly [string, { rank: number }])[], opts: optim.AdamWOptions & { exclude?: (name: string, rank: number) => boolean }) {
    super(params, opts)
    const exclude = opts.exclude ?? excludeFromDecay
    this.decayed = new Set(params.filter(([name, t]) => !exclude(name, t.rank)).map(([name]) => name))
  }

  protected override update(params: Update, lr: number, gradScale: number): void {
    const decay = params.filter((p) => this.decayed.has(p.name))
    const rest = params.filter((p) => !this.decayed.has(p.name))
    if (decay.length) super.update(decay, lr, gradScale)
    if (rest.length) {
      const self = this as unknown as { weightDecay: number }
      const wd = self.weightDecay
      self.weightDecay = 0
      try {
        super.update(rest, lr, gradScale)
      } finally {
        self.weightDecay = wd
      }
    }
  }
}

/** open_clip's rule: no decay for tensors of rank < 2 or named like a norm, a bias or logit_scale. */
export function excludeFromDecay(name: string, rank: number): boolean {
  return rank < 2 || /(^|\.)(ln|bn)_|bias|logit_scale/.test(name)
}
