/** A mistake in what the user asked for: printed as one line, exit code 1, no stack. */
export class UserError extends Error {}

/** One line a user can act on, whatever was thrown. */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.replace(/\s*\n\s*/g, ' ').trim()
}
