import type { BrowserContext } from 'playwright-core'

export interface BrowserSession {
  /** The server's root URL: it serves `index`. */
  url: string
  browser: BrowserContext
  close(): Promise<void>
}

/** `webgpu: false` starts Chromium without --enable-unsafe-webgpu (default true). */
export declare function startBrowser(options: { root: string; index: string; webgpu?: boolean }): Promise<BrowserSession>
