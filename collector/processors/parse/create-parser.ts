import { createAccessLogParser } from './access-log.js';
import type { ParserConfig } from './config.js';
import { createJsonParser } from './json.js';
import { createLogfmtParser } from './logfmt.js';
import { createRegexParser } from './regex.js';
import { createSyslogParser } from './syslog.js';
import type { LineParser } from './types.js';

/**
 * The one place a validated `parser:` block becomes a LineParser: an explicit
 * switch rather than a self-registering plugin table, so the set of parser
 * types is visible here and TypeScript checks the switch is exhaustive.
 * Factories throw ParserConfigError only for configs the schema would reject;
 * after `parserSchema` validation this does not throw.
 */
export function createParser(config: ParserConfig): LineParser {
  switch (config.type) {
    case 'json':
      return createJsonParser(config);
    case 'logfmt':
      return createLogfmtParser(config);
    case 'regex':
      return createRegexParser(config);
    case 'syslog':
      return createSyslogParser(config);
    case 'access_log':
      return createAccessLogParser(config);
    default:
      return unreachable(config);
  }
}

function unreachable(config: never): never {
  throw new Error(`unknown parser type ${JSON.stringify((config as { type?: unknown }).type)}`);
}
