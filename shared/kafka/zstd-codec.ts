// kafkajs is CommonJS without ESM named exports; Node's ESM loader only sees its default export.
import kafkajs from 'kafkajs';
import { compress, decompress } from 'zstd-napi';

/**
 * Kafka-native zstd for kafkajs, which ships only gzip. kafkajs hands the codec
 * its record encoder; `encoder.buffer` is exactly the written records (a view up
 * to the write offset), and the broker expects one standard zstd frame of them.
 * Registration mutates kafkajs' global codec table, so it happens once, here.
 */
const { CompressionCodecs, CompressionTypes } = kafkajs;

interface RecordEncoder {
  buffer: Buffer;
}

const ZSTD_LEVEL = 3;
let registered = false;

export function registerZstdCodec(): void {
  if (registered) return;
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    compress: (encoder: RecordEncoder) => Promise.resolve(compress(encoder.buffer, { compressionLevel: ZSTD_LEVEL })),
    decompress: (buffer: Buffer) => Promise.resolve(decompress(buffer)),
  });
  registered = true;
}
