import type { LineRecord, LineStage } from '../line-stage.js';
import type { ContainerFormat } from './config.js';
import { parseCriLine } from './cri-format.js';
import { parseDockerLine } from './docker-format.js';
import { PartialAssembler, type ContainerFormatStats, type ContainerLine } from './partial-assembler.js';

type ParsedFormat = 'cri' | 'docker';

/**
 * Unwraps container runtime log lines (CRI or Docker json-file) into records
 * carrying the content, the runtime's timestamp and `log.iostream`, joining
 * the pieces of lines the runtime split (see `PartialAssembler` for the
 * per-stream reassembly and its completion ordering).
 *
 * A line that does not match its format is passed through unchanged with
 * `tributary.parse_error` naming the format and counted; nothing is dropped
 * and nothing throws, so a misconfigured source still delivers its lines.
 *
 * Container formats have no timeouts: the runtime always ends a split line
 * with a final piece, so partials wait for it (bounded by `maxBytes` per
 * stream) and only `flushAll` emits them unfinished.
 */
export class ContainerFormatStage implements LineStage {
  readonly stats: ContainerFormatStats = { malformed: 0, truncated: 0, partialsDropped: 0, unterminated: 0 };
  private readonly assembler: PartialAssembler;

  /** `maxBytes`: the most content one record keeps (and so the most pending text per stream). */
  constructor(
    private readonly format: Exclude<ContainerFormat, 'none'>,
    maxBytes: number,
  ) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
    this.assembler = new PartialAssembler(maxBytes, this.stats);
  }

  push(lines: readonly LineRecord[], _nowMs: number): LineRecord[] {
    const records: LineRecord[] = [];
    for (const line of lines) {
      const format = this.formatOf(line.text);
      const parsed: ContainerLine | undefined = format === 'cri' ? parseCriLine(line.text) : parseDockerLine(line.text);
      if (parsed === undefined) {
        this.stats.malformed++;
        records.push({ ...line, attributes: { ...line.attributes, 'tributary.parse_error': format } });
        continue;
      }
      const record = this.assembler.add(line, parsed);
      if (record !== undefined) records.push(record);
    }
    return records;
  }

  flushDue(_nowMs: number): LineRecord[] {
    return [];
  }

  flushAll(): LineRecord[] {
    return this.assembler.flushAll();
  }

  nextDeadline(): number | undefined {
    return undefined;
  }

  /**
   * File offset of the oldest line held in an unfinished record. Records come
   * out in order of completion, so one may end past a line still pending on
   * the other stream: a checkpoint must not pass this offset.
   */
  pendingOffset(): number | undefined {
    return this.assembler.pendingOffset();
  }

  /** In `auto` mode a line starting with `{` is taken for Docker json-file, any other for CRI (whose lines start with a digit). */
  private formatOf(text: string): ParsedFormat {
    if (this.format !== 'auto') return this.format;
    return text.startsWith('{') ? 'docker' : 'cri';
  }
}
