import { gzipSync, constants as zlib } from 'node:zlib';
import { compress as zstdCompress } from 'zstd-napi';

/**
 * One write's records as one self-contained compressed member: a gzip
 * member or a zstd frame. Concatenated members are themselves a valid file
 * (RFC 1952 §2.2; the zstd format's concatenated frames), which is what
 * lets each step append its records to an open file and still leave a file
 * any gzip/zstd reader, Hadoop's codecs included, decompresses whole.
 */
export type Compression = 'gzip' | 'zstd' | 'none';

/** The file extension per compression: `.gz` and `.zst` are what Hadoop's GzipCodec and ZStandardCodec recognise. */
export function fileExtension(compression: Compression): string {
  return compression === 'gzip' ? '.ndjson.gz' : compression === 'zstd' ? '.ndjson.zst' : '.ndjson';
}

export function encodeMember(lines: readonly string[], compression: Compression, level: number | undefined): { data: Buffer; rawBytes: number } {
  let text = '';
  for (const line of lines) text += `${line}\n`;
  const raw = Buffer.from(text);
  if (compression === 'none') return { data: raw, rawBytes: raw.length };
  if (compression === 'gzip') return { data: gzipSync(raw, { level: level ?? zlib.Z_DEFAULT_COMPRESSION }), rawBytes: raw.length };
  return { data: zstdCompress(raw, { compressionLevel: level ?? 3, checksumFlag: true }), rawBytes: raw.length };
}
