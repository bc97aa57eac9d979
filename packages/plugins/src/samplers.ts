import { ops, tidy, type Tensor } from '@tessera/tensor-core'
import { CONTRACT_VERSIONS, type SamplerContext, type SamplerPlugin, type SamplerStage } from './contracts.js'
import { PluginError } from './errors.js'
import { getPlugin } from './registry.js'

/** A sampler given by name, by name with options, or as a list of stages applied in order. */
export type SamplerSpec = string | ({ name: string } & Record<string, unknown>) | readonly SamplerSpec[]

/** A composed sampler: logits [N, V] → tokens i32 [N]. */
export interface Sampler {
  /** Whether the caller must pass ctx.unconditional (logits under the null caption). */
  readonly needsUnconditional: boolean
  sample(logits: Tensor, ctx: SamplerContext): Tensor
}

function numberOption(sampler: string, options: Record<string, unknown>, key: string, check: (v: number) => boolean, rule: string, fallback?: number): number {
  const v = options[key] ?? fallback
  if (typeof v !== 'number' || !check(v)) throw new PluginError(`sampler '${sampler}': ${key} must be ${rule}, got ${String(v)}`)
  return v
}

function samplerPlugin(name: string, description: string, create: SamplerPlugin['create']): SamplerPlugin {
  return { kind: 'sampler', name, contract: CONTRACT_VERSIONS.sampler, description, create }
}

/** The stage that picks the tokens: the last one with a `pick`. */
const pickerOf = (stages: readonly SamplerStage[]): SamplerStage | undefined => [...stages].reverse().find((s) => s.pick)

/** Builds the stages of a spec through the registry (so third-party samplers compose the same way). */
function stagesOf(spec: SamplerSpec): SamplerStage[] {
  if (Array.isArray(spec)) return (spec as readonly SamplerSpec[]).flatMap(stagesOf)
  const { name, ...options } = typeof spec === 'string' ? { name: spec } : (spec as { name: string } & Record<string, unknown>)
  return [getPlugin('sampler', name).create(options)]
}

/**
 * Composes a sampler from its spec: every stage's `transform` in order, then the last `pick`,
 * or a draw from softmax(logits) on ctx.random when no stage picks.
 */
export function resolveSampler(spec: SamplerSpec): Sampler {
  const stages = stagesOf(spec)
  const picker = pickerOf(stages)
  return {
    needsUnconditional: stages.some((s) => s.needsUnconditional),
    sample: (logits, ctx) =>
      tidy(() => {
        if (stages.some((s) => s.needsUnconditional) && !ctx.unconditional) throw new PluginError('this sampler needs the unconditional logits (ctx.unconditional) for guidance')
        let x = logits
        for (const s of stages) if (s.transform) x = s.transform(x, ctx)
        return picker ? picker.pick!(x, ctx) : ops.categoricalSample(x, ctx.random)
      }),
  }
}

export const BUILTIN_SAMPLERS: readonly SamplerPlugin[] = [
  samplerPlugin('temperature', 'divides the logits by `temperature` (default 1; > 0)', (o) => {
    const t = numberOption('temperature', o, 'temperature', (v) => v > 0, '> 0', 1)
    return { transform: (logits) => (t === 1 ? logits : ops.div(logits, t)) }
  }),
  samplerPlugin('topK', 'keeps the `k` most likely tokens (and ties with the k-th)', (o) => {
    const k = numberOption('topK', o, 'k', (v) => Number.isInteger(v) && v >= 1, 'a positive integer')
    return { transform: (logits) => ops.filterTopK(logits, Math.min(k, logits.shape[logits.rank - 1]!)) }
  }),
  samplerPlugin('topP', 'keeps the smallest set of most likely tokens holding probability `p` (nucleus)', (o) => {
    const p = numberOption('topP', o, 'p', (v) => v > 0 && v <= 1, 'in (0, 1]')
    return { transform: (logits) => ops.filterTopP(logits, p) }
  }),
  samplerPlugin('greedy', 'picks the most likely token', () => ({ pick: (logits) => ops.argmax(logits, -1) })),
  samplerPlugin(
    'cfg',
    'classifier-free guidance (super-conditioning): uncond + scale·(cond − uncond), then the stages of `sampler` (default: a plain draw)',
    (o) => {
      const scale = numberOption('cfg', o, 'scale', (v) => Number.isFinite(v), 'a finite number', 3)
      const inner = o.sampler === undefined ? [] : stagesOf(o.sampler as SamplerSpec)
      const pick = pickerOf(inner)?.pick
      return {
        needsUnconditional: true,
        transform: (logits, ctx) => {
          let x = ops.add(ctx.unconditional!, ops.mul(ops.sub(logits, ctx.unconditional!), scale))
          for (const s of inner) if (s.transform) x = s.transform(x, ctx)
          return x
        },
        ...(pick ? { pick } : {}),
      }
    },
  ),
]
