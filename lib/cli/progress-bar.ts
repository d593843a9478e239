/**
 * A one-line progress bar on stderr for long CLI work. On a terminal it redraws in place; elsewhere
 * (when forced with --progress) it prints a line every 10%. Never writes to stdout.
 */
export interface ProgressBar {
  update(label: string, done: number, total: number): void;
  status(label: string): void;
  done(): void;
}

export function createProgressBar(stream: NodeJS.WriteStream = process.stderr, enabled = true): ProgressBar {
  const tty = Boolean(stream.isTTY);
  let lastDraw = 0;
  let lastDecile = -1;
  let lastLabel = '';
  let drawn = false;
  const write = (text: string): void => {
    try {
      stream.write(text);
    } catch {
      // a closed stderr must not fail the command
    }
  };
  return {
    update(label, done, total) {
      if (!enabled) return;
      const ratio = total > 0 ? Math.min(1, done / total) : 0;
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 80 && ratio < 1 && label === lastLabel) return;
        lastDraw = now;
        const width = 30;
        const filled = Math.round(ratio * width);
        write(
          `\r\x1b[2K${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}% ${mib(done)}/${mib(total)} MiB`,
        );
        drawn = true;
      } else {
        const decile = Math.floor(ratio * 10);
        if (decile === lastDecile && label === lastLabel) return;
        lastDecile = decile;
        write(`${label} ${(ratio * 100).toFixed(0)}% (${mib(done)}/${mib(total)} MiB)\n`);
      }
      lastLabel = label;
    },
    status(label) {
      if (!enabled) return;
      if (tty) {
        write(`\r\x1b[2K${label}`);
        drawn = true;
      } else write(`${label}\n`);
    },
    done() {
      if (enabled && tty && drawn) write('\r\x1b[2K');
      drawn = false;
    },
  };
}

function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(0);
}
