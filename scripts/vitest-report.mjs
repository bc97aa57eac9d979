// A vitest reporter that scripts/run-tests.mjs adds to every package's run: it writes one
// JSON file per package into $TESSERA_TEST_REPORT_DIR with each test file's state (a file
// that fails to import is 'failed' with no tests) and every test's state, name and skip note.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'

export default class TesseraReport {
  onInit(vitest) {
    this.root = vitest.config.root
  }

  onTestRunEnd(testModules, unhandledErrors, reason) {
    const dir = process.env.TESSERA_TEST_REPORT_DIR
    if (!dir) return
    const pkg = JSON.parse(readFileSync(join(this.root, 'package.json'), 'utf8')).name
    const files = testModules.map((m) => ({
      file: relative(this.root, m.moduleId),
      state: m.state(),
      errors: m.errors().map((e) => e.message),
      tests: [...m.children.allTests()].map((t) => {
        const r = t.result()
        return { name: t.fullName, state: r.state, note: r.note }
      }),
    }))
    const report = { package: pkg, reason, unhandledErrors: unhandledErrors.map((e) => e.message ?? String(e)), files }
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, `${pkg.replace(/[^\w.-]+/g, '_')}.json`), JSON.stringify(report, null, 1))
  }
}
