import { existsSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEFAULT_MODEL, MODELS, modelUrl, shippedName } from '@tessera/models'
import { UserError } from './fail.js'

/** Where the shipped bundles live (@tessera/models: the repository's models/ folder); TESSERA_MODELS_DIR moves it. */
export const MODELS_DIR = process.env.TESSERA_MODELS_DIR ?? fileURLToPath(new URL('..', modelUrl()))
export { DEFAULT_MODEL }

/** Relative paths mean the folder the user typed the command in (pnpm runs scripts from the root but sets INIT_CWD). */
export function userPath(path: string): string {
  return isAbsolute(path) ? path : resolve(process.env.INIT_CWD ?? process.cwd(), path)
}

const HOW_TO_MAKE = 'make one from a trained prior with `tessera bundle --prior PRIOR_DIR --dvae dvae-emoji-32 --clip clip-emoji --out DIR` (see tessera bundle --help), or pass --model DIR'

/** --model: a bundle directory, or the name of one under models/; without it the default bundle. */
export function modelDir(model: string | undefined): { dir: string; isDefault: boolean } {
  if (model === undefined) {
    const dir = join(MODELS_DIR, DEFAULT_MODEL)
    if (!existsSync(join(dir, 'manifest.json'))) throw new UserError(`no default model bundle at ${dir} yet: ${HOW_TO_MAKE}`)
    return { dir, isDefault: true }
  }
  const named = join(MODELS_DIR, model)
  if (/^[\w.-]+$/.test(model) && !existsSync(userPath(model)) && existsSync(named)) return { dir: named, isDefault: false }
  const dir = userPath(model)
  if (!existsSync(dir)) throw new UserError(`--model ${model}: no such directory (${dir}); ${HOW_TO_MAKE}`)
  if (!existsSync(join(dir, 'manifest.json'))) throw new UserError(`--model ${model}: ${dir} is not a model bundle (no manifest.json); ${HOW_TO_MAKE}`)
  return { dir, isDefault: false }
}

/** The shipped models of one kind (@tessera/models), e.g. dvae-emoji-32, dvae-emoji-32-large. */
export function shippedNames(kind: 'dvae' | 'clip'): string[] {
  return Object.keys(MODELS).filter((name) => MODELS[name as keyof typeof MODELS] === kind)
}

/**
 * A dVAE or CLIP given as a shipped model's name or a directory → its directory, a reference that
 * finds it again (the shipped name or the absolute directory: what manifests record as the
 * dVAE of a prior) and how to describe it in provenance. Token data written before the models
 * moved to @tessera/models names its dVAE by preset ('emoji-32'), which is read as dvae-emoji-32
 * (@tessera/models' shippedName).
 */
export function componentDir(nameOrDir: string, kind: 'dvae' | 'clip', flag: string): { dir: string; ref: string; source: string } {
  const name = shippedName(nameOrDir, kind)
  if (name !== undefined && !existsSync(userPath(nameOrDir))) return { dir: fileURLToPath(modelUrl(name)), ref: name, source: `@tessera/models ${name}` }
  const dir = userPath(nameOrDir)
  if (!existsSync(dir)) throw new UserError(`${flag} ${nameOrDir}: no such directory (${dir}) and no shipped ${kind} of that name; shipped: ${shippedNames(kind).join(', ')}`)
  if (!existsSync(join(dir, 'manifest.json'))) throw new UserError(`${flag} ${nameOrDir}: ${dir} holds no manifest.json, so it is not a ${kind} model directory (tessera train ${kind} --out writes one)`)
  return { dir, ref: dir, source: dir }
}
