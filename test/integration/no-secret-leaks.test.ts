import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../agent/config.js';
import { collectorConfigSchema } from '../../collector/config.js';
import { validateConfig } from '../../shared/config/load.js';
import { packageRoot } from '../../shared/paths.js';
import { PROCESS_NODE_FLAGS } from '../../shared/process/node-flags.js';
import { brokers, uniqueName } from '../helpers/kafka.js';
import { CLI, freePort, runCli, writeYaml } from '../helpers/processes.js';

/**
 * One canary string in every secret-bearing key the agent and collector schemas have (inline and in the files
 * `*_file` keys name), the processes run at `trace` (pino's most verbose level) against servers that refuse
 * connections, so start-up and failure paths log; `validate` runs on configs with the secret moved by typos.
 * The canary, and the base64 of every basic-auth pair holding it, must appear in no output: stdout, stderr,
 * /metrics, /healthz, /readyz, or a 401 body.
 *
 * There is no OAUTHBEARER key: Kafka SASL takes plain and SCRAM only, and both are covered here.
 */
const CANARY = `cnry${randomBytes(10).toString('hex')}`;
const USER = 'leakcheck';
const FORMS = [CANARY, Buffer.from(`${USER}:${CANARY}`).toString('base64'), Buffer.from(CANARY).toString('base64')];

function leaks(text: string): string[] {
  return FORMS.filter((form) => text.includes(form));
}

interface Output {
  code: number | null;
  stdout: string;
  stderr: string;
  /** What the telemetry endpoint answered while the process ran, by request. */
  responses: Record<string, string>;
}

