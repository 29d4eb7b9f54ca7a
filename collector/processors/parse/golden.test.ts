/**
 * Golden samples: realistic lines → the exact ParsedFields. `toStrictEqual`
 * so a field that should be absent (a `-` value, a missing PRI) must really be
 * absent, not present as undefined. Attributes are prototype-free data
 * objects; structuredClone turns them into plain ones so only content counts.
 */
import { describe, expect, it } from 'vitest';

import { createAccessLogParser } from './access-log.js';
import { createSyslogParser } from './syslog.js';
import type { LineParser, ParsedFields } from './types.js';

function expectFields(parser: LineParser, line: string, fields: ParsedFields): void {
  expect(structuredClone(parser.parse(line))).toStrictEqual({ ok: true, fields });
}

function expectError(parser: LineParser, line: string, error: RegExp): void {
  const result = parser.parse(line);
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.error).toMatch(error);
}

describe('nginx_combined', () => {
  const nginx = createAccessLogParser({ format: 'nginx_combined' });

  it('a plain request with a query string and a referer', () => {
    const line =
      '203.0.113.7 - - [10/Oct/2023:13:55:36 +0200] "GET /api/v1/items?id=42&sort=asc HTTP/1.1" 200 1534 "https://example.com/page?x=1" ' +
      '"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0 Safari/537.36"';
    expectFields(nginx, line, {
      timestamp: '2023-10-10T11:55:36.000Z',
      severityNumber: 9,
      body: line,
      attributes: {
        'client.address': '203.0.113.7',
        'http.request.method': 'GET',
        'url.path': '/api/v1/items',
        'url.query': 'id=42&sort=asc',
        'network.protocol.name': 'http',
        'network.protocol.version': '1.1',
        'http.response.status_code': 200,
        'http.response.body.size': 1534,
        'http.request.header.referer': 'https://example.com/page?x=1',
        'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0 Safari/537.36',
      },
    });
  });

  it('an IPv6 client with a user name, HTTP/2 and a "-" referer', () => {
    const line = '2001:db8::1 - alice [10/Oct/2023:13:55:37 +0000] "POST /login HTTP/2.0" 302 0 "-" "curl/8.4.0"';
    expectFields(nginx, line, {
      timestamp: '2023-10-10T13:55:37.000Z',
      severityNumber: 9,
      body: line,
      attributes: {
        'client.address': '2001:db8::1',
        'user.name': 'alice',
        'http.request.method': 'POST',
        'url.path': '/login',
        'network.protocol.name': 'http',
        'network.protocol.version': '2.0',
        'http.response.status_code': 302,
        'http.response.body.size': 0,
        'user_agent.original': 'curl/8.4.0',
      },
    });
  });

  it('nginx \\xHH escapes in the user agent (quotes, UTF-8), a "-" size and a 404', () => {
    const line = '198.51.100.23 - - [10/Oct/2023:13:55:38 +0000] "GET /search?q=%22x%22 HTTP/1.1" 404 - "-" "Bot \\x22quoted\\x22 \\xC3\\xA9t\\xC3\\xA9/1.0"';
    expectFields(nginx, line, {
      timestamp: '2023-10-10T13:55:38.000Z',
      severityNumber: 13,
      body: line,
      attributes: {
        'client.address': '198.51.100.23',
        'http.request.method': 'GET',
        'url.path': '/search',
        'url.query': 'q=%22x%22',
        'network.protocol.name': 'http',
        'network.protocol.version': '1.1',
        'http.response.status_code': 404,
        'user_agent.original': 'Bot "quoted" été/1.0',
      },
    });
  });

  it('a 5xx with no referer and no user agent', () => {
    const line = '10.0.0.5 - - [10/Oct/2023:13:55:39 -0700] "PUT /upload HTTP/1.0" 503 197 "-" "-"';
    expectFields(nginx, line, {
      timestamp: '2023-10-10T20:55:39.000Z',
      severityNumber: 17,
      body: line,
      attributes: {
        'client.address': '10.0.0.5',
        'http.request.method': 'PUT',
        'url.path': '/upload',
        'network.protocol.name': 'http',
        'network.protocol.version': '1.0',
        'http.response.status_code': 503,
        'http.response.body.size': 197,
      },
    });
  });

  it('a TLS handshake sent to the plain-text port: no request attributes, still a record', () => {
    const line = '192.0.2.1 - - [10/Oct/2023:13:55:40 +0000] "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xFC\\x03\\x03" 400 157 "-" "-"';
    expectFields(nginx, line, {
      timestamp: '2023-10-10T13:55:40.000Z',
      severityNumber: 13,
      body: line,
      attributes: { 'client.address': '192.0.2.1', 'http.response.status_code': 400, 'http.response.body.size': 157 },
    });
  });

  it('a WebDAV method, an absolute-form target, and trailing fields after the user agent', () => {
    const dav = '192.0.2.9 - - [10/Oct/2023:13:55:41 +0000] "PROPFIND http://dav.example.com/files/ HTTP/1.1" 207 512 "-" "gvfs/1.50" "10.1.1.1"';
    expectFields(nginx, dav, {
      timestamp: '2023-10-10T13:55:41.000Z',
      severityNumber: 9,
      body: dav,
      attributes: {
        'client.address': '192.0.2.9',
        'http.request.method': '_OTHER',
        'http.request.method_original': 'PROPFIND',
        'url.full': 'http://dav.example.com/files/',
        'network.protocol.name': 'http',
        'network.protocol.version': '1.1',
        'http.response.status_code': 207,
        'http.response.body.size': 512,
        'user_agent.original': 'gvfs/1.50',
      },
    });
  });

  it('rejects what is not a combined line', () => {
    expectError(nginx, 'hello world', /not a common\/combined/);
    expectError(nginx, '127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326', /referer/);
    expectError(nginx, '127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0 200 2326', /unterminated/);
    expectError(nginx, '127.0.0.1 - - [99/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326 "-" "-"', /invalid access log time/);
  });
});

