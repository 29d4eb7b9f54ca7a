/**
 * Syslog line parser: RFC 3164 (BSD syslog, also as rsyslog/sysklogd write it
 * to files, i.e. without the `<PRI>`) and RFC 5424.
 *
 * Field mapping (OpenTelemetry names where semconv has one, `log.syslog.*`
 * for syslog's own header fields):
 *
 * | syslog                  | ParsedFields                                                    |
 * |-------------------------|-----------------------------------------------------------------|
 * | PRI                     | severity (RFC 5424 §6.2.1 severity = PRI & 7, see severity.ts), |
 * |                         | `log.syslog.facility.code`, `log.syslog.severity.code`          |
 * | VERSION (5424)          | `log.syslog.version`                                            |
 * | TIMESTAMP               | `timestamp`                                                     |
 * | HOSTNAME                | `resource['host.name']`                                         |
 * | APP-NAME / TAG          | `log.syslog.appname`                                            |
 * | PROCID / `[pid]`        | `process.pid` when numeric, else `log.syslog.procid`            |
 * | MSGID (5424)            | `log.syslog.msgid`                                              |
 * | SD-ELEMENT / SD-PARAM   | `log.syslog.structured_data.<SD-ID>.<PARAM-NAME>`               |
 * | MSG                     | `body`                                                          |
 *
 * Why `log.syslog.appname` and not `process.executable.name`: APP-NAME
 * "identifies the device or application that originated the message"
 * (RFC 5424 §6.2.5) and is whatever the sender passed to openlog(); in files
 * it is often not an executable at all (`sshd(pam_unix)`, `-- root`).
 *
 * Without a PRI the line carries no severity, and none is invented.
 * NILVALUE `-` (RFC 5424 §6.2) leaves the corresponding field out.
 */

import { dataObject } from '../../../shared/record/key-path.js';
import { setDataKey } from '../data-keys.js';
import { severityFromSyslogPriority } from './severity.js';
import { parseTimestamp } from './timestamp.js';
import type { LineParser, ParsedFields, ParseResult } from './types.js';

export interface SyslogParserOptions {
  format: 'rfc3164' | 'rfc5424' | 'auto';
  /** Zone for RFC 3164 timestamps, which carry none (IANA name or `+02:00`); default 'UTC'. */
  timezone?: string;
  /** "Now" for the year inference of RFC 3164 timestamps; default the wall clock. */
  referenceTime?: () => Date;
}

export function createSyslogParser(options: SyslogParserOptions): LineParser {
  const name = `syslog_${options.format}`;
  const parse = (line: string): ParseResult => {
    const text = line.replace(/\r?\n$/, '');
    if (options.format === 'rfc5424') return parseRfc5424(text);
    if (options.format === 'rfc3164') return parseRfc3164(text, options);
    // RFC 5424 is recognised by its VERSION right after the PRI (§6.2.2: "1").
    return RFC5424_START.test(text) ? parseRfc5424(text) : parseRfc3164(text, options);
  };
  return { name, parse };
}

const RFC5424_START = /^<\d{1,3}>[1-9]\d{0,2} /;
const NIL = '-';

/** `<PRI>`: 1–3 digits, at most 191 = facility 23 × 8 + 7 (RFC 5424 §6.2.1). */
function readPri(text: string): { priority: number; rest: string } | undefined | 'invalid' {
  const m = /^<(\d{1,3})>/.exec(text);
  if (m === null) return undefined;
  const priority = Number(m[1]);
  if (priority > 191) return 'invalid';
  return { priority, rest: text.slice(m[0].length) };
}

/**
 * Syslog carries its severity as a number only; the text "as known at the
 * source" is the RFC 5424 §6.2.1 keyword syslog itself uses for it (syslog.h,
 * rsyslog's `syslogseverity-text`).
 */
const SYSLOG_SEVERITY_NAMES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;

function priorityFields(priority: number, fields: ParsedFields): void {
  const severity = severityFromSyslogPriority(priority);
  fields.severityNumber = severity.number;
  fields.severityText = SYSLOG_SEVERITY_NAMES[priority & 7] ?? 'info';
  fields.attributes['log.syslog.facility.code'] = priority >> 3;
  fields.attributes['log.syslog.severity.code'] = priority & 7;
}

