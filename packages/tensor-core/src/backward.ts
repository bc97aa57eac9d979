import { AutogradError, noGrad } from './autograd.js'
import { onesLike } from './ops/creation.js'
import { add, copy } from './ops/elementwise.js'
import { keep, tidy } from './scope.js'
import { fmt, shapesEqual } from './shape.js'
import type { Tensor } from './tensor.js'

/**
 * Reverse-mode accumulation from `root`. Leaf tensors that require grad receive (or add to)
 * `.grad`; intermediate gradients are freed as soon as they are consumed, and the graph is
 * released afterwards unless `retainGraph`.
 */
export function backward(root: Tensor, grad?: Tensor, opts: { retainGraph?: boolean } = {}): void {
  if (!root.requiresGrad) throw new AutogradError('backward() on a tensor that does not require grad: no input of its graph has requiresGrad')
  if (!grad && root.size !== 1) throw new AutogradError(`backward() without a gradient needs a one-element tensor, got ${fmt(root.shape)}`)
  if (grad && !shapesEqual(grad.shape, root.shape)) throw new AutogradError(`gradient shape ${fmt(grad.shape)} does not match ${fmt(root.shape)}`)
  const order = topologicalOrder(root)
  noGrad(() =>
    tidy(() => {
      // Backward functions may pass their incoming gradient through unchanged (add, reshape),
      // so one tensor can be held for several inputs: count holders before freeing anything.
      const grads = new Map<Tensor, Tensor>()
      const holders = new Map<Tensor, number>()
      const hold = (t: Tensor, g: Tensor) => {
        grads.set(t, g)
        holders.set(g, (holders.get(g) ?? 0) + 1)
      }
      const drop = (g: Tensor) => {
        const n = holders.get(g)! - 1
        holders.set(g, n)
        if (n === 0 && g !== grad) g.dispose()
      }
      hold(root, grad ?? onesLike(root))
      for (let i = order.length - 1; i >= 0; i--) {
        const t = order[i]!
        const g = grads.get(t)
        if (!g) continue
        grads.delete(t)
        if (!t.node) {
          // The leaf takes ownership of its gradient; a shared one is copied first.
          const shared = holders.get(g)! > 1 || g === grad
          if (shared) {
            accumulateLeaf(t, copy(g))
            drop(g)
          } else {
            holders.set(g, 0)
            accumulateLeaf(t, g)
          }
          continue
        }
        const inputGrads = t.node.backward(g)
        t.node.inputs.forEach((input, k) => {
          const gi = inputGrads[k]
          if (!gi || !input.requiresGrad) return
          if (!shapesEqual(gi.shape, input.shape)) {
            throw new AutogradError(`${t.node!.name} backward produced ${fmt(gi.shape)} for an input of ${fmt(input.shape)}`)
          }
          const prev = grads.get(input)
          if (prev) {
            const sum = add(prev, gi)
            drop(prev)
            hold(input, sum)
          } else {
            hold(input, gi)
          }
        })
        drop(g)
      }
    }),
  )
  if (!opts.retainGraph) for (const t of order) t.node = null
}

function accumulateLeaf(t: Tensor, g: Tensor): void {
  if (t.grad) {
    const sum = add(t.grad, g)
    t.grad.dispose()
    g.dispose()
    t.grad = keep(sum)
  } else {
    t.grad = keep(g)
  }
}

function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = []
  const seen = new Set<Tensor>()
  // Iterative DFS: transformer graphs are deep enough to overflow a recursive one.
  const stack: [Tensor, boolean][] = [[root, false]]
  while (stack.length) {
    const [t, done] = stack.pop()!
    if (done) {
      order.push(t)
      continue
    }
    if (seen.has(t)) continue
    seen.add(t)
    stack.push([t, true])
    for (const input of t.node?.inputs ?? []) {
      if (!input.requiresGrad || seen.has(input)) continue
      // A disposed tensor has lost its own link to the graph: going on would silently give
      // the leaves behind it no gradient.
      if (input.disposed) {
        throw new AutogradError(
          `backward() reached ${input.toString()} (an input of ${t.node!.name}) after it was disposed: its gradient path is gone. Keep intermediates alive until backward, e.g. return them from tidy() or call backward inside the same tidy()`,
        )
      }
      stack.push([input, false])
    }
  }
  return order
}
