// The native binding is CommonJS without ESM named exports, so take it through the default export.
import binding from 'zstd-napi/binding.js';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { TributaryError, errorMessage } from '../errors.js';

const { DCtx, DParameter, ResetDirective } = binding;
type DecompressionContext = InstanceType<typeof DCtx>;

/**
 * One message may hold many zstd frames (the format allows concatenation), but the agent writes one and
 * the zstd CLI one per file; a message of thousands of tiny frames is a work amplifier, not data.
 */
export const MAX_ZSTD_FRAMES = 4096;
/**
 * The largest window a frame may ask the context to allocate (2^23 = 8 MiB): every standard level (1-19)
 * stays within it; only `--long`/`--ultra` frames go past, and they would make one small message allocate
 * up to 2 GiB of window.
 */
const MAX_WINDOW_LOG = 23;
/** The first output chunk when the frame declares no size; each next chunk doubles (never past the cap). */
const INITIAL_OUTPUT_BYTES = 64 * 1024;
/** Output space given to one native call, so a deadline is checked at least every ~1 MiB of output. */
const MAX_CALL_OUTPUT_BYTES = 1024 * 1024;
/** Contexts kept for reuse: one per concurrent decode (partitions_concurrently), a few at most. */
const IDLE_CONTEXTS_KEPT = 4;
/** How long one slice of an asynchronous decode may hold the event loop. */
const DEFAULT_SLICE_MS = 20;

/**
 * Native contexts are reused: each holds a few hundred KiB to a window's worth of native memory that V8
 * does not see, so a fresh context per decode lets RSS grow by gigabytes while the heap stays small and the
 * garbage collector never runs. The pool is bounded; a context beyond it is left to its finalizer.
 */
const idleContexts: DecompressionContext[] = [];

function acquireContext(): DecompressionContext {
  const context = idleContexts.pop();
  if (context !== undefined) return context;
  const created = new DCtx();
  created.setParameter(DParameter.windowLogMax, MAX_WINDOW_LOG);
  return created;
}

function releaseContext(context: DecompressionContext): void {
  // A decode that failed mid-frame leaves the context inside that frame; the next decode must start clean.
  context.reset(ResetDirective.sessionOnly);
  if (idleContexts.length < IDLE_CONTEXTS_KEPT) idleContexts.push(context);
}

/**
 * Decompresses one message incrementally, refusing to produce more than
 * `maxBytes` or to walk more than {@link MAX_ZSTD_FRAMES} frames. zstd-napi's
 * one-shot `decompress` trusts the frame header (or grows without bound when
 * the size is absent), which would let one poisoned frame exhaust a
 * collector's memory; streaming through a context lets us stop at the cap.
 *
 * zstd returns at every frame boundary, so the output goes straight into one
 * buffer owned by the decode (grown by doubling) instead of a fresh buffer per
 * call: the work is linear in input plus output whatever the frame count.
 */
export class CappedZstdDecoder {
  private context: DecompressionContext | undefined;
  /** Filled chunks; the output is their concatenation followed by `output[0, outputUsed)`. */
  private readonly filled: Buffer[] = [];
  private output: Buffer;
  private outputUsed = 0;
  private produced = 0;
  private resultBuffer: Buffer | undefined;
  private input: Uint8Array;
  private frames = 0;
  private finished = false;

  constructor(
    data: Uint8Array,
    private readonly maxBytes: number,
  ) {
    this.input = data;
    // The cap plus one byte is the most ever needed: producing that byte proves the cap is exceeded. A
    // declared content size is only a hint (a lie costs at most untouched capacity up to the cap); when it
    // is right, the output is one buffer and needs no final copy.
    const declared = declaredContentSize(data);
    const first = declared !== undefined && declared > 0 ? declared : Math.max(INITIAL_OUTPUT_BYTES, data.length * 4);
    this.output = Buffer.allocUnsafe(Math.min(maxBytes + 1, first));
    this.context = acquireContext();
  }

