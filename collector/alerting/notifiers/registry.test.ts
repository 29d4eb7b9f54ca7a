import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../shared/config/load.js';
import { componentRow, readme } from '../../../shared/test-support/component-docs.js';
import { collectorConfigSchema } from '../../config.js';
import { alertingSchema } from '../config.js';
import { alertNotifiers, alertNotifierSchema, createAlertNotifier } from './registry.js';
import { testDependencies } from './test-support.js';

const kafka = { brokers: ['127.0.0.1:1'] };
const outputs = { local: { type: 'file', path: '/tmp/tributary-notifier-registry-test.ndjson' } };

/** The least each registered type needs; a type added without an entry here fails the first test. */
const minimal: Record<string, Record<string, unknown>> = {
  alertmanager: { type: 'alertmanager', urls: ['http://127.0.0.1:1'] },
  webhook: { type: 'webhook', url: 'http://127.0.0.1:1/hook' },
};

function collectorWith(notifiers: Record<string, unknown>): unknown {
  return { kafka, outputs, alerting: { rules_files: ['/tmp/rules.yaml'], notifiers } };
}

describe('alert notifier registry', () => {
  it('every registered type has a description and validates and constructs from its minimal config', async () => {
    expect(Object.keys(minimal).sort()).toEqual([...alertNotifiers.types].sort());
    for (const type of alertNotifiers.types) {
      expect(alertNotifiers.get(type).description.length).toBeGreaterThan(10);
      const config = validateConfig(collectorConfigSchema, collectorWith({ n: minimal[type] }), 'collector.yaml', {});
      const entry = config.alerting?.notifiers.n;
      if (entry === undefined) throw new Error('validated config lost its notifier');
      expect(entry.type).toBe(type);
      const notifier = createAlertNotifier('n', entry, testDependencies('n'));
      expect(notifier.id).toBe('n');
      // Never started: stop() only settles what is queued and closes the idle client.
      await notifier.stop();
    }
  });

  it("validation uses each registered factory's own schema", () => {
    expect(alertNotifierSchema.options).toHaveLength(alertNotifiers.factories.length);
    alertNotifierSchema.options.forEach((schema, index) => expect(schema).toBe(alertNotifiers.factories[index]?.schema));
    expect(alertingSchema.shape.notifiers.unwrap().valueType).toBe(alertNotifierSchema);
  });

  it('an unknown notifier type fails validation on alerting.notifiers.<id>.type, naming the known types', () => {
    expect(() => validateConfig(collectorConfigSchema, collectorWith({ pager: { type: 'pagerduty' } }), 'collector.yaml', {})).toThrow(
      'collector.yaml: alerting.notifiers.pager.type: unknown notifier type "pagerduty"; known types are: alertmanager, webhook',
    );
    expect(() => validateConfig(collectorConfigSchema, collectorWith({ pager: { url: 'http://h/x' } }), 'collector.yaml', {})).toThrow(
      'collector.yaml: alerting.notifiers.pager.type: required key is missing (expected one of: alertmanager, webhook)',
    );
  });
});

describe('the README', () => {
  it('lists every notifier type with its description', async () => {
    const text = await readme();
    for (const { type, description } of alertNotifiers.describe()) expect(text).toMatch(componentRow('notifier', type, description));
  });
});
