import type { BrowserContext } from 'playwright-core'

export interface BrowserSession {
  /** The server's root URL: it serves `index`. */
  url: string
  browser: BrowserContext
  close(): Promise<void>
}

export declare function startBrowser(options: { root: string; index: string }): Promise<BrowserSession>
