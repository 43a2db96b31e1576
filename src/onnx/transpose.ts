// The memory that weight bytes are read into, and the transposition of a band of a matrix's rows into
// the matching rows of its transpose (TensorReader builds a transpose band by band, to compare a tensor
// with a transposed copy of it). 2- and 4-byte elements, the common weights, are moved by WebAssembly
// SIMD (src/onnx/transpose.wat): a JavaScript loop runs interpreted until V8 has optimized it, and on
// one 32 MiB transpose that warm-up cost more than the whole transpose does in WebAssembly (~24 vs
// ~10 ms). Other sizes, and every size where WebAssembly is missing, go through the JavaScript loops.
import { TRANSPOSE_WASM } from './transpose-wasm.generated.ts';

/** A transposition of rows r0..r1 of a rows x cols matrix (band) into rows c0..c1 of its transpose (out). */
type Kernel = (
  band: number,
  out: number,
  r0: number,
  r1: number,
  c0: number,
  c1: number,
  rows: number,
  cols: number,
) => void;

/** Largest WebAssembly workspace: its addresses are 32-bit. Larger ones are plain memory. */
const WASM_LIMIT = 2 ** 31;
const PAGE = 65536;

let compiled: WebAssembly.Module | null | undefined;

/** The compiled kernels, or null where this Node has no WebAssembly (--jitless) or no SIMD. */
function transposeModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    if (typeof WebAssembly === 'undefined') return (compiled = null);
    try {
      compiled = new WebAssembly.Module(Buffer.from(TRANSPOSE_WASM, 'base64'));
    } catch (error) {
      // A CPU without the instructions SIMD needs: the JavaScript loops do the work.
      if (!(error instanceof WebAssembly.CompileError)) throw error;
      compiled = null;
    }
  }
  return compiled;
}

/** Rows r0..r1 and columns c0..c1 of a rows x cols matrix: a band's part of a transpose. */
export interface Span {
  r0: number;
  r1: number;
  c0: number;
  c1: number;
  rows: number;
  cols: number;
}

export interface WorkspaceOptions {
  /** Use the WebAssembly kernels where they apply (default true; false for tests of the fallback). */
  wasm?: boolean;
  /** Largest workspace kept in WebAssembly memory, in bytes (default 2 GiB). */
  wasmLimit?: number;
}

/**
 * Two buffers in one memory, reused for every read of weight bytes (fresh memory costs a page fault per
 * 4 KiB page on first write: ~2.4 us on a VM): `block` streams a tensor or holds a band of its rows,
 * `slab` holds a transpose being built or a second tensor's bytes. Both live in WebAssembly memory, so
 * that the kernels can move bytes from one to the other.
 */
export class Workspace {
  private memory: WebAssembly.Memory | undefined;
  private kernels: { t16: Kernel; t32: Kernel } | undefined;
  private plain: ArrayBuffer | undefined;
  private readonly wasm: boolean;
  private readonly wasmLimit: number;
  private inWasm = false;

  constructor(options: WorkspaceOptions = {}) {
    this.wasm = options.wasm ?? true;
    this.wasmLimit = options.wasmLimit ?? WASM_LIMIT;
  }

  /**
   * A block and a slab of exactly these sizes. They stay valid until the next call: a larger request
   * grows the memory, which detaches the views handed out before (using one then fails loudly).
   */
  buffers(blockBytes: number, slabBytes: number): { block: Uint8Array; slab: Uint8Array } {
    // The slab starts 16-byte aligned, for the typed-array views and SIMD loads.
    const slabAt = Math.ceil(blockBytes / 16) * 16;
    const buffer = this.backing(slabAt + slabBytes);
    return { block: new Uint8Array(buffer, 0, blockBytes), slab: new Uint8Array(buffer, slabAt, slabBytes) };
  }

  /** Whether the last buffers() are WebAssembly memory (their 2- and 4-byte transposes run there). */
  get wasmMemory(): boolean {
    return this.inWasm;
  }

