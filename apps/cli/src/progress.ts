import cliProgress from 'cli-progress'

/** A token progress bar with ETA on stderr, only when stderr is a terminal (quiet in pipes, logs and --json runs). */
export function tokenBar(label: string): { update(done: number, total: number): void; stop(): void } {
  if (!process.stderr.isTTY) return { update() {}, stop() {} }
  const bar = new cliProgress.SingleBar(
    { format: `${label} {bar} {percentage}% | {value}/{total} tokens | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  )
  let started = false
  return {
    update(done, total) {
      if (!started) (bar.start(total, 0), (started = true))
      bar.update(done)
    },
    stop() {
      if (started) bar.stop()
    },
  }
}