describe('apache_combined / apache_common', () => {
  it('Apache backslash escapes in quoted fields', () => {
    const apache = createAccessLogParser({ format: 'apache_combined' });
    const line =
      '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" ' +
      '"Mozilla/4.08 [en] (Win98; I ;Nav) \\"quoted\\" back\\\\slash"';
    expectFields(apache, line, {
      timestamp: '2000-10-10T20:55:36.000Z',
      severityNumber: 9,
      body: line,
      attributes: {
        'client.address': '127.0.0.1',
        'user.name': 'frank',
        'http.request.method': 'GET',
        'url.path': '/apache_pb.gif',
        'network.protocol.name': 'http',
        'network.protocol.version': '1.0',
        'http.response.status_code': 200,
        'http.response.body.size': 2326,
        'http.request.header.referer': 'http://www.example.com/start.html',
        'user_agent.original': 'Mozilla/4.08 [en] (Win98; I ;Nav) "quoted" back\\slash',
      },
    });
  });

  it('the common format (no referer, no user agent)', () => {
    const common = createAccessLogParser({ format: 'apache_common' });
    const line = '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326';
    expectFields(common, line, {
      timestamp: '2000-10-10T20:55:36.000Z',
      severityNumber: 9,
      body: line,
      attributes: {
        'client.address': '127.0.0.1',
        'user.name': 'frank',
        'http.request.method': 'GET',
        'url.path': '/apache_pb.gif',
        'network.protocol.name': 'http',
        'network.protocol.version': '1.0',
        'http.response.status_code': 200,
        'http.response.body.size': 2326,
      },
    });
  });
});

