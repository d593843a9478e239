// Headless Chromium for the HTML report tests: find it, dump a page's DOM after its scripts ran,
// take a screenshot, and collect console errors from Chromium's log.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, 'chromium', 'chromium-browser', 'google-chrome'].filter(
    Boolean,
  ) as string[];
  for (const c of candidates) {
    try {
      execFileSync('sh', ['-c', `command -v "$1"`, 'sh', c], { stdio: 'pipe' });
      return c;
    } catch {
      // next
    }
  }
  return undefined;
}

export interface ChromiumRender {
  dom: string;
  /**
   * Every console message and uncaught exception, from Chromium's log. Chromium's log does not
   * say a message's level, and the report logs nothing when it works, so any message counts.
   */
  consoleMessages: string[];
  screenshot?: string;
}

function runChromium(chromium: string, args: string[]): { stdout: string; stderr: string } {
  const profile = mkdtempSync(join(tmpdir(), 'hw-chromium-'));
  try {
    const r = spawnSync(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${profile}`,
        '--enable-logging=stderr',
        '--v=0',
        ...args,
      ],
      { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
    );
    if (r.error) throw r.error;
    return { stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Console lines look like `[...:INFO:CONSOLE:12] "Uncaught Error: x", source: file:///... (12)`. */
export function consoleMessagesIn(log: string): string[] {
  return log.split('\n').filter((l) => /:CONSOLE[:(]/.test(l));
}

export function renderInChromium(chromium: string, htmlPath: string, screenshotPath?: string): ChromiumRender {
  const url = pathToFileURL(htmlPath).href;
  const dump = runChromium(chromium, ['--virtual-time-budget=5000', '--dump-dom', url]);
  const result: ChromiumRender = { dom: dump.stdout, consoleMessages: consoleMessagesIn(dump.stderr) };
  if (screenshotPath) {
    const shot = runChromium(chromium, [
      '--window-size=1280,2200',
      '--hide-scrollbars',
      `--screenshot=${screenshotPath}`,
      url,
    ]);
    result.consoleMessages.push(...consoleMessagesIn(shot.stderr));
    result.screenshot = screenshotPath;
  }
  return result;
}

/** Skip reason for a Chromium test: false (run it) when Chromium is there or is required (then the test fails without it). */
export function chromiumSkip(chromium: string | undefined, required: boolean): false | string {
  return chromium || required ? false : 'chromium not found (install it with .ci/setup-services, or set CHROMIUM_PATH)';
}
