import cliProgress from 'cli-progress'

/** A progress bar with ETA for long work, plus a way to print lines without tearing it. */
export interface Progress {
  /** Whether a bar is drawn (stderr is a terminal): callers print less per step when it is. */
  readonly visible: boolean
  /** `done` of `total` units; `status` is a short text shown after the counts (e.g. the loss). */
  update(done: number, total: number, status?: string): void
  /** A line of output on stdout; above the bar while one is drawn. */
  log(line: string): void
  stop(): void
}

/**
 * A bar on stderr, only when stderr is a terminal: pipes, log files and --json runs get no
 * escape codes, only what `log` prints. Started on the first update, so a bar that would show
 * nothing is never drawn.
 */
export function progressBar(label: string, unit: string): Progress {
  if (!process.stderr.isTTY) return { visible: false, update() {}, log: (line) => console.log(line), stop() {} }
  const bars = new cliProgress.MultiBar(
    { format: `${label} {bar} {percentage}% | {value}/{total} ${unit}{status} | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true, clearOnComplete: true, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  )
  let bar: cliProgress.SingleBar | null = null
  return {
    visible: true,
    update(done, total, status) {
      const payload = { status: status ? ` | ${status}` : '' }
      if (!bar) bar = bars.create(total, done, payload)
      else bar.setTotal(total)
      bar.update(done, payload)
    },
    // With stdout redirected the line belongs in that file, not on the terminal beside the bar.
    log: (line) => (bar && process.stdout.isTTY ? bars.log(`${line}\n`) : console.log(line)),
    stop() {
      bars.stop()
    },
  }
}
