import { foreachParts, SUM_SQUARES_PER_LANE, sumSquaresKernel, type ForeachParams } from '../kernels/foreach.js'
import type { Kernel } from '../kernel.js'
import { DTypeError } from '../errors.js'
import type { Tensor } from '../tensor.js'
import { sum } from './reduce.js'

/**
 * Dispatches of a foreach kernel (kernels/foreach.ts) over many tensors: each entry is one
 * tensor's role tensors (its kernel inputs, then outputs, in the kernel's role order, all the
 * first one's size). Entries are sorted by size before they are grouped, so a dispatch's
 * tensors are alike and few of its workgroups idle; a group is as large as the adapter's
 * storage-buffer limit allows after the `shared` bindings.
 */
export function runForeach(
  kernel: Kernel<ForeachParams>,
  entries: readonly { inputs: readonly Tensor[]; outputs: readonly Tensor[] }[],
  scalars: Record<string, number>,
  shared: readonly Tensor[] = [],
): void {
  if (!entries.length) return
  const device = entries[0]!.outputs[0]!.device
  const bindings = entries[0]!.inputs.length + entries[0]!.outputs.length
  for (const group of sizeSortedGroups(entries, (device.backend.maxStorageBuffersPerKernel - shared.length) / bindings, (e) => e.outputs[0]!)) {
    const sizes = group.map((e) => e.outputs[0]!.size)
    device.backend.run(
      kernel,
      { sizes, parts: foreachParts(sizes), scalars },
      [...shared.map((t) => t.storage), ...group.flatMap((e) => e.inputs.map((t) => t.storage))],
      group.flatMap((e) => e.outputs.map((t) => t.storage)),
    )
  }
}

/** Σ over all tensors of Σx², as one f32 element, in a dispatch per group of tensors plus one sum. */
export function sumOfSquares(tensors: readonly Tensor[]): Tensor {
  const device = tensors[0]!.device
  for (const t of tensors) if (t.dtype !== 'f32') throw new DTypeError(`sumOfSquares takes f32 tensors, got ${t.dtype}`)
  const groups = sizeSortedGroups(tensors, device.backend.maxStorageBuffersPerKernel - 1, (t) => t)
  const plans = groups.map((g) => {
    const sizes = g.map((t) => t.size)
    return { g, sizes, parts: foreachParts(sizes, SUM_SQUARES_PER_LANE) }
  })
  const partials = device.empty([plans.reduce((n, p) => n + p.sizes.length * p.parts, 0)], 'f32')
  let outOffset = 0
  for (const { g, sizes, parts } of plans) {
    device.backend.run(sumSquaresKernel, { sizes, parts, outOffset }, g.map((t) => t.storage), [partials.storage])
    outOffset += sizes.length * parts
  }
  const total = sum(partials)
  partials.dispose()
  return total
}

function sizeSortedGroups<T>(items: readonly T[], perGroup: number, tensorOf: (item: T) => Tensor): T[][] {
  const n = Math.max(1, Math.floor(perGroup))
  const sorted = [...items].sort((a, b) => tensorOf(a).size - tensorOf(b).size)
  const groups: T[][] = []
  for (let i = 0; i < sorted.length; i += n) groups.push(sorted.slice(i, i + n))
  return groups
}
