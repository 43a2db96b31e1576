// Where the time and memory of one analysis go: wall-clock milliseconds and peak resident memory of each
// phase (reading the model, tracing it, fingerprinting weights, analyzing, costing the run), for the report's `timings`
// and for progress output.
//
// Peak memory per phase: on Linux the kernel's high-water mark (VmHWM) is reset at each phase boundary
// (`5` written to /proc/self/clear_refs) and read at the next, so each phase gets its own peak. Where that
// is not possible, a phase gets the process's peak so far (getrusage), which only grows.
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { PhaseTiming } from '../report/report.ts';

export type PhaseName = 'read' | 'trace' | 'fingerprint' | 'analyze' | 'cost';

/** The order phases are reported in. */
const ORDER: readonly PhaseName[] = ['read', 'trace', 'fingerprint', 'analyze', 'cost'];

export interface PhaseHooks {
  /** A phase starts (for progress output). */
  onPhaseStart?: ((name: PhaseName) => void) | undefined;
  /** A phase ended after `ms` milliseconds (not counting phases run inside it). */
  onPhase?: ((name: PhaseName, ms: number) => void) | undefined;
}

interface Running {
  name: PhaseName;
  started: number;
  /** Milliseconds of phases run inside this one. */
  inner: number;
}

export class PhaseClock {
  private readonly totals = new Map<PhaseName, { ms: number; peak: number }>();
  private readonly running: Running[] = [];
  private readonly peaks = new PeakMemory();

  constructor(private readonly hooks: PhaseHooks = {}) {}

  /** Runs `work` as the phase `name` (phases may nest: the inner one's time is its own). */
  run<T>(name: PhaseName, work: () => T): T {
    this.enter(name);
    try {
      return work();
    } finally {
      this.leave();
    }
  }

  async runAsync<T>(name: PhaseName, work: () => Promise<T>): Promise<T> {
    this.enter(name);
    try {
      return await work();
    } finally {
      this.leave();
    }
  }

  /** Memory used elsewhere during the phase (the trace's worker process), added to its peak. */
  addPeak(name: PhaseName, bytes: number): void {
    const total = this.totals.get(name);
    if (total) total.peak += bytes;
  }

  timings(): PhaseTiming[] {
    return ORDER.filter((name) => this.totals.has(name)).map((name) => {
      const { ms, peak } = this.totals.get(name)!;
      return { phase: name, ms: Math.round(ms * 10) / 10, peakRssBytes: peak };
    });
  }

  private enter(name: PhaseName): void {
    const outer = this.running.at(-1);
    if (outer) this.record(outer.name, 0, this.peaks.takePeak());
    else this.peaks.takePeak();
    this.running.push({ name, started: performance.now(), inner: 0 });
    this.hooks.onPhaseStart?.(name);
  }

  private leave(): void {
    const phase = this.running.pop()!;
    const elapsed = performance.now() - phase.started;
    const ms = elapsed - phase.inner;
    const outer = this.running.at(-1);
    if (outer) outer.inner += elapsed;
    this.record(phase.name, ms, this.peaks.takePeak());
    this.hooks.onPhase?.(phase.name, ms);
  }

  private record(name: PhaseName, ms: number, peak: number): void {
    const total = this.totals.get(name);
    if (total) {
      total.ms += ms;
      total.peak = Math.max(total.peak, peak);
    } else this.totals.set(name, { ms, peak });
  }
}

/** The process's peak resident memory since the last call, in bytes. */
class PeakMemory {
  private resettable = process.platform === 'linux';

  takePeak(): number {
    let peak: number | undefined;
    if (this.resettable) {
      try {
        const kb = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
        if (kb !== undefined) peak = Number(kb) * 1024;
        writeFileSync('/proc/self/clear_refs', '5');
      } catch {
        this.resettable = false;
      }
    }
    return peak ?? process.resourceUsage().maxRSS * 1024;
  }
}
