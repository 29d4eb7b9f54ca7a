import { loadConfigFile, validateConfig } from '../shared/config/load.js';
import { installProcessGuards } from '../shared/process/process-guard.js';
import { runUntilSignalled } from '../shared/process/run-process.js';
import { createLogger } from '../shared/telemetry/logger.js';
import { Agent } from './agent.js';
import { agentConfigSchema } from './config.js';

/** `tributary agent --config FILE`: runs an agent until SIGTERM/SIGINT, then drains it. */
export async function runAgentCommand(file: string): Promise<number> {
  const config = await loadConfigFile(agentConfigSchema, file);
  const logger = createLogger('tributary-agent', config.telemetry.log_level);
  const agent = new Agent(config, logger);
  installProcessGuards(agent, logger);
  return runUntilSignalled(agent, logger, config.agent.shutdown_timeout);
}

/** What `tributary validate` checks of an agent config: the document against the schema the agent starts with. */
export function validateAgentDocument(document: unknown, file: string): void {
  validateConfig(agentConfigSchema, document, file);
}