describe('apache_error', () => {
  const apacheError = createAccessLogParser({ format: 'apache_error' });

  it('2.2 layout', () => {
    expectFields(apacheError, '[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6', {
      timestamp: '2005-12-04T04:47:44.000Z',
      severityNumber: 17,
      severityText: 'error',
      body: 'mod_jk child workerEnv in error state 6',
      attributes: {},
    });
    expectFields(apacheError, '[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration: /export/home/live/ap/htdocs/test', {
      timestamp: '2000-10-11T14:32:52.000Z',
      severityNumber: 17,
      severityText: 'error',
      body: 'client denied by server configuration: /export/home/live/ap/htdocs/test',
      attributes: { 'client.address': '127.0.0.1' },
    });
  });

  it('2.4 layout: microseconds, module:level, pid/tid, client', () => {
    const line =
      '[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] File does not exist: /usr/local/apache2/htdocs/favicon.ico';
    expectFields(apacheError, line, {
      timestamp: '2011-09-09T10:42:29.902022Z',
      severityNumber: 17,
      severityText: 'error',
      body: 'File does not exist: /usr/local/apache2/htdocs/favicon.ico',
      attributes: { 'apache.module': 'core', 'process.pid': 35708, 'thread.id': 4328636416, 'client.address': '72.15.99.187' },
    });
  });

  it('2.4 with an IPv6 client and port, and a referer suffix; local time in a zone', () => {
    const parser = createAccessLogParser({ format: 'apache_error', timezone: 'Europe/Berlin' });
    const line =
      '[Thu Mar 14 09:12:03.123456 2024] [authz_core:error] [pid 1234:tid 140234] [client 2001:db8::5:51234] ' +
      'AH01630: client denied by server configuration: /var/www/private, referer: https://example.com/';
    expectFields(parser, line, {
      timestamp: '2024-03-14T08:12:03.123456Z',
      severityNumber: 17,
      severityText: 'error',
      body: 'AH01630: client denied by server configuration: /var/www/private, referer: https://example.com/',
      attributes: {
        'apache.module': 'authz_core',
        'process.pid': 1234,
        'thread.id': 140234,
        'client.address': '2001:db8::5',
        'client.port': 51234,
        'http.request.header.referer': 'https://example.com/',
      },
    });
  });

  it('2.4 notice and trace levels, an empty module', () => {
    expectFields(apacheError, '[Thu Mar 14 09:12:03.123456 2024] [mpm_event:notice] [pid 1:tid 2] AH00489: Apache/2.4.58 (Unix) configured', {
      timestamp: '2024-03-14T09:12:03.123456Z',
      severityNumber: 10,
      severityText: 'notice',
      body: 'AH00489: Apache/2.4.58 (Unix) configured',
      attributes: { 'apache.module': 'mpm_event', 'process.pid': 1, 'thread.id': 2 },
    });
    expectFields(apacheError, '[Thu Mar 14 09:12:03.123456 2024] [ssl:trace3] [pid 7] ssl_engine_io.c(2222): OpenSSL: I/O error', {
      timestamp: '2024-03-14T09:12:03.123456Z',
      severityNumber: 1,
      severityText: 'trace3',
      body: 'ssl_engine_io.c(2222): OpenSSL: I/O error',
      attributes: { 'apache.module': 'ssl', 'process.pid': 7 },
    });
    expectFields(apacheError, '[Thu Mar 14 09:12:03.123456 2024] [:warn] [pid 7] [client ::1] odd', {
      timestamp: '2024-03-14T09:12:03.123456Z',
      severityNumber: 13,
      severityText: 'warn',
      body: 'odd',
      attributes: { 'process.pid': 7, 'client.address': '::1' },
    });
  });

  it('rejects other lines', () => {
    expectError(apacheError, 'mod_jk child workerEnv in error state 6', /not an Apache error log line/);
    expectError(apacheError, '[Sun Dec 04 04:47:44 2005] [shouting] hello', /unknown Apache log level/);
    expectError(apacheError, '[yesterday] [error] hello', /invalid Apache error log time/);
  });
});

