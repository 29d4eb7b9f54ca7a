import { describe, it } from 'vitest';
import { propertyTimeoutMs } from '../../../shared/test-support/boundary-contract.js';
import { createAccessLogParser } from './access-log.js';
import { createJsonParser } from './json.js';
import { createLogfmtParser } from './logfmt.js';
import { expectParserLinear, runParserProperty } from './parser-contract.js';
import { createRegexParser } from './regex.js';
import { createSyslogParser } from './syslog.js';

const JSON_FRAGMENTS = [
  '{"a":',
  '{"__proto__":{',
  '{"x.__proto__.time":"2099-01-01T00:00:00Z"}',
  '"time":"2024-05-01T12:00:00Z"',
  '"level":',
  '30',
  'null',
  '[',
  '[[[[',
  ',',
  '}',
  ':',
];
const LOGFMT_FRAGMENTS = ['a=', 'constructor.prototype.x=1 ', 'level=warn ', 'msg="', '\\u00e9', '\\"', 'ts=2024-05-01T12:00:00Z ', ' ', '='];
const SYSLOG_FRAGMENTS = [
  '<34>',
  '<165>1 ',
  '2003-10-11T22:14:15.003Z ',
  'Oct 11 22:14:15 ',
  'host ',
  'su[12]: ',
  '[id@1 a="b"]',
  '[__proto__ constructor="1"]',
  '- ',
  '\\]',
  '\uFEFF',
];
const ACCESS_FRAGMENTS = [
  '127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "',
  'GET / HTTP/1.1" 200 2326 "',
  '\\x41',
  '\\"',
  '" "Mozilla" ',
  '[Sun Dec 04 04:47:44 2005] [error] ',
  '[client 1.2.3.4:5] ',
  '[pid 1:tid 2] ',
];

const parsers = [
  ['json', createJsonParser(), JSON_FRAGMENTS],
  ['json flatten=false', createJsonParser({ flatten: false }), JSON_FRAGMENTS],
  ['logfmt', createLogfmtParser(), LOGFMT_FRAGMENTS],
  ['syslog rfc3164', createSyslogParser({ format: 'rfc3164', referenceTime: () => new Date('2026-01-01T00:00:00Z') }), SYSLOG_FRAGMENTS],
  ['syslog rfc5424', createSyslogParser({ format: 'rfc5424' }), SYSLOG_FRAGMENTS],
  ['nginx_combined', createAccessLogParser({ format: 'nginx_combined' }), ACCESS_FRAGMENTS],
  ['apache_common', createAccessLogParser({ format: 'apache_common' }), ACCESS_FRAGMENTS],
  ['apache_error', createAccessLogParser({ format: 'apache_error' }), ACCESS_FRAGMENTS],
  [
    'regex',
    createRegexParser({
      pattern: '^%{IPORHOST:client} (?<user>\\S+) \\[%{HTTPDATE:time}\\] "%{WORD:method} %{URIPATHPARAM:path}" %{INT:status:int} %{GREEDYDATA:rest}$',
    }),
    ACCESS_FRAGMENTS,
  ],
  ['regex (grok URI, QS, HOSTPORT)', createRegexParser({ pattern: '%{URI:url} %{QS:q} %{HOSTPORT:hp}' }), ['http://a.', 'a://a:', '\\"', 'a.']],
] as const;

describe.each(parsers)('%s parser boundary', (name, parser, fragments) => {
  it(
    'returns a result for every line (never throws), bounded by the line, with no prototype touched or unsafe key',
    () => runParserProperty(`${name} parser`, parser, fragments),
    propertyTimeoutMs(),
  );

  it('parses in linear time on adversarial lines, its own syntax repeated included', () => expectParserLinear(parser, fragments), propertyTimeoutMs());
});
