import { validateAgentDocument } from '../agent/cli.js';
import { validateCollectorDocument } from '../collector/cli.js';
import { ConfigError, parseYaml, readConfigText } from '../shared/config/load.js';
import { TributaryError } from '../shared/errors.js';

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
    // Each tier checks its own config, with what it would check at start-up.
    if (resolvedKind === 'agent') validateAgentDocument(document, file);
    else await validateCollectorDocument(document, file);
    return { ok: true, kind: resolvedKind };
  } catch (error) {
    if (error instanceof TributaryError) return { ok: false, message: error.message };
    throw error;
  }
}