describe('syslog RFC 3164', () => {
  const rfc3164 = createSyslogParser({ format: 'rfc3164', referenceTime: () => new Date('2024-06-01T00:00:00Z') });

  it('the RFC 3164 §5.4 example, with PRI', () => {
    expectFields(rfc3164, "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8", {
      timestamp: '2023-10-11T22:14:15.000Z',
      severityNumber: 18,
      severityText: 'crit',
      body: "'su root' failed for lonvick on /dev/pts/8",
      resource: { 'host.name': 'mymachine' },
      attributes: { 'log.syslog.facility.code': 4, 'log.syslog.severity.code': 2, 'log.syslog.appname': 'su' },
    });
  });

  it('an IP as host name, a pid and a space-padded day', () => {
    expectFields(rfc3164, '<13>Feb  5 17:32:18 10.0.0.99 myapp[1234]: Use the BFG!', {
      timestamp: '2024-02-05T17:32:18.000Z',
      severityNumber: 10,
      severityText: 'notice',
      body: 'Use the BFG!',
      resource: { 'host.name': '10.0.0.99' },
      attributes: { 'log.syslog.facility.code': 1, 'log.syslog.severity.code': 5, 'log.syslog.appname': 'myapp', 'process.pid': 1234 },
    });
  });

  it('rsyslog file lines: no PRI, hence no severity; the zone is applied', () => {
    const berlin = createSyslogParser({ format: 'rfc3164', timezone: 'Europe/Berlin', referenceTime: () => new Date('2024-06-01T00:00:00Z') });
    expectFields(berlin, 'Mar  3 07:01:22 web-01 CRON[4521]: (root) CMD (run-parts /etc/cron.hourly)', {
      timestamp: '2024-03-03T06:01:22.000Z',
      body: '(root) CMD (run-parts /etc/cron.hourly)',
      resource: { 'host.name': 'web-01' },
      attributes: { 'log.syslog.appname': 'CRON', 'process.pid': 4521 },
    });
    expectFields(rfc3164, 'May 30 23:59:01 web-01 sshd(pam_unix)[19939]: session opened for user deploy by (uid=0)', {
      timestamp: '2024-05-30T23:59:01.000Z',
      body: 'session opened for user deploy by (uid=0)',
      resource: { 'host.name': 'web-01' },
      attributes: { 'log.syslog.appname': 'sshd(pam_unix)', 'process.pid': 19939 },
    });
    expectFields(rfc3164, 'May 30 23:59:01 web-01 kernel:  DMA zone: 4096 pages', {
      timestamp: '2024-05-30T23:59:01.000Z',
      body: ' DMA zone: 4096 pages',
      resource: { 'host.name': 'web-01' },
      attributes: { 'log.syslog.appname': 'kernel' },
    });
  });

  it("rsyslog's high-precision RFC 3339 timestamp, and lines without a TAG", () => {
    expectFields(rfc3164, '2024-03-03T07:01:22.123456+01:00 web-01 systemd[1]: Started Session 12 of user deploy.', {
      timestamp: '2024-03-03T06:01:22.123456Z',
      body: 'Started Session 12 of user deploy.',
      resource: { 'host.name': 'web-01' },
      attributes: { 'log.syslog.appname': 'systemd', 'process.pid': 1 },
    });
    expectFields(rfc3164, 'Jan 19 04:09:11 combo syslogd 1.4.1: restart.', {
      timestamp: '2024-01-19T04:09:11.000Z',
      body: 'restart.',
      resource: { 'host.name': 'combo' },
      attributes: { 'log.syslog.appname': 'syslogd 1.4.1' },
    });
    expectFields(rfc3164, 'Jan 19 04:09:11 combo the disk is on fire: sda1', {
      timestamp: '2024-01-19T04:09:11.000Z',
      body: 'the disk is on fire: sda1',
      resource: { 'host.name': 'combo' },
      attributes: {},
    });
  });

  it('rejects lines without a timestamp and host, or with a bad PRI', () => {
    expectError(rfc3164, 'hello world', /no RFC 3164 timestamp/);
    expectError(rfc3164, 'Jun 31 10:00:00 host x: y', /invalid RFC 3164 timestamp/);
    expectError(rfc3164, '<200>Oct 11 22:14:15 mymachine su: x', /PRI above 191/);
    expectError(rfc3164, 'Oct 11 22:14:15', /no RFC 3164 timestamp and hostname/);
  });
});

