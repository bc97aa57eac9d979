// The modules of src/ form layers: no chain of imports leads from a module back to itself
// (DESIGN.md: a cycle means a piece belongs in a lower module or behind an injected hook).
// Imports that compile away (`import type`, `import { type A }`, `export type … from`) are
// left out: Tensor and Device name each other's types, and that costs nothing at run time.
// Dynamic `import('./x.js')` counts like a static one: a lazy import does not cut a cycle.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    return e.isDirectory() ? sourceFiles(path) : e.name.endsWith('.ts') ? [path] : []
  })
}

/** Relative module specifiers that `file` imports or re-exports at run time. */
function runtimeImports(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS)
  const out: string[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause
      const erased =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (!clause.name &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)))
      if (!erased) out.push(node.moduleSpecifier.text)
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.exportClause
      const erased = node.isTypeOnly || (clause !== undefined && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly))
      if (!erased) out.push(node.moduleSpecifier.text)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      out.push(node.arguments[0].text)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return out.filter((s) => s.startsWith('.'))
}

/** Module graph of src/: file (relative to src) → the src files it imports at run time. */
function importGraph(): Map<string, string[]> {
  const files = sourceFiles(SRC)
  const known = new Set(files)
  const graph = new Map<string, string[]>()
  for (const file of files) {
    const targets = runtimeImports(file, readFileSync(file, 'utf8')).map((spec) => {
      const base = resolve(dirname(file), spec).replace(/\.js$/, '')
      const target = [`${base}.ts`, join(base, 'index.ts')].find((f) => known.has(f))
      if (!target) throw new Error(`${relative(SRC, file)} imports ${spec}, which is no file of src/`)
      return relative(SRC, target)
    })
    graph.set(relative(SRC, file), [...new Set(targets)])
  }
  return graph
}

/** One cycle per strongly connected group of modules, as a path `a → b → … → a`. */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const cycles: string[][] = []
  const seenInCycle = new Set<string>()
  const visit = (node: string): void => {
    state.set(node, 'open')
    stack.push(node)
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') {
        const cycle = [...stack.slice(stack.indexOf(next)), next]
        if (!cycle.some((m) => seenInCycle.has(m))) cycles.push(cycle)
        for (const m of cycle) seenInCycle.add(m)
      } else if (!state.has(next)) {
        visit(next)
      }
    }
    stack.pop()
    state.set(node, 'done')
  }
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node)
  return cycles
}

describe('import layers of src/', () => {
  it('no module imports itself through others', () => {
    const graph = importGraph()
    // The walker sees the graph (a parser that found nothing would pass vacuously).
    expect(graph.get('tensor.ts')).toContain('backward.ts')
    expect(graph.get('ops/elementwise.ts')).toContain('ops/broadcast.ts')
    expect(graph.get('index.ts')!.length).toBeGreaterThan(10)
    expect(findCycles(graph).map((c) => c.join(' → '))).toEqual([])
  })

  it('the walker keeps run-time imports and drops those that compile away', () => {
    const text = [
      "import { a } from './a.js'",
      "import type { B } from './b.js'",
      "import { type C, type D } from './c.js'",
      "import { type E, e } from './e.js'",
      "import './f.js'",
      "export { g } from './g.js'",
      "export type { H } from './h.js'",
      "export * as i from './i.js'",
      "const j = () => import('./j.js')",
      "import { k } from 'node:fs'",
    ].join('\n')
    expect(runtimeImports('x.ts', text)).toEqual(['./a.js', './e.js', './f.js', './g.js', './i.js', './j.js'])
  })

  it('the cycle finder reports a cycle once, as a path', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
    ])
    expect(findCycles(graph)).toEqual([['a', 'b', 'c', 'a']])
    expect(findCycles(new Map([['a', ['b']], ['b', []]]))).toEqual([])
  })
})
