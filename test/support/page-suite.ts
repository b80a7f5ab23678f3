// Driving the demo page in headless Chromium for a browser test file
// (test/browser-data.test.ts, test/browser-text.test.ts): the browser
// bundle build, a static server and Chromium started once per file, one
// browser context per page, the page's uncaught errors and console.error
// lines collected per test (any of them fails it), and the page's app state
// (window.__app.state) read back as JSON.
// Chromium: /usr/bin/chromium (TESSERA_CHROMIUM); under CI=true a missing
// browser fails, otherwise the file's tests are skipped with a loud note.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { beforeOrFail } from './setup.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium';
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
const CHROMIUM_ARGS = ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** The browser tests of one file: add them, then `register()` and `test.run()`. */
export class PageSuite {
  private browser: Browser | undefined;
  private server: { url: string; close(): Promise<void> } | undefined;
  private readonly contexts: BrowserContext[] = [];
  private problems: string[] = [];
  private readonly tests: [string, () => Promise<void>][] = [];

  /** `what`: the tests' subject, for the note when Chromium is missing ("data-file"). */
  constructor(private readonly what: string) {}

  /** A test that opens pages; it also fails when a page it opened reported an error. */
  add(name: string, fn: () => Promise<void>): void {
    this.tests.push([name, fn]);
  }

  /** The demo page at `query` (e.g. `?model=iris&backend=wasm`) in a fresh context, once it says it is ready. */
  async openPage(query: string): Promise<Page> {
    const context = await this.browser!.newContext();
    this.contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => this.problems.push(`uncaught ${e.name}: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') this.problems.push(`console.error: ${m.text()}`); });
    await page.goto(this.server!.url + query);
    await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 60_000 });
    return page;
  }

  /** The page's app state, as JSON. */
  state<T>(page: Page): Promise<T> {
    return page.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { __app: { state: unknown } }).__app.state)));
  }

  /** Waits until the page's training run has ended: done, error or stopped. */
  async trainingEnded(page: Page, timeout: number): Promise<void> {
    await page.waitForFunction(() => ['done', 'error', 'stopped'].includes((window as unknown as { __app: { state: { status: string } } }).__app.state.status), null, { timeout, polling: 200 });
  }

  /** Registers the tests with uvu (around them: the bundle build, server and Chromium), or, without Chromium, skips them (fails under CI=true). */
  register(): void {
    if (!existsSync(CHROMIUM)) {
      const why = `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser tests`;
      if (IN_CI) test('Chromium is installed (required under CI=true)', () => { assert.unreachable(why); });
      else {
        console.warn(`\n!!! SKIPPING the ${this.what} browser tests: ${why}\n`);
        for (const [name] of this.tests) test.skip(name, () => {});
      }
      return;
    }
    beforeOrFail(test, 'browser setup (bundle build, static server, Chromium launch)', () => this.setup());
    test.after(() => this.teardown());
    for (const [name, fn] of this.tests) {
      test(name, async () => {
        this.problems = [];
        await fn();
        assert.ok(this.problems.length === 0, `the page reported errors:\n${this.problems.join('\n')}`);
      });
    }
  }

  private async setup(): Promise<void> {
    const build = await import(pathToFileURL(join(root, 'scripts/build-browser.mjs')).href);
    await build.buildBrowser({ quiet: true });
    const serve = await import(pathToFileURL(join(root, 'scripts/serve-web.mjs')).href);
    this.server = await serve.startServer({ port: 0 });
    const { chromium } = await import('playwright-core');
    this.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }

  private async teardown(): Promise<void> {
    for (const c of this.contexts) await c.close().catch(() => {});
    await this.browser?.close().catch(() => {});
    await this.server?.close();
  }
}
