import { CONTRACT_VERSIONS, REQUIRED_METHOD, type AnyPlugin, type PluginKind, type PluginOfKind } from './contracts.js'
import { PluginError, PluginNotFoundError } from './errors.js'

type Registry = { [K in PluginKind]: Map<string, PluginOfKind[K]> }

/**
 * One registry per process (or page), kept on globalThis under a Symbol.for key: when an app
 * ends up with two copies of this package (two versions in node_modules, a bundle beside a
 * plugin's own dependency), both read and write the same registry. The `v1` in the key is the
 * registry layout's version, not the package's.
 */
const KEY = Symbol.for('tessera.plugins.registry.v1')

function registry(): Registry {
  const g = globalThis as unknown as Record<symbol, Registry | undefined>
  g[KEY] ??= Object.fromEntries(Object.keys(CONTRACT_VERSIONS).map((kind) => [kind, new Map()])) as unknown as Registry
  return g[KEY]!
}

function kindMap<K extends PluginKind>(kind: K): Map<string, PluginOfKind[K]> {
  if (!Object.hasOwn(CONTRACT_VERSIONS, kind)) {
    throw new PluginError(`unknown plugin kind '${String(kind)}'; kinds: ${Object.keys(CONTRACT_VERSIONS).join(', ')}`)
  }
  return registry()[kind]
}

export interface RegisterOptions {
  /** Replace a plugin already registered under the name (default: that is an error). */
  replace?: boolean
  /** Leave a plugin already registered under the name in place and do nothing. */
  ifAbsent?: boolean
}

/**
 * Makes a plugin available by kind and name. Built-ins register through this same call (with
 * `ifAbsent`, so a second copy of a package does not fight the first).
 */
export function registerPlugin(plugin: AnyPlugin, opts: RegisterOptions = {}): void {
  const { kind, name } = plugin ?? ({} as AnyPlugin)
  const map = kindMap(kind) as Map<string, AnyPlugin>
  if (typeof name !== 'string' || !name) throw new PluginError(`a ${kind} plugin needs a non-empty string name`)
  const expected = CONTRACT_VERSIONS[kind]
  if (plugin.contract !== expected) {
    throw new PluginError(`${kind} plugin '${name}' implements contract version ${plugin.contract ?? '(none)'}, this @tessera/plugins implements ${expected}: update the plugin or @tessera/plugins`)
  }
  const method = REQUIRED_METHOD[kind]
  if (typeof (plugin as unknown as Record<string, unknown>)[method] !== 'function') throw new PluginError(`${kind} plugin '${name}' has no ${method}() method`)
  if (map.has(name)) {
    if (opts.ifAbsent) return
    if (!opts.replace) throw new PluginError(`a ${kind} plugin named '${name}' is already registered (pass { replace: true } to replace it)`)
  }
  map.set(name, plugin)
}

/** The plugin registered under `name`; PluginNotFoundError (listing the known names) if none. */
export function getPlugin<K extends PluginKind>(kind: K, name: string): PluginOfKind[K] {
  const map = kindMap(kind)
  const plugin = map.get(name)
  if (!plugin) throw new PluginNotFoundError(kind, name, [...map.keys()])
  return plugin
}

/** Names registered for a kind, in registration order (built-ins first). */
export function listPlugins(kind: PluginKind): string[] {
  return [...kindMap(kind).keys()]
}

/** Removes a plugin; true if one was registered under the name. */
export function unregisterPlugin(kind: PluginKind, name: string): boolean {
  return kindMap(kind).delete(name)
}
