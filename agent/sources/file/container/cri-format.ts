import type { ContainerLine } from './partial-assembler.js';

/**
 * The line prefix of the CRI logging format, written by containerd and CRI-O
 * under /var/log/pods (Kubernetes design proposal "kubelet-cri-logging";
 * kubelet parses it in `pkg/kubelet/kuberuntime/logs`):
 *
 *   2024-01-01T00:00:00.123456789Z stdout F message text
 *
 * - time: RFC 3339 with up to nanoseconds; CRI-O writes the node's offset
 *   (`-07:00`) instead of `Z`.
 * - stream: `stdout` or `stderr`.
 * - tag: `F` (full: the runtime saw the newline) or `P` (partial: the runtime
 *   cut a long line; the next lines of the same stream continue it). The tag
 *   may carry more `:`-separated flags, which are reserved for future use, so
 *   only the first one is read. A first flag other than P or F is rejected:
 *   nothing writes one, and accepting it would let arbitrary timestamped text
 *   pass as CRI.
 * - content: the rest after one space, possibly empty. Runtimes write the space
 *   even before empty content; a line ending right after the tag is accepted
 *   too, as something may have trimmed trailing whitespace.
 */
const CRI_PREFIX = /^(\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})) (stdout|stderr) ([PF])(?::[^ ]*)?(?: |$)/;

/** Parses one CRI log line; undefined when it does not match the format. */
export function parseCriLine(text: string): ContainerLine | undefined {
  const match = CRI_PREFIX.exec(text);
  if (match === null) return undefined;
  const [prefix, time, stream, tag] = match;
  if (time === undefined || (stream !== 'stdout' && stream !== 'stderr')) return undefined;
  return { time, stream, content: text.slice(prefix.length), partial: tag === 'P' };
}
