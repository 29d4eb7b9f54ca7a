/**
 * Web server log parsers: the NCSA common/combined access log as Apache
 * (`LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\""`)
 * and nginx (`log_format combined`) write it, and Apache's error log (2.2 and
 * 2.4 layouts).
 *
 * Access logs: `body` stays the whole line (the line is the event); the
 * fields become OpenTelemetry HTTP semconv attributes, and since access logs
 * carry no level the status class stands in for one (severityFromHttpStatus)
 * in severity_number; severity_text stays absent, as there is no text to keep.
 * Values written as `-` are absent, not the string "-".
 *
 * Error log: `body` is the message after the bracketed prefix blocks.
 */

import { isIP } from 'node:net';

import { normalizeSeverity, severityFromHttpStatus } from './severity.js';
import { parseTimestamp } from './timestamp.js';
import type { LineParser, ParsedFields, ParseResult } from './types.js';

export interface AccessLogParserOptions {
  format: 'nginx_combined' | 'apache_combined' | 'apache_common' | 'apache_error';
  /** Zone for apache_error timestamps, which Apache writes in local time without an offset; default 'UTC'. */
  timezone?: string;
}

export function createAccessLogParser(options: AccessLogParserOptions): LineParser {
  const { format } = options;
  const parse =
    format === 'apache_error'
      ? (line: string): ParseResult => parseApacheError(stripEol(line), options.timezone)
      : (line: string): ParseResult => parseAccess(stripEol(line), format !== 'apache_common');
  return { name: format, parse };
}

function stripEol(line: string): string {
  return line.replace(/\r?\n$/, '');
}

// ---------------------------------------------------------------------------
// Access log

/** RFC 9110 §9 methods plus PATCH (RFC 5789); others become `_OTHER` as semconv asks for `http.request.method`. */
const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE', 'QUERY']);

/** `%h %l %u [%t] ` — the client may be IPv4, IPv6 or a resolved host name; the user may not contain spaces. */
const PREFIX = /^(\S+) (\S+) (\S+) \[([^\]]+)\] "/;

function parseAccess(line: string, combined: boolean): ParseResult {
  const prefix = PREFIX.exec(line);
  if (prefix === null) return { ok: false, error: 'not a common/combined access log line' };
  const [, client = '', _ident, user = '', time = ''] = prefix;
  let i = prefix[0].length;

  const request = readQuoted(line, i);
  if (request === undefined) return { ok: false, error: 'unterminated request line' };
  i = request.end;
  const statusAndSize = /^ (\d{3}) (\d+|-)/.exec(line.slice(i));
  if (statusAndSize === null) return { ok: false, error: 'no status and size after the request line' };
  i += statusAndSize[0].length;

  const timestamp = parseTimestamp(time, { format: 'common_log' });
  if (timestamp === undefined) return { ok: false, error: `invalid access log time "${time}"` };

  const status = Number(statusAndSize[1]);
  const severity = severityFromHttpStatus(status);
  // No severityText: an access log has no level to quote (OpenTelemetry: the text as known at the source, else absent).
  const fields: ParsedFields = {
    timestamp,
    severityNumber: severity.number,
    body: line,
    attributes: {},
  };
  const attributes = fields.attributes;
  attributes['client.address'] = client;
  if (user !== '-') attributes['user.name'] = user;
  addRequestLine(request.value, attributes);
  attributes['http.response.status_code'] = status;
  const size = statusAndSize[2];
  if (size !== undefined && size !== '-') attributes['http.response.body.size'] = Number(size);

  if (combined) {
    const referer = line.charAt(i) === ' ' ? readQuoted(line, i + 2, line.charAt(i + 1) === '"') : undefined;
    if (referer === undefined) return { ok: false, error: 'no quoted referer (is this a common log line?)' };
    const agent = line.charAt(referer.end) === ' ' ? readQuoted(line, referer.end + 2, line.charAt(referer.end + 1) === '"') : undefined;
    if (agent === undefined) return { ok: false, error: 'no quoted user agent' };
    // Anything after the user agent (nginx "main" adds "$http_x_forwarded_for",
    // many sites append timings) is left in the body, not guessed at.
    if (referer.value !== '-' && referer.value !== '') attributes['http.request.header.referer'] = referer.value;
    if (agent.value !== '-' && agent.value !== '') attributes['user_agent.original'] = agent.value;
  }
  return { ok: true, fields };
}

/**
 * `%r`, the request line: `METHOD target HTTP/x.y`. Clients send anything
 * (TLS handshakes to a plain-text port, scanners), so a line that does not
 * split into 2–3 words adds no request attributes rather than failing.
 */
