import type { EvalMetrics, StepMetrics } from './trainer.js'

/** One log line per training step, fixed-width so columns line up in a terminal or log file. */
export function formatStep(m: StepMetrics): string {
  return [
    `step ${String(m.step).padStart(6)}`,
    `loss ${m.loss.toFixed(4).padStart(9)}`,
    `recon ${m.recon.toFixed(4).padStart(9)}`,
    `kl ${m.kl.toFixed(3).padStart(6)}`,
    `tau ${m.tau.toFixed(3)}`,
    `beta ${m.klWeight.toFixed(2)}`,
    `lr ${m.lr.toExponential(2)}`,
    `ppl ${m.perplexity.toFixed(1).padStart(6)}`,
    `dead ${String(m.deadCodes).padStart(5)}`,
    `${m.ms.toFixed(0).padStart(6)} ms`,
  ].join('  ')
}

export function formatEval(m: EvalMetrics): string {
  return `eval  step ${String(m.step).padStart(6)}  psnr ${m.psnr.toFixed(2)} dB  ppl ${m.perplexity.toFixed(1)}  (${m.images} held-out images)`
}

/** An onStep callback that prints every `every`-th step (and the first) with `write` (console.log by default). */
export function stepLogger(opts: { every?: number; write?: (line: string) => void } = {}): (m: StepMetrics) => void {
  const every = opts.every ?? 10
  const write = opts.write ?? ((line: string) => console.log(line))
  return (m) => {
    if (m.step % every === 0) write(formatStep(m))
  }
}
