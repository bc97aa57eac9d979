import type { Device } from '@tessera/tensor-core'
import { cpus, hostname } from 'node:os'

/** This machine and the device a run used, for manifests: where a number was measured matters. */
export function machineDescription(device: Device): string {
  const cpu = cpus()
  const adapter = device.adapter.description || device.adapter.architecture || device.adapter.backend
  return `${hostname()}: ${cpu.length}× ${cpu[0]?.model ?? 'CPU'}; ${device.kind} ${adapter}`.trim()
}

/** The command as typed, quoted so it can be pasted back into a shell. */
export function commandLine(): string {
  const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)
  return ['tessera', ...process.argv.slice(2).map(quote)].join(' ')
}