function addRequestLine(request: string, attributes: Record<string, string | number | boolean>): void {
  const m = /^(\S+) (\S+)(?: (\S+))?$/.exec(request);
  if (m === null) return;
  const [, method = '', target = '', protocol] = m;
  if (KNOWN_METHODS.has(method)) {
    attributes['http.request.method'] = method;
  } else {
    attributes['http.request.method'] = '_OTHER';
    attributes['http.request.method_original'] = method;
  }
  if (target.startsWith('/')) {
    const q = target.indexOf('?');
    attributes['url.path'] = q === -1 ? target : target.slice(0, q);
    if (q !== -1) attributes['url.query'] = target.slice(q + 1);
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    attributes['url.full'] = target; // absolute-form, as proxies receive (RFC 9112 §3.2.2)
  }
  const version = protocol === undefined ? undefined : /^HTTP\/(\d(?:\.\d)?)$/i.exec(protocol);
  if (version?.[1] !== undefined) {
    attributes['network.protocol.name'] = 'http';
    attributes['network.protocol.version'] = version[1];
  }
}

/**
 * Reads a double-quoted field whose opening quote is just before `start`
 * (or, when `quoted` is false, an unquoted `-`) and returns its unescaped
 * value and the index after the closing quote.
 *
 * Escapes: Apache (mod_log_config) writes `\"` and `\\`, whitespace as `\n`
 * `\t`…, other non-printable bytes as `\xhh`; nginx (`escape=default`) writes
 * `"`, `\` and bytes outside 0x20–0x7e as `\xHH`. Runs of `\xHH` are decoded
 * together as UTF-8 so a non-ASCII user agent reads as it was sent.
 */
function readQuoted(line: string, start: number, quoted = true): { value: string; end: number } | undefined {
  if (!quoted) {
    // Some writers log a missing header as a bare `-`.
    return line.charAt(start - 1) === '-' ? { value: '-', end: start } : undefined;
  }
  let value = '';
  let bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length > 0) value += Buffer.from(bytes).toString('utf8');
    bytes = [];
  };
  let i = start;
  for (;;) {
    const ch = line.charAt(i);
    if (ch === '') return undefined;
    if (ch === '"') break;
    if (ch === '\\') {
      const next = line.charAt(i + 1);
      const hex = next === 'x' ? /^[0-9a-fA-F]{2}/.exec(line.slice(i + 2, i + 4)) : null;
      if (hex !== null) {
        bytes.push(Number.parseInt(hex[0], 16));
        i += 4;
        continue;
      }
      const simple = ESCAPES[next];
      if (simple !== undefined) {
        flush();
        value += simple;
        i += 2;
        continue;
      }
    }
    flush();
    value += ch;
    i++;
  }
  flush();
  return { value, end: i + 1 };
}

const ESCAPES: Partial<Record<string, string>> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r', v: '\v', f: '\f' };

// ---------------------------------------------------------------------------
// Apache error log

/**
 * 2.2: `[Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4] message`
 * 2.4: `[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:5432] AH00128: message`
 * (2.4's `ErrorLogFormat` default; the `[client]` block carries the port there.)
 */
const ERROR_PREFIX = /^\[([^\]]+)\] \[(?:([^\]:]*):)?([a-z]+\d?)\] /i;

function parseApacheError(line: string, timezone: string | undefined): ParseResult {
  const prefix = ERROR_PREFIX.exec(line);
  if (prefix === null) return { ok: false, error: 'not an Apache error log line' };
  const [, time = '', module, level = ''] = prefix;
  const timestamp = parseTimestamp(time, { timezone });
  if (timestamp === undefined) return { ok: false, error: `invalid Apache error log time "${time}"` };
  const severity = normalizeSeverity(level);
  if (severity === undefined) return { ok: false, error: `unknown Apache log level "${level}"` };

  const fields: ParsedFields = { timestamp, severityNumber: severity.number, severityText: level, attributes: {} };
  const attributes = fields.attributes;
  if (module !== undefined && module !== '') attributes['apache.module'] = module;
  const v24 = module !== undefined;

  let rest = line.slice(prefix[0].length);
  const pid = /^\[pid (\d+)(?::tid (\d+))?\] /.exec(rest);
  if (pid !== null) {
    attributes['process.pid'] = Number(pid[1]);
    if (pid[2] !== undefined) attributes['thread.id'] = Number(pid[2]);
    rest = rest.slice(pid[0].length);
  }
  const client = /^\[client ([^\]]+)\] /.exec(rest);
  if (client?.[1] !== undefined) {
    addClient(client[1], v24 || pid !== null, attributes);
    rest = rest.slice(client[0].length);
  }
  // 2.4 appends the Referer header to request-related messages.
  const referer = /, referer: (\S+)$/.exec(rest);
  if (referer?.[1] !== undefined) attributes['http.request.header.referer'] = referer[1];
  fields.body = rest;
  return { ok: true, fields };
}

/** 2.4 writes `%a` as `ip:port` (also for IPv6, unbracketed: `::1:51234`); 2.2 writes the bare address. */
function addClient(text: string, withPort: boolean, attributes: Record<string, string | number | boolean>): void {
  const m = withPort ? /^(.+):(\d{1,5})$/.exec(text) : null;
  // isIP guards the bare IPv6 case: "::1" must not become address ":" port 1.
  if (m?.[1] !== undefined && isIP(m[1]) !== 0) {
    attributes['client.address'] = m[1];
    attributes['client.port'] = Number(m[2]);
  } else {
    attributes['client.address'] = text;
  }
}
