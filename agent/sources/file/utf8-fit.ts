/**
 * The longest prefix of `text` that fits in `room` UTF-8 bytes, cut between
 * characters, and its size. Shared by the stages that cap record sizes.
 */
export function fitUtf8(text: string, room: number): { text: string; bytes: number; cut: boolean } {
  const size = Buffer.byteLength(text, 'utf8');
  if (size <= room) return { text, bytes: size, cut: false };
  const encoded = Buffer.from(text, 'utf8');
  let end = Math.max(room, 0);
  // Back off over continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && ((encoded[end] ?? 0) & 0xc0) === 0x80) end--;
  return { text: encoded.toString('utf8', 0, end), bytes: end, cut: true };
}
