import type { Writable } from 'node:stream';
import { unreachable } from '../common/index.js';
import type { JobProgressEvent, ProgressSink } from '../engine/index.js';

/** `--progress` modes, as BuildKit names them. */
export type ProgressMode = 'auto' | 'plain' | 'tty' | 'quiet';

interface Vertex {
  id: number;
  name: string;
  startedMs: number;
  endedMs?: number;
  cached?: boolean;
  error?: string;
  tail: string[];
  partial: string;
}

/** Pick the display for a mode: `auto` is tty when the output is a terminal, else plain. */
export function makeProgress(mode: ProgressMode, out: Writable & { isTTY?: boolean; columns?: number }): ProgressSink & {
  close(): void;
} {
  if (mode === 'quiet') return { start() {}, log() {}, status() {}, end() {}, warn() {}, close() {} };
  if (mode === 'tty' || (mode === 'auto' && out.isTTY)) return new TtyProgress(out);
  return new PlainProgress(out);
}

/**
 * A job's `progress` listener drawing on `display`; `message` events (a pull's progress, a
 * cache transfer) are lines on `messages` in every mode, as before the steps began.
 */
export function renderTo(display: ProgressSink, messages: Writable): (e: JobProgressEvent) => void {
  return ({ detail: e }) => {
    switch (e.type) {
      case 'step-start':
        return display.start(e.step, e.name);
      case 'step-log':
        return display.log(e.step, e.chunk);
      case 'step-status':
        return display.status(e.step, e.text);
      case 'step-end':
        return display.end(e.step, { cached: e.cached, ...(e.error !== undefined ? { error: e.error } : {}) });
      case 'warning':
        return display.warn(e.text);
      case 'checks':
        return; // printed by the build command after the display closes (cli/render-warning.ts)
      case 'message':
        messages.write(e.text + '\n');
        return;
      default:
        return unreachable(e);
    }
  };
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1) + 's';
}

/** BuildKit's plain format: `#3 [2/3] ADD hello /`, output lines prefixed with `#3 0.123`, `#3 DONE 0.1s`. */
class PlainProgress implements ProgressSink {
  private readonly vertices = new Map<number, Vertex>();
  constructor(private readonly out: Writable) {}

  start(id: number, name: string): void {
    this.vertices.set(id, { id, name, startedMs: Date.now(), tail: [], partial: '' });
    this.out.write(`#${id} ${name}\n`);
  }
  log(id: number, chunk: Uint8Array): void {
    const v = this.vertices.get(id);
    if (!v) return;
    const text = v.partial + Buffer.from(chunk).toString('utf8');
    const lines = text.split('\n');
    v.partial = lines.pop() ?? '';
    const t = ((Date.now() - v.startedMs) / 1000).toFixed(3);
    for (const line of lines) this.out.write(`#${id} ${t} ${line}\n`);
  }
  status(id: number, text: string): void {
    this.out.write(`#${id} ${text}\n`);
  }
  end(id: number, outcome: { cached?: boolean; error?: string }): void {
    const v = this.vertices.get(id);
    if (v?.partial) this.log(id, Buffer.from('\n'));
    const took = v ? seconds(Date.now() - v.startedMs) : '0.0s';
    if (outcome.cached) this.out.write(`#${id} CACHED\n\n`);
    else if (outcome.error) this.out.write(`#${id} ERROR: ${outcome.error}\n\n`);
    else this.out.write(`#${id} DONE ${took}\n\n`);
  }
  warn(text: string): void {
    this.out.write(`WARNING: ${text}\n`);
  }
  close(): void {}
}

/** Redraws the list of steps in place (ANSI), with the last output lines of running steps. */
class TtyProgress implements ProgressSink {
  private readonly vertices: Vertex[] = [];
  private readonly warnings: string[] = [];
  private drawnLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly startedMs = Date.now();

  constructor(private readonly out: Writable & { columns?: number; rows?: number }) {
    this.timer = setInterval(() => this.draw(), 100);
    this.timer.unref();
  }
  private find(id: number): Vertex | undefined {
    return this.vertices.find((v) => v.id === id);
  }
  start(id: number, name: string): void {
    this.vertices.push({ id, name, startedMs: Date.now(), tail: [], partial: '' });
  }
  log(id: number, chunk: Uint8Array): void {
    const v = this.find(id);
    if (!v) return;
    const lines = (v.partial + Buffer.from(chunk).toString('utf8')).split('\n');
    v.partial = lines.pop() ?? '';
    v.tail.push(...lines);
    if (v.tail.length > 6) v.tail.splice(0, v.tail.length - 6);
  }
  status(id: number, text: string): void {
    this.find(id)?.tail.push(text);
  }
  end(id: number, outcome: { cached?: boolean; error?: string }): void {
    const v = this.find(id);
    if (!v) return;
    v.endedMs = Date.now();
    v.cached = outcome.cached;
    v.error = outcome.error;
  }
  warn(text: string): void {
    this.warnings.push(text);
  }
  private draw(): void {
    const width = Math.max(40, this.out.columns ?? 80);
    const clip = (s: string) => (s.length > width - 1 ? s.slice(0, width - 2) + '…' : s);
    const lines: string[] = [`[+] Building ${seconds(Date.now() - this.startedMs)}`];
    for (const v of this.vertices) {
      const state = v.cached
        ? 'CACHED'
        : v.error
          ? 'ERROR'
          : seconds((v.endedMs ?? Date.now()) - v.startedMs);
      // A long name is cut, never the time: the state column stays where it is.
      const name = ` => ${v.name}`;
      const room = width - 10;
      lines.push((name.length > room ? name.slice(0, room - 1) + '…' : name.padEnd(room)) + state.padStart(8));
      if (v.endedMs === undefined || v.error) for (const t of v.tail) lines.push(clip(` => => ${t}`));
    }
    // The cursor cannot move up past the top of the screen: a frame taller than it keeps its
    // header and its newest lines, or each redraw would start lower and scroll garbage up.
    // A pty without a size (`script` in a pipeline) reports 0 rows: no limit then.
    const rows = this.out.rows || Infinity;
    if (lines.length > rows - 1) lines.splice(1, lines.length - Math.max(1, rows - 1));
    let s = this.drawnLines > 0 ? `\x1b[${this.drawnLines}A` : '';
    s += lines.map((l) => `\x1b[2K${l}\n`).join('');
    // Erase below: a frame shorter than the last one must not leave that one's tail on screen.
    s += '\x1b[J';
    this.out.write(s);
    this.drawnLines = lines.length;
  }
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.draw();
    for (const w of this.warnings) this.out.write(`WARNING: ${w}\n`);
  }
}
