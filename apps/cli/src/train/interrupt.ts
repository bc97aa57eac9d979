/**
 * How a training run is stopped without losing work: the first SIGINT (Ctrl-C) or SIGTERM (a
 * job's time limit) aborts `signal`, which the trainers read at each step boundary, finishing the
 * step in flight and writing a checkpoint; a second signal quits at once. Copies of the first
 * that arrive within a second are the same request, not a second one: GNU timeout signals the
 * command and then its whole process group, and a terminal's Ctrl-C reaches wrappers that
 * forward it (pnpm).
 */
export interface Interrupt {
  readonly signal: AbortSignal
  /** The exit status of a run the signal stopped: 128 + the signal's number, as shells report it. */
  readonly exitCode: number
  /** Stops listening (the run is over). */
  dispose(): void
}

const CODES = { SIGINT: 130, SIGTERM: 143 } as const
type StopSignal = keyof typeof CODES

export function stopOnSignals(onFirst: (signal: StopSignal) => void): Interrupt {
  const stop = new AbortController()
  let asked = 0
  let first: StopSignal = 'SIGINT'
  const handlers = (Object.keys(CODES) as StopSignal[]).map((sig) => {
    const handler = () => {
      if (stop.signal.aborted) {
        if (performance.now() - asked > 1000) process.exit(CODES[sig])
        return
      }
      asked = performance.now()
      first = sig
      onFirst(sig)
      stop.abort(sig)
    }
    process.on(sig, handler)
    return [sig, handler] as const
  })
  return {
    signal: stop.signal,
    get exitCode() {
      return CODES[first]
    },
    dispose() {
      for (const [sig, handler] of handlers) process.off(sig, handler)
    },
  }
}