  /**
   * out[(c - c0) * rows + r] = band[(r - r0) * cols + c] over the span, elements being `unit` bytes;
   * band and out are views handed out by buffers().
   */
  transpose(unit: number, band: Uint8Array, out: Uint8Array, span: Span): void {
    const kernel = unit === 4 ? this.kernels?.t32 : unit === 2 ? this.kernels?.t16 : undefined;
    const memory = this.memory?.buffer;
    if (kernel && band.buffer === memory && out.buffer === memory) {
      const { r0, r1, c0, c1, rows, cols } = span;
      kernel(band.byteOffset, out.byteOffset, r0, r1, c0, c1, rows, cols);
      return;
    }
    transposeBand(unit, band, out, span);
  }

  /** Memory of at least `size` bytes: WebAssembly memory where it can be, otherwise plain. */
  private backing(size: number): ArrayBuffer {
    const module = this.wasm && size <= this.wasmLimit ? transposeModule() : null;
    this.inWasm = module !== null;
    if (module) {
      const pages = Math.max(1, Math.ceil(size / PAGE));
      if (!this.memory) {
        this.memory = new WebAssembly.Memory({ initial: pages });
        const { exports } = new WebAssembly.Instance(module, { env: { memory: this.memory } });
        this.kernels = { t16: exports.t16 as Kernel, t32: exports.t32 as Kernel };
      } else if (this.memory.buffer.byteLength < size) {
        this.memory.grow(pages - this.memory.buffer.byteLength / PAGE);
      }
      return this.memory.buffer;
    }
    if (!this.plain || this.plain.byteLength < size) this.plain = new ArrayBuffer(size);
    return this.plain;
  }
}

const TILE = 32;
const TILE32 = 64;

type Words = Uint8Array | Uint16Array | Uint32Array;

/** The JavaScript transposition (Workspace.transpose's contract), for any element size. */
function transposeBand(unit: number, band: Uint8Array, out: Uint8Array, span: Span): void {
  const { r0, r1, c0, c1, rows, cols } = span;
  // Whole 4-byte words where the element is made of them (float32, int64, complex), else its own width.
  const view = (b: Uint8Array): Words =>
    unit % 4 === 0
      ? new Uint32Array(b.buffer, b.byteOffset, b.length / 4)
      : unit === 2
        ? new Uint16Array(b.buffer, b.byteOffset, b.length / 2)
        : b;
  const words = unit % 4 === 0 ? unit / 4 : 1;
  const [from, to] = [view(band), view(out)];
  if (words === 1 && from instanceof Uint32Array) {
    transpose32(from, to as Uint32Array, span);
    return;
  }
  // One loop per array type would keep it monomorphic; this one serves the rarer sizes.
  for (let rt = r0; rt < r1; rt += TILE) {
    const rEnd = Math.min(r1, rt + TILE);
    for (let ct = c0; ct < c1; ct += TILE) {
      const cEnd = Math.min(c1, ct + TILE);
      for (let c = ct; c < cEnd; c++) {
        for (let r = rt; r < rEnd; r++) {
          const src = ((r - r0) * cols + c) * words;
          const dst = ((c - c0) * rows + r) * words;
          for (let w = 0; w < words; w++) to[dst + w] = from[src + w]!;
        }
      }
    }
  }
}

/**
 * transposeBand for 4-byte elements: four columns at a time, four neighbouring reads from each row and
 * four output rows written in step (twice as fast as one column at a time once optimized).
 */
function transpose32(band: Uint32Array, out: Uint32Array, span: Span): void {
  const { r0, r1, c0, c1, rows, cols } = span;
  for (let rt = r0; rt < r1; rt += TILE32) {
    const rEnd = Math.min(r1, rt + TILE32);
    for (let ct = c0; ct < c1; ct += TILE32) {
      const cEnd = Math.min(c1, ct + TILE32);
      let c = ct;
      for (; c + 3 < cEnd; c += 4) {
        let src = (rt - r0) * cols + c;
        const d0 = (c - c0) * rows;
        const d1 = d0 + rows;
        const d2 = d1 + rows;
        const d3 = d2 + rows;
        for (let r = rt; r < rEnd; r++) {
          out[d0 + r] = band[src]!;
          out[d1 + r] = band[src + 1]!;
          out[d2 + r] = band[src + 2]!;
          out[d3 + r] = band[src + 3]!;
          src += cols;
        }
      }
      for (; c < cEnd; c++) {
        let src = (rt - r0) * cols + c;
        let dst = (c - c0) * rows + rt;
        for (let r = rt; r < rEnd; r++) {
          out[dst++] = band[src]!;
          src += cols;
        }
      }
    }
  }
}
