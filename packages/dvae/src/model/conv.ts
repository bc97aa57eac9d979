import { nn, ops, type Device, type Tensor } from '@tessera/tensor-core'

/**
 * dall_e.utils.Conv2d: square kernel, 'same' padding, parameters named `w` [out, in, k, k]
 * and `b` [out] as in OpenAI's checkpoints. Init as theirs: w ~ N(0, 1/(in·k²)), b = 0.
 */
export class Conv2d extends nn.Module {
  readonly w: Tensor
  readonly b: Tensor

  constructor(
    device: Device,
    readonly nIn: number,
    readonly nOut: number,
    readonly kw: number,
    rng: nn.HostRandom,
  ) {
    super()
    const std = 1 / Math.sqrt(nIn * kw * kw)
    const w = new Float32Array(nOut * nIn * kw * kw)
    for (let i = 0; i < w.length; i++) w[i] = std * rng.normal()
    this.w = this.registerParameter('w', device.tensor(w, [nOut, nIn, kw, kw]))
    this.b = this.registerParameter('b', device.tensor(new Float32Array(nOut), [nOut]))
  }

  /** Convolution, with an activation applied to the output (fused into the kernel when no gradient is taken). */
  forward(x: Tensor, activation: 'none' | 'relu' = 'none'): Tensor {
    return ops.conv2d(x, this.w, { bias: this.b, padding: (this.kw - 1) / 2, activation })
  }
}