function setProcId(procId: string, fields: ParsedFields): void {
  if (/^\d{1,10}$/.test(procId)) fields.attributes['process.pid'] = Number(procId);
  else fields.attributes['log.syslog.procid'] = procId;
}

// ---------------------------------------------------------------------------
// RFC 3164

/**
 * `TIMESTAMP SP HOSTNAME SP [TAG[ '[' PID ']' ] ':' SP] MSG` (RFC 3164 §4.1.2,
 * §4.1.3). The timestamp is `Mmm dd hh:mm:ss` (day padded with a space);
 * rsyslog's high-precision file format writes an RFC 3339 timestamp instead,
 * which is accepted too.
 */
const RFC3164_HEADER = new RegExp(
  '^(?<ts>[A-Za-z]{3} [ \\d]\\d \\d{2}:\\d{2}:\\d{2}(?:\\.\\d{1,9})?|\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d{1,9})?(?:Z|[+-]\\d{2}:\\d{2}))' +
    ' +(?<host>\\S+)(?: +(?<rest>.*))?$',
  's',
);

/**
 * The TAG: RFC 3164 says "alphanumeric, at most 32 characters", real senders
 * put anything in openlog()'s ident. We take one word, or two for the idents
 * old sysklogd and login write (`syslogd 1.4.1: restart.`, `-- root[2421]:`),
 * followed by an optional `[pid]` and a colon. A line without such a prefix
 * has no TAG (allowed by §4.1.3) and its whole content is the message.
 */
const TAG = /^(?<tag>[^\s:[\]]+(?: [^\s:[\]]+)?)(?:\[(?<pid>[^\]]*)\])?:(?: |$)/;

function parseRfc3164(line: string, options: SyslogParserOptions): ParseResult {
  const fields: ParsedFields = { attributes: dataObject() };
  let text = line;
  const pri = readPri(text);
  if (pri === 'invalid') return { ok: false, error: 'syslog PRI above 191' };
  if (pri !== undefined) {
    priorityFields(pri.priority, fields);
    text = pri.rest;
  }

  const header = RFC3164_HEADER.exec(text);
  const ts = header?.groups?.['ts'];
  const host = header?.groups?.['host'];
  if (header === null || ts === undefined || host === undefined) return { ok: false, error: 'no RFC 3164 timestamp and hostname' };
  const timestamp = parseTimestamp(ts, {
    timezone: options.timezone,
    referenceTime: options.referenceTime?.(),
  });
  if (timestamp === undefined) return { ok: false, error: `invalid RFC 3164 timestamp "${ts}"` };
  fields.timestamp = timestamp;
  fields.resource = { 'host.name': host };

  const rest = header.groups?.['rest'] ?? '';
  const tag = TAG.exec(rest);
  if (tag?.groups?.['tag'] !== undefined) {
    fields.attributes['log.syslog.appname'] = tag.groups['tag'];
    const pid = tag.groups['pid'];
    if (pid !== undefined && pid !== '') setProcId(pid, fields);
    fields.body = rest.slice(tag[0].length);
  } else {
    fields.body = rest;
  }
  return { ok: true, fields };
}

// ---------------------------------------------------------------------------
// RFC 5424

/**
 * `<PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP
 * STRUCTURED-DATA [SP MSG]` (RFC 5424 §6). Header fields are PRINTUSASCII
 * with the lengths of §6 (255/48/128/32); they are checked loosely (no
 * spaces) since rejecting a long hostname would lose the whole line.
 */