  /**
   * Decompresses until done or until `performance.now()` passes `deadline`;
   * true when the whole input is decoded. Throws FRAME_INVALID or
   * FRAME_TOO_LARGE (and releases the context) on bad data.
   */
  run(deadline: number): boolean {
    if (this.finished) return true;
    const context = this.context;
    if (context === undefined) throw new TributaryError('INTERNAL', 'zstd decoder used after it was closed');
    try {
      for (;;) {
        if (this.outputUsed === this.output.length) this.nextChunk();
        let result: [number, number, number];
        try {
          result = context.decompressStream(this.output.subarray(this.outputUsed, this.outputUsed + MAX_CALL_OUTPUT_BYTES), this.input);
        } catch (error) {
          throw new TributaryError('FRAME_INVALID', `frame is not valid zstd data: ${errorMessage(error)}`, { cause: error });
        }
        const [remaining, produced, consumed] = result;
        this.produced += produced;
        this.outputUsed += produced;
        this.input = this.input.subarray(consumed);
        if (this.produced > this.maxBytes) {
          throw new TributaryError('FRAME_TOO_LARGE', `frame decompresses to more than the cap of ${this.maxBytes} bytes`, {
            context: { maxBytes: this.maxBytes },
          });
        }
        if (remaining === 0) {
          this.frames++;
          if (this.input.length === 0) break;
          if (this.frames >= MAX_ZSTD_FRAMES) {
            throw new TributaryError('FRAME_INVALID', `frame holds more than ${MAX_ZSTD_FRAMES} concatenated zstd frames`, {
              context: { maxFrames: MAX_ZSTD_FRAMES },
            });
          }
        } else if (consumed === 0 && produced === 0) {
          // Output space was available and zstd neither read nor wrote: the input ends inside a frame.
          throw new TributaryError('FRAME_INVALID', 'zstd data is truncated');
        }
        if (performance.now() >= deadline) return false;
      }
    } catch (error) {
      this.close();
      throw error;
    }
    this.finished = true;
    this.close();
    return true;
  }

  /** The decompressed bytes, in a buffer of exactly their size (no spare capacity is kept alive). */
  result(): Buffer {
    if (!this.finished) throw new TributaryError('INTERNAL', 'zstd decode read before it finished');
    if (this.resultBuffer !== undefined) return this.resultBuffer;
    const last = this.output.subarray(0, this.outputUsed);
    if (this.filled.length === 0 && this.outputUsed === this.output.length) this.resultBuffer = this.output;
    else this.resultBuffer = Buffer.concat([...this.filled, last], this.produced);
    this.filled.length = 0;
    this.output = this.resultBuffer;
    this.outputUsed = this.resultBuffer.length;
    return this.resultBuffer;
  }

  /** Gives the context back; safe to call more than once and before the decode finished. */
  close(): void {
    if (this.context === undefined) return;
    releaseContext(this.context);
    this.context = undefined;
  }

  /** Starts a chunk twice the size of the last (never past the cap): growth copies nothing, and there are O(log output) chunks. */
  private nextChunk(): void {
    this.filled.push(this.output);
    const size = Math.min(this.maxBytes + 1 - this.produced, Math.max(INITIAL_OUTPUT_BYTES, this.output.length * 2));
    this.output = Buffer.allocUnsafe(Math.max(size, 1));
    this.outputUsed = 0;
  }
}

/** The first frame's declared content size, if it declares one. */
function declaredContentSize(data: Uint8Array): number | undefined {
  try {
    const size = binding.getFrameContentSize(data);
    return size === null || !Number.isSafeInteger(size) ? undefined : size;
  } catch {
    return undefined; // not a zstd frame header: the decode itself reports that
  }
}

/** Decompresses `data` in one synchronous call, within `maxBytes` and {@link MAX_ZSTD_FRAMES}. */
export function decompressCapped(data: Uint8Array, maxBytes: number): Buffer {
  const decoder = new CappedZstdDecoder(data, maxBytes);
  try {
    decoder.run(Number.POSITIVE_INFINITY);
    return decoder.result();
  } finally {
    decoder.close();
  }
}

/**
 * Like {@link decompressCapped}, but gives the event loop back every
 * `sliceMs`: a 64 MiB frame takes long enough to delay heartbeats and
 * health checks when decoded in one go.
 */
export async function decompressCappedAsync(data: Uint8Array, maxBytes: number, sliceMs = DEFAULT_SLICE_MS): Promise<Buffer> {
  const decoder = new CappedZstdDecoder(data, maxBytes);
  try {
    while (!decoder.run(performance.now() + sliceMs)) await yieldToEventLoop();
    return decoder.result();
  } finally {
    decoder.close();
  }
}
