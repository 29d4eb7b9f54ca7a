/**
 * The longest prefix of `text` that fits in `room` bytes of UTF-8, cut
 * between characters (a surrogate pair is never split), with its size in
 * bytes and whether anything was cut. Bytes are counted as Buffer.byteLength
 * counts them (a lone surrogate as the 3 bytes of U+FFFD), and the prefix is
 * a slice of `text` itself, so nothing before the cut is altered.
 */
export function fitUtf8(text: string, room: number): { text: string; bytes: number; cut: boolean } {
  // Every UTF-16 unit is 1 to 3 bytes: a text of at most room/3 units fits without counting.
  if (text.length * 3 <= room) return { text, bytes: Buffer.byteLength(text), cut: false };
  let bytes = 0;
  let index = 0;
  while (index < text.length) {
    const unit = text.charCodeAt(index);
    let size: number;
    let units = 1;
    if (unit < 0x80) size = 1;
    else if (unit < 0x800) size = 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && isLowSurrogate(text.charCodeAt(index + 1))) {
      size = 4;
      units = 2;
    } else size = 3;
    if (bytes + size > room) return { text: text.slice(0, index), bytes, cut: true };
    bytes += size;
    index += units;
  }
  return { text, bytes, cut: false };
}

/** `text` cut to at most `maxBytes` of UTF-8 without splitting a character (see fitUtf8). */
export function truncateUtf8(text: string, maxBytes: number): string {
  return fitUtf8(text, maxBytes).text;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