function parseRfc5424(line: string): ParseResult {
  const pri = readPri(line);
  if (pri === undefined) return { ok: false, error: 'RFC 5424 line without <PRI>' };
  if (pri === 'invalid') return { ok: false, error: 'syslog PRI above 191' };

  const header = /^([1-9]\d{0,2}) (\S+) (\S+) (\S+) (\S+) (\S+) /.exec(pri.rest);
  if (header === null) return { ok: false, error: 'incomplete RFC 5424 header' };
  const [, version = '', ts = '', host = '', appName = '', procId = '', msgId = ''] = header;

  const fields: ParsedFields = { attributes: dataObject() };
  priorityFields(pri.priority, fields);
  fields.attributes['log.syslog.version'] = Number(version);
  if (ts !== NIL) {
    // §6.2.3: an RFC 3339 timestamp that must carry its offset ("Z" or ±hh:mm).
    const timestamp = /(?:Z|[+-]\d{2}:\d{2})$/i.test(ts) ? parseTimestamp(ts, { format: 'rfc3339' }) : undefined;
    if (timestamp === undefined) return { ok: false, error: `invalid RFC 5424 timestamp "${ts}"` };
    fields.timestamp = timestamp;
  }
  if (host !== NIL) fields.resource = { 'host.name': host };
  if (appName !== NIL) fields.attributes['log.syslog.appname'] = appName;
  if (procId !== NIL) setProcId(procId, fields);
  if (msgId !== NIL) fields.attributes['log.syslog.msgid'] = msgId;

  let rest = pri.rest.slice(header[0].length);
  if (rest.startsWith(NIL)) {
    rest = rest.slice(1);
  } else if (rest.startsWith('[')) {
    const sd = parseStructuredData(rest, fields.attributes);
    if (typeof sd === 'string') return { ok: false, error: sd };
    rest = rest.slice(sd);
  } else {
    return { ok: false, error: 'RFC 5424 structured data must be "-" or start with "["' };
  }

  if (rest !== '') {
    if (!rest.startsWith(' ')) return { ok: false, error: 'no space between RFC 5424 structured data and message' };
    // §6.4: a UTF-8 message starts with a BOM, which is not part of the text.
    fields.body = rest.slice(1).replace(/^\uFEFF/, '');
  }
  return { ok: true, fields };
}

/**
 * Parses `1*SD-ELEMENT` at the start of `text` into attributes; returns the
 * number of characters consumed or an error message.
 *
 * §6.3: `[SD-ID *(SP PARAM-NAME="PARAM-VALUE")]`; SD-NAMEs are 1–32
 * PRINTUSASCII except `=`, SP, `]` and `"`. §6.3.3: inside a value `\"`, `\\`
 * and `\]` are escapes; a backslash before any other character is kept as a
 * literal backslash. An element without parameters leaves no attribute
 * (a flag at `…<SD-ID>` would clash with `…<SD-ID>.<param>` in document
 * stores); a repeated parameter name keeps its last value.
 */
function parseStructuredData(text: string, attributes: Record<string, string | number | boolean>): number | string {
  const NAME = /^[^= \]"]{1,32}/;
  let i = 0;
  while (text.charAt(i) === '[') {
    i++;
    const id = NAME.exec(text.slice(i))?.[0];
    if (id === undefined) return 'invalid RFC 5424 SD-ID';
    i += id.length;
    while (text.charAt(i) === ' ') {
      i++;
      const param = NAME.exec(text.slice(i))?.[0];
      if (param === undefined) return `invalid RFC 5424 PARAM-NAME in [${id}]`;
      i += param.length;
      if (text.slice(i, i + 2) !== '="') return `RFC 5424 PARAM-NAME ${param} in [${id}] not followed by ="`;
      i += 2;
      let value = '';
      for (;;) {
        const ch = text.charAt(i);
        if (ch === '') return `unterminated RFC 5424 PARAM-VALUE in [${id}]`;
        if (ch === '"') break;
        if (ch === '\\') {
          const next = text.charAt(i + 1);
          if (next === '"' || next === '\\' || next === ']') {
            value += next;
            i += 2;
            continue;
          }
        }
        value += ch;
        i++;
      }
      i++; // closing quote
      // SD-ID and PARAM-NAME are data: `[__proto__ x="1"]` must not become a walkable prototype path.
      setDataKey(attributes, `log.syslog.structured_data.${id}.${param}`, value);
    }
    if (text.charAt(i) !== ']') return `RFC 5424 SD-ELEMENT [${id}] not closed by "]"`;
    i++;
  }
  return i;
}
