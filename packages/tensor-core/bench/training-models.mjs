// The two small models the training benchmark times, built from the public API.
import { nn, ops } from '../dist/index.js'

export const TRANSFORMER = { d: 128, heads: 4, t: 64, batch: 8 }
export const CONVNET = { batch: 16, size: 32, channels: [3, 32, 64], classes: 10 }

/** Pre-LN transformer block with causal attention (as in the parity test, larger). */
export class Block extends nn.Module {
  constructor(device, { d, heads, t }) {
    super()
    Object.assign(this, { d, heads, t })
    this.ln1 = this.registerModule('ln1', new nn.LayerNorm(device, d))
    this.qkv = this.registerModule('qkv', new nn.Linear(device, d, 3 * d))
    this.proj = this.registerModule('proj', new nn.Linear(device, d, d))
    this.ln2 = this.registerModule('ln2', new nn.LayerNorm(device, d))
    this.fc1 = this.registerModule('fc1', new nn.Linear(device, d, 4 * d))
    this.fc2 = this.registerModule('fc2', new nn.Linear(device, 4 * d, d))
    const mask = new Int32Array(t * t)
    for (let i = 0; i < t; i++) for (let j = 0; j <= i; j++) mask[i * t + j] = 1
    this.causal = this.registerBuffer('causal', device.tensor(mask, [t, t]))
  }

  forward(x) {
    const { d, heads, t } = this
    const b = x.shape[0]
    const hd = d / heads
    const qkv = this.qkv.forward(this.ln1.forward(x))
    const split = (i) => ops.permute(ops.reshape(ops.slice(qkv, [undefined, undefined, { start: i * d, end: (i + 1) * d }]), [b, t, heads, hd]), [0, 2, 1, 3])
    const att = ops.softmax(ops.mul(ops.matmul(split(0), split(1), { transB: true }), 1 / Math.sqrt(hd)), { mask: this.causal })
    const y = ops.reshape(ops.permute(ops.matmul(att, split(2)), [0, 2, 1, 3]), [b, t, d])
    const h = ops.add(x, this.proj.forward(y))
    return ops.add(h, this.fc2.forward(ops.gelu(this.fc1.forward(this.ln2.forward(h)))))
  }
}

/** conv3×3 → ReLU → maxpool → conv3×3 → ReLU → maxpool → linear. */
export class ConvNet extends nn.Module {
  constructor(device, { channels, size, classes }) {
    super()
    this.conv1 = this.registerModule('conv1', new nn.Conv2d(device, channels[0], channels[1], 3, { padding: 1 }))
    this.conv2 = this.registerModule('conv2', new nn.Conv2d(device, channels[1], channels[2], 3, { padding: 1 }))
    this.fc = this.registerModule('fc', new nn.Linear(device, channels[2] * (size / 4) ** 2, classes))
  }

  forward(x) {
    const h1 = ops.maxPool2d(ops.relu(this.conv1.forward(x)), { kernel: 2, stride: 2 })
    const h2 = ops.maxPool2d(ops.relu(this.conv2.forward(h1)), { kernel: 2, stride: 2 })
    return this.fc.forward(ops.reshape(h2, [x.shape[0], -1]))
  }
}
