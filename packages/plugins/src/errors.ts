import { TesseraError } from '@tessera/tensor-core'

/** No plugin of that kind has that name; the message lists the registered names. */
export class PluginNotFoundError extends TesseraError {
  static override readonly code: string = 'plugin_not_found'
  constructor(
    readonly kind: string,
    readonly pluginName: string,
    readonly known: readonly string[],
  ) {
    super(`no ${kind} plugin named '${pluginName}'; registered: ${known.length ? known.map((n) => `'${n}'`).join(', ') : '(none)'}`)
  }
}

/**
 * A plugin that cannot be registered or used as given: an unknown kind, a missing method, a
 * contract version this registry does not implement, a name taken, or options it rejects.
 */
export class PluginError extends TesseraError {
  static override readonly code: string = 'plugin'
}