/** Runs `tributary <command> --config <file>` for `runMs`, reads its telemetry endpoints, then SIGTERMs it. */
async function runFor(command: string, config: string, runMs: number, telemetry: { port: number; authorization: string }): Promise<Output> {
  const child = spawn(process.execPath, [...PROCESS_NODE_FLAGS, CLI, command, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise((resolve) => setTimeout(resolve, runMs));
  const responses: Record<string, string> = {};
  const base = `http://127.0.0.1:${telemetry.port}`;
  const read = async (name: string, path: string, authorization?: string) => {
    responses[name] = await fetch(`${base}${path}`, authorization === undefined ? {} : { headers: { authorization } }).then(
      async (response) => `${response.status}\n${[...response.headers].map(([key, value]) => `${key}: ${value}`).join('\n')}\n${await response.text()}`,
      (error: unknown) => `unreachable: ${String(error)}`,
    );
  };
  await read('metrics', '/metrics', telemetry.authorization);
  await read('metrics without credentials', '/metrics');
  await read('metrics with wrong credentials', '/metrics', `Bearer not-${CANARY.slice(4)}`);
  await read('healthz', '/healthz');
  await read('readyz', '/readyz');
  const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
  if (child.exitCode === null) child.kill('SIGTERM');
  const code = await exited;
  clearTimeout(kill);
  return { code, stdout, stderr, responses };
}

describe('no secret reaches logs, errors or metrics', () => {
  let dir: string;
  let refused: string;
  const secretFile = (name: string) => join(dir, `${name}.secret`);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-leaks-'));
    // A port nothing listens on: every client fails to connect, and logs why.
    refused = `127.0.0.1:${await freePort()}`;
    for (const name of ['password', 'token', 'credentials', 'api_key', 'delegation_token']) {
      await writeFile(secretFile(name), `${CANARY}\n`);
    }
    await mkdir(join(dir, 'logs'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const sasl = { mechanism: 'plain', username: USER, password: CANARY };

  function agentConfig(port: number) {
    const job = (name: string, auth: Record<string, unknown>) => ({
      job_name: name,
      scrape_interval: '1s',
      scrape_timeout: '500ms',
      static_configs: [{ targets: [refused] }],
      ...auth,
    });
    return {
      agent: { id: 'leak-check', data_dir: join(dir, 'agent-data') },
      kafka: { brokers: [refused], sasl, connection_timeout: '1s', request_timeout: '2s' },
      sources: {
        app: { type: 'file', include: [join(dir, 'logs', '*.log')] },
        scrape: {
          type: 'prometheus_scrape',
          scrape_configs: [
            job('basic', { basic_auth: { username: USER, password: CANARY } }),
            job('basic-file', { basic_auth: { username: USER, password_file: secretFile('password') } }),
            job('bearer', { authorization: { credentials: CANARY } }),
            job('bearer-file', { authorization: { credentials_file: secretFile('credentials') } }),
          ],
        },
      },
      telemetry: { port, log_level: 'trace', auth: { basic_auth: { username: USER, password: CANARY } } },
    };
  }

  /** Every secret-bearing output, by id; outputs start one after another, each retrying until it reaches its server. */
  function secretOutputs(): Record<string, Record<string, unknown>> {
    const url = `http://${refused}`;
    const es = (auth: Record<string, unknown>, endpoint = url) => ({ type: 'elasticsearch', endpoints: [endpoint], ...auth });
    return {
      es_basic: es({ auth: { basic: { username: USER, password: CANARY } } }),
      es_basic_file: es({ auth: { basic: { username: USER, password_file: secretFile('password') } } }),
      es_api_key: es({ auth: { api_key: CANARY } }),
      es_api_key_file: es({ auth: { api_key_file: secretFile('api_key') } }),
      es_url: es({}, `http://${USER}:${CANARY}@${refused}`),
      solr_basic: { type: 'solr', endpoints: [`${url}/solr`], auth: { basic: { username: USER, password: CANARY } } },
      solr_url: { type: 'solr', endpoints: [`http://${USER}:${CANARY}@${refused}/solr`] },
      hdfs_token: { type: 'hdfs', namenodes: [url], auth: { delegation_token: CANARY } },
      hdfs_token_file: { type: 'hdfs', namenodes: [url], auth: { delegation_token_file: secretFile('delegation_token') } },
    };
  }

  function collectorConfig(port: number, kafka: Record<string, unknown>, telemetryAuth: Record<string, unknown>, outputs: Record<string, unknown>) {
    const url = `http://${refused}`;
    return {
      collector: { group_id: uniqueName('leak-check') },
      kafka,
      input: { topics: [uniqueName('leak-raw')] },
      dead_letter: { topic: uniqueName('leak-dlq') },
      outputs,
      alerting: {
        rules_files: [join(packageRoot(), 'deploy', 'examples', 'rules', 'alerts.yaml')],
        alerts_topic: { topic: uniqueName('leak-alerts') },
        notifiers: {
          am_bearer: { type: 'alertmanager', urls: [url], bearer_token: CANARY },
          am_bearer_file: { type: 'alertmanager', urls: [url], bearer_token_file: secretFile('token') },
          am_url: { type: 'alertmanager', urls: [`http://${USER}:${CANARY}@${refused}`] },
          hook_basic: { type: 'webhook', url, basic_auth: { username: USER, password: CANARY }, headers: { 'X-Api-Key': CANARY } },
          hook_url: { type: 'webhook', url: `http://${USER}:${CANARY}@${refused}/hook?token=${CANARY}` },
        },
      },
      telemetry: { port, log_level: 'trace', auth: telemetryAuth },
    };
  }

  function expectNoLeak(output: Output): void {
    const where = Object.fromEntries(
      Object.entries({ stdout: output.stdout, stderr: output.stderr, ...output.responses }).map(([name, text]) => [name, leaks(text)]),
    );
    expect(where).toEqual(Object.fromEntries(Object.keys(where).map((name) => [name, []])));
  }

  it('the agent, at trace, with Kafka and every scrape target refusing', async () => {
    const port = await freePort();
    const config = agentConfig(port);
    // The config is valid: the process gets past validation to its failure paths.
    validateConfig(agentConfigSchema, config, 'agent.yaml');
    const output = await runFor('agent', await writeYaml(join(dir, 'agent.yaml'), config), 8_000, {
      port,
      authorization: `Basic ${Buffer.from(`${USER}:${CANARY}`).toString('base64')}`,
    });
    expectNoLeak(output);
    // It ran and logged its failures (so there was something to leak), and the authenticated scrape worked.
    // Nothing logs at trace today; debug lines (kafkajs') show the verbose levels are on.
    expect(output.stderr).toContain('"level":20');
    expect(output.stderr).toContain('Connection error: connect ECONNREFUSED');
    expect(output.stderr).toContain('"msg":"scrape failed; up = 0"');
    expect(output.responses.metrics).toMatch(/^200\n/);
    expect(output.responses['metrics without credentials']).toMatch(/^401\n/);
  });

  it('the collector, at trace, with SCRAM and a password_file against a refused broker', async () => {
    const port = await freePort();
    const config = collectorConfig(
      port,
      {
        brokers: [refused],
        sasl: { mechanism: 'scram-sha-512', username: USER, password_file: secretFile('password') },
        connection_timeout: '1s',
        request_timeout: '2s',
      },
      { bearer_token: CANARY },
      secretOutputs(),
    );
    validateConfig(collectorConfigSchema, config, 'collector.yaml');
    const output = await runFor('collector', await writeYaml(join(dir, 'collector-sasl.yaml'), config), 8_000, { port, authorization: `Bearer ${CANARY}` });
    expectNoLeak(output);
    expect(output.stderr).toContain('Connection error: connect ECONNREFUSED');
  });

  // One collector per output (with the notifiers beside a file output first), so each reaches its own failure path.
  it.each(['notifiers', 'es_basic', 'es_basic_file', 'es_api_key', 'es_api_key_file', 'es_url', 'solr_basic', 'solr_url', 'hdfs_token', 'hdfs_token_file'])(
    'the collector, at trace, with a real broker and %s refusing',
    async (id) => {
      const port = await freePort();
      await writeFile(secretFile('token'), `${CANARY}\n`);
      const outputs = id === 'notifiers' ? { archive: { type: 'file', path: join(dir, 'records.ndjson') } } : { [id]: secretOutputs()[id] };
      const config = collectorConfig(port, { brokers: brokers() }, { bearer_token_file: secretFile('token') }, outputs);
      validateConfig(collectorConfigSchema, config, 'collector.yaml');
      const output = await runFor('collector', await writeYaml(join(dir, `collector-${id}.yaml`), config), 5_000, { port, authorization: `Bearer ${CANARY}` });
      expectNoLeak(output);
      // Each reached its failure path, so the check had something to look at.
      if (id === 'notifiers') expect(output.stderr).toContain('"msg":"alerting started"');
      else
        expect(output.stderr).toMatch(
          new RegExp(
            `"output":"${id}","attempt":1,.*ECONNREFUSED.*"msg":"(Elasticsearch start-up checks failed|Solr start-up checks failed|HDFS not reachable at start-up); retrying"`,
          ),
        );
    },
  );

  /** `validate` on a YAML text; the agent's other keys are valid, so every problem comes from `secretPart`. */
  async function validateText(file: string, kind: 'agent' | 'collector', secretPart: string): Promise<{ code: number | null; output: string }> {
    const base =
      kind === 'agent'
        ? `agent:\n  id: leak\n  data_dir: ${join(dir, 'agent-data')}\nsources:\n  app:\n    type: file\n    include: ['/var/log/*.log']\n`
        : `collector:\n  group_id: leak\ninput:\n  topics: [raw]\noutputs:\n  archive:\n    type: file\n    path: ${join(dir, 'records.ndjson')}\n`;
    await writeFile(file, `${base}${secretPart}`);
    const result = await runCli(['validate', '--config', file, '--kind', kind]);
    return { code: result.code, output: `${result.stdout}\n${result.stderr}` };
  }

  const invalidConfigs: Array<[string, 'agent' | 'collector', string, string]> = [
    [
      'brace typo in the SASL password',
      'agent',
      `kafka:\n  brokers: ['127.0.0.1:9092']\n  sasl:\n    mechanism: plain\n    username: ${USER}\n    password: {${CANARY}}\n`,
      'kafka.sasl.password: Invalid input: expected string, received object',
    ],
    [
      'schema error next to the SASL password',
      'agent',
      `kafka:\n  brokers: ['127.0.0.1:9092']\n  sasl: { mechanism: plain, username: ${USER}, password: ${CANARY}, passwrd: x }\n`,
      'kafka.sasl.passwrd: unknown key (check the spelling; see the configuration reference in README.md)',
    ],
    [
      'a mistyped SASL mechanism beside the password',
      'agent',
      `kafka:\n  brokers: ['127.0.0.1:9092']\n  sasl: { mechanism: plian, username: ${USER}, password: ${CANARY} }\n`,
      "kafka.sasl.mechanism: Invalid discriminator value. Expected 'plain' | 'scram-sha-256' | 'scram-sha-512' | 'oauthbearer'",
    ],
    [
      'the password as a list',
      'agent',
      `kafka:\n  brokers: ['127.0.0.1:9092']\n  sasl: { mechanism: plain, username: ${USER}, password: [${CANARY}] }\n`,
      'kafka.sasl.password: Invalid input: expected string, received array',
    ],
    [
      'a YAML syntax error on the password line',
      'agent',
      `kafka:\n  brokers: ['127.0.0.1:9092']\n  sasl:\n    mechanism: plain\n    username: ${USER}\n    password: "${CANARY}\n`,
      '(top level): YAML syntax error: Missing closing "quote at line 14, column 1',
    ],
    [
      'a missing space after the password key',
      'agent',
      `kafka:\n  brokers: ['127.0.0.1:9092']\n  sasl:\n    mechanism: plain\n    username: ${USER}\n    password:${CANARY}\n`,
      '(top level): YAML syntax error: Implicit map keys need to be followed by map values at line 13, column 5',
    ],
    [
      'a nested mapping on the password line',
      'agent',
      `kafka:\n  brokers: ['127.0.0.1:9092']\n  sasl:\n    mechanism: plain\n    username: ${USER}\n    password: ${CANARY}: x\n`,
      '(top level): YAML syntax error: Nested mappings are not allowed in compact mappings at line 13, column 15',
    ],
    [
      'brace typo in the telemetry bearer token',
      'agent',
      `kafka:\n  brokers: ['127.0.0.1:9092']\ntelemetry:\n  auth:\n    bearer_token: {${CANARY}}\n`,
      'telemetry.auth.bearer_token: Invalid input: expected string, received object',
    ],
    [
      'telemetry password and password_file both set',
      'agent',
      `kafka:\n  brokers: ['127.0.0.1:9092']\ntelemetry:\n  auth:\n    basic_auth: { username: ${USER}, password: ${CANARY}, password_file: /run/x }\n`,
      'telemetry.auth.basic_auth: set exactly one of password or password_file',
    ],
    [
      'a secret left as a key (its `password:` forgotten)',
      'agent',
      `kafka:\n  brokers: ['127.0.0.1:9092']\n  sasl: { mechanism: plain, username: ${USER}, ${CANARY} }\n`,
      'kafka.sasl.<redacted>: unknown key (its name is not shown: it may be a secret that lost its key; check the spelling and the braces)',
    ],
    // These continue the base's last mapping (`sources` / `outputs`) before their own top-level keys.
    [
      'brace typo in a scrape password',
      'agent',
      `  s:\n    type: prometheus_scrape\n    scrape_configs:\n      - job_name: j\n        basic_auth: { username: ${USER}, password: {${CANARY}} }\n        static_configs: [{ targets: ['a:1'] }]\nkafka:\n  brokers: ['127.0.0.1:9092']\nmetrics_output:\n  topic: m\n`,
      'sources.s.scrape_configs[0].basic_auth.password: Invalid input: expected string, received object',
    ],
    [
      'brace typo in an Elasticsearch API key',
      'collector',
      `  es:\n    type: elasticsearch\n    endpoints: ['http://es:9200']\n    auth: { api_key: {${CANARY}} }\nkafka:\n  brokers: ['127.0.0.1:9092']\n`,
      'outputs.es.auth.api_key: Invalid input: expected string, received object',
    ],
    [
      'brace typo in a webhook header',
      'collector',
      `kafka:\n  brokers: ['127.0.0.1:9092']\nalerting:\n  rules_files: ['${join(packageRoot(), 'deploy', 'examples', 'rules', 'alerts.yaml')}']\n  notifiers:\n    hook: { type: webhook, url: 'http://hook:80', headers: { X-Api-Key: {${CANARY}} } }\n`,
      'alerting.notifiers.hook.headers.X-Api-Key: Invalid input: expected string, received object',
    ],
    [
      'a webhook URL with credentials that is not a URL',
      'collector',
      `kafka:\n  brokers: ['127.0.0.1:9092']\nalerting:\n  rules_files: ['${join(packageRoot(), 'deploy', 'examples', 'rules', 'alerts.yaml')}']\n  notifiers:\n    hook: { type: webhook, url: 'http//${USER}:${CANARY}@hook' }\n`,
      'alerting.notifiers.hook.url: expected a URL such as https://hooks.example/tributary',
    ],
  ];

  it.each(invalidConfigs)('validate with %s prints no secret', async (name, kind, secretPart, problem) => {
    const file = join(dir, `${name.replace(/\W+/g, '-')}.yaml`);
    const { code, output } = await validateText(file, kind, secretPart);
    expect(leaks(output)).toEqual([]);
    expect(code).toBe(1);
    expect(output).toContain(`${file}: ${problem}`);
  });
});
