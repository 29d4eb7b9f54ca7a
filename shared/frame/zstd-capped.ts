// The native binding is CommonJS without ESM named exports, so take it through the default export.
import binding from 'zstd-napi/binding.js';
import { TributaryError, errorMessage } from '../errors.js';

const { DCtx } = binding;
const OUTPUT_CHUNK_BYTES = 256 * 1024;

/**
 * Decompresses zstd data, refusing to produce more than `maxBytes`. zstd-napi's
 * one-shot `decompress` trusts the frame header (or grows without bound when the
 * size is absent), which would let one poisoned frame exhaust a collector's
 * memory; streaming through a context lets us stop at the cap.
 */
export function decompressCapped(data: Uint8Array, maxBytes: number): Buffer {
  const context = new DCtx();
  const chunks: Buffer[] = [];
  let produced = 0;
  let input = data;
  let lastReturn = 1;
  while (input.length > 0 || lastReturn !== 0) {
    const output = Buffer.allocUnsafe(OUTPUT_CHUNK_BYTES);
    let result: [number, number, number];
    try {
      result = context.decompressStream(output, input);
    } catch (error) {
      throw new TributaryError('FRAME_INVALID', `frame is not valid zstd data: ${errorMessage(error)}`, { cause: error });
    }
    const [returnValue, outputProduced, inputConsumed] = result;
    lastReturn = returnValue;
    input = input.subarray(inputConsumed);
    if (outputProduced > 0) {
      produced += outputProduced;
      if (produced > maxBytes) {
        throw new TributaryError('FRAME_TOO_LARGE', `frame decompresses to more than the cap of ${maxBytes} bytes`, {
          context: { maxBytes },
        });
      }
      chunks.push(output.subarray(0, outputProduced));
    }
    if (inputConsumed === 0 && outputProduced === 0) {
      if (returnValue !== 0) throw new TributaryError('FRAME_INVALID', 'zstd data is truncated');
      break;
    }
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, produced);
}
