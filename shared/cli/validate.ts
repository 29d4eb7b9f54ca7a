import { agentConfigSchema } from '../../agent/config.js';
import { loadRulesFiles } from '../../collector/alerting/rules/config.js';
import { collectorConfigSchema } from '../../collector/config.js';
import { ConfigError, parseYaml, readConfigText, validateConfig } from '../config/load.js';
import { TributaryError } from '../errors.js';

export type ConfigKind = 'agent' | 'collector';

/** Which process a config file is for: `sources` means an agent, `outputs` a collector. */
export function detectKind(document: unknown, file: string): ConfigKind {
  const keys = document !== null && typeof document === 'object' ? Object.keys(document) : [];
  const isAgent = keys.includes('sources') || keys.includes('agent');
  const isCollector = keys.includes('outputs') || keys.includes('collector');
  if (isAgent && !isCollector) return 'agent';
  if (isCollector && !isAgent) return 'collector';
  throw new ConfigError(file, [
    { path: '', message: 'cannot tell whether this is an agent config (has `sources`) or a collector config (has `outputs`); pass --kind agent|collector' },
  ]);
}

/** Returns the error text to print, or undefined when the file is valid. */
export async function validateFile(file: string, kind?: ConfigKind): Promise<{ ok: true; kind: ConfigKind } | { ok: false; message: string }> {
  try {
    const document = parseYaml(await readConfigText(file), file);
    const resolvedKind = kind ?? detectKind(document, file);
    if (resolvedKind === 'agent') validateConfig(agentConfigSchema, document, file);
    else {
      const config = validateConfig(collectorConfigSchema, document, file);
      // Rule files are part of a collector's configuration: a collector would refuse to start with a bad one.
      if (config.alerting !== undefined) await loadRulesFiles(config.alerting.rules_files);
    }
    return { ok: true, kind: resolvedKind };
  } catch (error) {
    if (error instanceof TributaryError) return { ok: false, message: error.message };
    throw error;
  }
}
