// The training progress `tessera train` prints: a bar redrawn in place on a
// terminal, plain lines when the output is a file or a pipe (so logs stay
// readable), and one summary line per epoch either way (with val_loss and
// val_accuracy when there is validation data), and callbacks' notes.

import type { TrainEvent } from '../runtime/trainer.js';
import { formatDuration, formatInt } from './format.js';
import { metricsText } from './results.js';

/** The progress lines' short name of accuracy, as before metrics were a list. */
const short = (name: string) => (name === 'accuracy' ? 'acc' : name);

function etaText(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  return seconds < 60 ? `${Math.ceil(seconds)}s` : formatDuration(seconds * 1000);
}

function bar(step: number, steps: number, width: number): string {
  const filled = Math.floor((width * step) / steps);
  if (filled >= width) return `[${'='.repeat(width)}]`;
  return `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}]`;
}

/**
 * Prints training events. On a terminal, a progress bar redrawn in place
 * (at most 10 times a second); otherwise a plain line every ~10% of an
 * epoch. Always a summary line per epoch.
 */
export class ProgressPrinter {
  private lastDraw = 0;
  private nextTenth = 1;
  private barShown = false;

  constructor(private readonly out: NodeJS.WriteStream, private readonly tty: boolean, private readonly quiet: boolean) {}

  /** Clears a progress bar so that other text can be printed. */
  clear(): void {
    if (this.barShown) this.out.write('\r\x1b[K');
    this.barShown = false;
  }

  on(e: TrainEvent): void {
    switch (e.type) {
      case 'epoch-start':
        this.nextTenth = 1;
        this.lastDraw = 0;
        return;
      case 'progress': {
        if (this.quiet || e.step >= e.steps) return;
        const stats = `loss ${e.loss.toFixed(4)}${metricsText(e.metrics, 1, short)}  ${formatInt(Math.round(e.samplesPerSec))} samples/s  ETA ${etaText(e.etaSeconds)}`;
        const count = `${String(e.step).padStart(String(e.steps).length)}/${e.steps}`;
        if (this.tty) {
          const t = performance.now();
          if (t - this.lastDraw < 100) return;
          this.lastDraw = t;
          // The bar takes what the terminal leaves (10–30 columns); the line never wraps.
          const columns = this.out.columns > 0 ? this.out.columns - 1 : 119;
          const head = `epoch ${e.epoch}/${e.epochs} `;
          const tail = ` ${count}  ${stats}`;
          const width = Math.max(10, Math.min(30, columns - head.length - tail.length - 2));
          this.out.write(`\r${(head + bar(e.step, e.steps, width) + tail).slice(0, columns)}\x1b[K`);
          this.barShown = true;
        } else if (e.step >= Math.ceil((e.steps * this.nextTenth) / 10)) {
          while (this.nextTenth < 10 && e.step >= Math.ceil((e.steps * this.nextTenth) / 10)) this.nextTenth++;
          this.out.write(`epoch ${e.epoch}/${e.epochs}  ${count}  ${stats}\n`);
        }
        return;
      }
      case 'epoch': {
        this.clear();
        // Fixed widths, so that the columns line up from epoch to epoch.
        const val = e.valLoss !== undefined ? `  val_loss ${e.valLoss.toFixed(4)}${metricsText(e.valMetrics ?? {}, 2, (n) => `val_${n}`, 6)}` : '';
        this.out.write(`epoch ${e.epoch}/${e.epochs}  loss ${e.loss.toFixed(4)}${metricsText(e.metrics, 1, short, 5)}${val}  ${e.seconds.toFixed(1)} s\n`);
        return;
      }
      case 'note':
        // What a callback did (an early stop, restored weights, a lower learning rate): shown even with --quiet.
        this.clear();
        this.out.write(`${e.message}\n`);
        return;
      default:
        return;
    }
  }
}
