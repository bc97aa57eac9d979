import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** One process's share of a model's training: what ran, from which step to which, for how long, where. */
export interface Segment {
  command: string
  started: string
  fromStep: number
  /** null while it runs, and left so by a process that was killed (the next one fills it in). */
  toStep: number | null
  wallSeconds: number
  machine: string
}

export const SEGMENTS_FILE = 'segments.json'

/**
 * CHECKPOINTS/segments.json: each run that trains appends its segment, so an exported model
 * records how it was really trained across Ctrl-C, resumes and sessions, not the export's own
 * command. The format is the one train-prior.mjs wrote, so its runs continue their record.
 */
export class SegmentLog {
  private readonly startedAt = Date.now()

  private constructor(
    private readonly dir: string,
    readonly segments: Segment[],
    private readonly current: Segment | null,
  ) {}

  /** Reads the record; `segment` (null for an export, which trains nothing) starts at the run's first step. */
  static async open(dir: string, step: number, segment: Pick<Segment, 'command' | 'machine'> | null): Promise<SegmentLog> {
    const segments: Segment[] = await readFile(join(dir, SEGMENTS_FILE), 'utf8').then(JSON.parse, () => [])
    // A segment that ended without a record (killed) reached the step this run resumed from.
    const last = segments.at(-1)
    if (last && last.toStep == null) last.toStep = step
    const current = segment && { ...segment, started: new Date().toISOString(), fromStep: step, toStep: null, wallSeconds: 0 }
    if (current) segments.push(current)
    return new SegmentLog(dir, segments, current)
  }

  /** Writes the record with this run at `step`. */
  async save(step: number): Promise<void> {
    if (!this.current) return
    this.current.toStep = step
    this.current.wallSeconds = Math.round((Date.now() - this.startedAt) / 1000)
    await mkdir(this.dir, { recursive: true })
    await writeFile(join(this.dir, SEGMENTS_FILE), JSON.stringify(this.segments, null, 2) + '\n')
  }

  /** Wall seconds of every segment. */
  get wallSeconds(): number {
    return this.segments.reduce((sum, s) => sum + (s.wallSeconds ?? 0), 0)
  }
}