describe('syslog RFC 5424', () => {
  const rfc5424 = createSyslogParser({ format: 'rfc5424' });

  it('§6.5 example 1: no structured data, a BOM before the message', () => {
    expectFields(rfc5424, "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \uFEFF'su root' failed for lonvick on /dev/pts/8", {
      timestamp: '2003-10-11T22:14:15.003Z',
      severityNumber: 18,
      severityText: 'crit',
      body: "'su root' failed for lonvick on /dev/pts/8",
      resource: { 'host.name': 'mymachine.example.com' },
      attributes: {
        'log.syslog.facility.code': 4,
        'log.syslog.severity.code': 2,
        'log.syslog.version': 1,
        'log.syslog.appname': 'su',
        'log.syslog.msgid': 'ID47',
      },
    });
  });

  it('§6.5 example 2: microseconds and an offset, a numeric PROCID, no MSGID', () => {
    expectFields(rfc5424, "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.", {
      timestamp: '2003-08-24T12:14:15.000003Z',
      severityNumber: 10,
      severityText: 'notice',
      body: "%% It's time to make the do-nuts.",
      resource: { 'host.name': '192.0.2.1' },
      attributes: {
        'log.syslog.facility.code': 20,
        'log.syslog.severity.code': 5,
        'log.syslog.version': 1,
        'log.syslog.appname': 'myproc',
        'process.pid': 8710,
      },
    });
  });

  it('§6.5 examples 3 and 4: structured data, with and without a message', () => {
    const sd = {
      'log.syslog.facility.code': 20,
      'log.syslog.severity.code': 5,
      'log.syslog.version': 1,
      'log.syslog.appname': 'evntslog',
      'log.syslog.msgid': 'ID47',
      'log.syslog.structured_data.exampleSDID@32473.iut': '3',
      'log.syslog.structured_data.exampleSDID@32473.eventSource': 'Application',
      'log.syslog.structured_data.exampleSDID@32473.eventID': '1011',
    };
    expectFields(
      rfc5424,
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] \uFEFFAn application event log entry...',
      {
        timestamp: '2003-10-11T22:14:15.003Z',
        severityNumber: 10,
        severityText: 'notice',
        body: 'An application event log entry...',
        resource: { 'host.name': 'mymachine.example.com' },
        attributes: sd,
      },
    );
    expectFields(
      rfc5424,
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]',
      {
        timestamp: '2003-10-11T22:14:15.003Z',
        severityNumber: 10,
        severityText: 'notice',
        resource: { 'host.name': 'mymachine.example.com' },
        attributes: { ...sd, 'log.syslog.structured_data.examplePriority@32473.class': 'high' },
      },
    );
  });

  it('§6.3.3 escapes in PARAM-VALUE; a non-numeric PROCID; an element without params', () => {
    const line = '<14>1 2024-05-01T10:00:00Z host app worker-3 - [meta@1 path="C:\\\\temp" quote="say \\"hi\\"" br="a\\]b" odd="a\\nb"][timeQuality] msg';
    expectFields(createSyslogParser({ format: 'auto' }), line, {
      timestamp: '2024-05-01T10:00:00.000Z',
      severityNumber: 9,
      severityText: 'info',
      body: 'msg',
      resource: { 'host.name': 'host' },
      attributes: {
        'log.syslog.facility.code': 1,
        'log.syslog.severity.code': 6,
        'log.syslog.version': 1,
        'log.syslog.appname': 'app',
        'log.syslog.procid': 'worker-3',
        'log.syslog.structured_data.meta@1.path': 'C:\\temp',
        'log.syslog.structured_data.meta@1.quote': 'say "hi"',
        'log.syslog.structured_data.meta@1.br': 'a]b',
        'log.syslog.structured_data.meta@1.odd': 'a\\nb',
      },
    });
  });

  it('NILVALUE everywhere', () => {
    expectFields(rfc5424, '<14>1 - - - - - -', {
      severityNumber: 9,
      severityText: 'info',
      attributes: { 'log.syslog.facility.code': 1, 'log.syslog.severity.code': 6, 'log.syslog.version': 1 },
    });
  });

  it('rejects malformed lines with a reason', () => {
    expectError(rfc5424, 'Oct 11 22:14:15 mymachine su: x', /without <PRI>/);
    expectError(rfc5424, '<14>1 2024-05-01T10:00:00Z host', /incomplete RFC 5424 header/);
    expectError(rfc5424, '<14>1 2024-05-01T10:00:00 host app - - - msg', /invalid RFC 5424 timestamp/);
    expectError(rfc5424, '<14>1 2024-05-01T10:00:00Z host app - - [a x="y] msg', /unterminated/);
    expectError(rfc5424, '<14>1 2024-05-01T10:00:00Z host app - - [a x=y] msg', /not followed by ="/);
    expectError(rfc5424, '<14>1 2024-05-01T10:00:00Z host app - - [a x="y"', /not closed/);
    expectError(rfc5424, '<14>1 2024-05-01T10:00:00Z host app - - nope', /must be "-" or start with "\["/);
    expectError(rfc5424, '<14>1 2024-05-01T10:00:00Z host app - - -msg', /no space/);
  });

  it('auto picks RFC 5424 by its VERSION and falls back to RFC 3164', () => {
    const auto = createSyslogParser({ format: 'auto', referenceTime: () => new Date('2024-06-01T00:00:00Z') });
    const a = auto.parse('<165>1 2003-10-11T22:14:15.003Z host app - - - m');
    const b = auto.parse('<34>Oct 11 22:14:15 mymachine su: m');
    expect(a.ok && a.fields.attributes['log.syslog.version']).toBe(1);
    expect(b.ok && b.fields.attributes['log.syslog.version']).toBeUndefined();
    expect(b.ok && b.fields.timestamp).toBe('2023-10-11T22:14:15.000Z');
  });
});
